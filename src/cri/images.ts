// The CRI's ImageService over berth's image store, the one the Docker API and the CLI use: an
// image pulled through either is there for the other. Answers follow containerd's CRI plugin:
// an image's id is its config digest ("sha256:..."), which PullImage answers as image_ref; tags
// and digests are fully qualified ("docker.io/library/busybox:latest"); a missing image is an
// empty ImageStatus and a successful RemoveImage, never an error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../content/store.ts';
import { BerthError, invalid, isCode } from '../core/errors.ts';
import type { ImageRecord } from '../core/types.ts';
import type { Engine } from '../engine/engine.ts';
import { formatReference, parseReference } from '../image/reference.ts';
import type { Credentials } from '../registry/credentials.ts';
import type { CriContext, Handlers } from './context.ts';
import type { AuthConfig, FilesystemUsage, Image, ImageSpec, ListImagesRequest, PullImageRequest, RemoveImageRequest, Reply, ImageStatusRequest } from './types.ts';

export function handlers(ctx: CriContext): Handlers {
  const { engine } = ctx;
  return {
    ListImages: (req: ListImagesRequest) => ({ images: listImages(engine, req.filter?.image?.image ?? '') }),
    ImageStatus: (req: ImageStatusRequest) => imageStatus(engine, requireSpec(req.image), req.verbose),
    PullImage: (req: PullImageRequest) => pullImage(engine, requireSpec(req.image), req.auth),
    RemoveImage: (req: RemoveImageRequest) => removeImage(engine, requireSpec(req.image)),
    ImageFsInfo: () => ({ image_filesystems: [imageFsUsage(engine)] }),
  };
}

function requireSpec(spec: ImageSpec | null): string {
  const name = spec?.image ?? '';
  if (!name) throw invalid('no image specified (ImageSpec.image is empty)');
  return name;
}

/** The image a CRI name means: a tag, a digest reference, a full id or a unique id prefix; undefined when absent. */
export function findImage(engine: Engine, name: string): ImageRecord | undefined {
  try {
    return engine.images.resolve(name);
  } catch (err) {
    // A name that cannot even be parsed names no image (containerd answers it the same way).
    if (isCode(err, 'NotFound') || isCode(err, 'InvalidArgument')) return undefined;
    throw err;
  }
}

function listImages(engine: Engine, filter: string): Reply<Image>[] {
  const wanted = filter ? findImage(engine, filter)?.id : undefined;
  if (filter && !wanted) return [];
  return engine.images
    .list()
    .filter((s) => !wanted || s.record.id === wanted)
    .map((s) => toCriImage(s.record, s.names));
}

/** An image as the CRI shows it. `tags`: the canonical names pointing at it. */
export function toCriImage(rec: ImageRecord, tags: string[]): Reply<Image> {
  const user = imageUser(rec.config.config?.User ?? '');
  return {
    id: rec.id,
    repo_tags: [...tags].sort(),
    repo_digests: [...(rec.repoDigests ?? [])].sort(),
    // The bytes the image takes here (its layers, stored uncompressed), as `berth images` shows;
    // never 0, which the protocol forbids: an image without layers still has its config.
    size: Math.max(rec.size, 1),
    uid: user.uid === undefined ? null : { value: user.uid },
    username: user.username,
    spec: null, // as containerd 1.6 (the image's annotations are not kept)
    pinned: false,
  };
}

/**
 * The image's default user as the CRI reports it: a numeric user (with or without a group) as
 * uid, a name as username; neither when the image names no user.
 */
export function imageUser(user: string): { uid?: number; username: string } {
  const name = user.split(':')[0];
  if (!name) return { username: '' };
  if (/^\d+$/.test(name)) return { uid: Number(name), username: '' };
  return { username: name };
}

function namesOf(engine: Engine, id: string): string[] {
  return engine.images.list().find((s) => s.record.id === id)?.names ?? [];
}

function imageStatus(engine: Engine, name: string, verbose: boolean): object {
  const rec = findImage(engine, name);
  if (!rec) return { image: null, info: {} };
  const image = toCriImage(rec, namesOf(engine, rec.id));
  if (!verbose) return { image, info: {} };
  // containerd's "info" (chainID, imageSpec: the OCI configuration), with berth's record besides.
  const info = { chainID: chainId(rec.layers), imageSpec: rec.config, id: rec.id, manifestDigest: rec.manifest, layers: rec.layers, layerSizes: rec.layerSizes, created: rec.created };
  return { image, info: { info: JSON.stringify(info) } };
}

/** The OCI chain id of a stack of layers (diff ids, bottom first): what identifies the root file system. */
export function chainId(diffIds: string[]): string {
  return diffIds.reduce((chain, d) => (chain ? sha256(`${chain} ${d}`) : d), '');
}

/** The request's credentials for this pull only (none given: those `berth login` keeps, if any). */
export function pullCredentials(auth: AuthConfig | null): Credentials | undefined {
  if (!auth) return undefined;
  let { username, password } = auth;
  if (auth.auth && !username && !password) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalid('invalid AuthConfig.auth: not base64 of "username:password"');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (auth.identity_token) return { username: username || '<token>', password: '', identityToken: auth.identity_token };
  if (auth.registry_token) return { username: username || '', password: '', registryToken: auth.registry_token };
  if (!username && !password) return undefined;
  return { username, password };
}

async function pullImage(engine: Engine, name: string, auth: AuthConfig | null): Promise<object> {
  let ref;
  try {
    ref = parseReference(name);
  } catch (err) {
    throw invalid(`failed to pull image "${name}": ${(err as Error).message}`, err);
  }
  try {
    const r = await engine.pull(formatReference(ref), { credentials: pullCredentials(auth) });
    return { image_ref: r.image.id };
  } catch (err) {
    // containerd's wording, with the registry's reason; the code stays the engine's.
    if (err instanceof BerthError) throw new BerthError(err.code, `failed to pull and unpack image "${formatReference(ref)}": ${err.message}`, { cause: err });
    throw err;
  }
}

function removeImage(engine: Engine, name: string): object {
  const rec = findImage(engine, name);
  if (!rec) return {}; // already gone: RemoveImage is idempotent
  const users = engine.containers.imageUsers();
  // The image goes with every name it has, whichever name was given (as containerd). When a
  // container still uses it, its names go and the record stays for that container (berth starts
  // a container from its image record), which is what the kubelet sees as the image removed.
  engine.images.remove(rec.id, { force: true, inUse: (id) => {
    const u = users(id);
    return u && { id: u.id, running: false };
  } });
  return {};
}

/**
 * The image store's file system use: the layers (mountpoint: the layer store) and the content
 * blobs (manifests, configs, compressed layers) under the state root, by blocks and inodes.
 */
function imageFsUsage(engine: Engine): Reply<FilesystemUsage> {
  const layersDir = engine.images.layers.root;
  let bytes = 0;
  const inodes = new Set<string>();
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      const key = `${st.dev}:${st.ino}`;
      if (!inodes.has(key)) {
        inodes.add(key);
        bytes += st.blocks * 512;
      }
      if (e.isDirectory()) walk(p);
    }
  };
  walk(layersDir);
  walk(path.join(engine.root.dir, 'content'));
  return {
    timestamp: String(BigInt(Date.now()) * 1_000_000n),
    fs_id: { mountpoint: layersDir },
    used_bytes: { value: bytes },
    inodes_used: { value: inodes.size },
  };
}
