// docker's image inspect shape (the CLI's `image inspect` and the API's /images/{name}/json).
import type { ImageRecord } from '../core/types.ts';
import { familiarReference, familiarRepository, parseReference } from './reference.ts';

const EMPTY_CONFIG = { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };

/** docker's image inspect shape. */
export function inspectImage(rec: ImageRecord, names: string[]): object {
  const cfg = rec.config.config ?? {};
  return {
    Id: rec.id,
    RepoTags: names.map((n) => {
      const r = parseReference(n);
      return `${familiarRepository(r)}:${r.tag}`;
    }),
    RepoDigests: (rec.repoDigests ?? []).map((d) => familiarReference(parseReference(d))),
    Parent: rec.parent ?? '',
    Comment: rec.config.history?.at(-1)?.comment ?? '',
    Created: rec.created,
    DockerVersion: '',
    Author: rec.config.author ?? '',
    Config: { ...EMPTY_CONFIG, ...cfg },
    // The config of the container an image was committed from: docker dropped it in API 1.45,
    // but older clients read it (docker-compose 1.29 looks up its Volumes when it recreates).
    ContainerConfig: EMPTY_CONFIG,
    Architecture: rec.config.architecture,
    Os: rec.config.os,
    Size: rec.size,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: rec.layers },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
