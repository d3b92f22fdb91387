// docker's --change / `changes=`: Dockerfile instructions applied to an image's run config
// (import and commit, from the CLI and the API).
import { invalid } from '../core/errors.ts';
import type { RunConfig } from '../core/types.ts';

/** `--change` takes Dockerfile instructions: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL, EXPOSE, VOLUME, ONBUILD (docker's list for commit and import). */
export function applyChange(cfg: RunConfig, change: string): RunConfig {
  const m = /^\s*(\w+)\s+(.*)$/s.exec(change);
  if (!m) throw invalid(`invalid --change "${change}"`);
  const [, instr, rest] = m;
  const list = (): string[] => {
    if (rest.trim().startsWith('[')) {
      try {
        const v = JSON.parse(rest);
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
      } catch {}
    }
    return ['/bin/sh', '-c', rest];
  };
  switch (instr.toUpperCase()) {
    case 'CMD': return { ...cfg, Cmd: list() };
    case 'ENTRYPOINT': return { ...cfg, Entrypoint: list() };
    case 'WORKDIR': return { ...cfg, WorkingDir: rest.trim() };
    case 'USER': return { ...cfg, User: rest.trim() };
    case 'STOPSIGNAL': return { ...cfg, StopSignal: rest.trim() };
    case 'ENV': {
      const kv = rest.includes('=') ? rest.trim().split(/\s+/) : [rest.trim().replace(/\s+/, '=')];
      const env = [...(cfg.Env ?? [])];
      for (const e of kv) {
        const k = e.split('=', 1)[0];
        const i = env.findIndex((x) => x.split('=', 1)[0] === k);
        if (i >= 0) env[i] = e;
        else env.push(e);
      }
      return { ...cfg, Env: env };
    }
    case 'LABEL': {
      const labels = { ...(cfg.Labels ?? {}) };
      for (const kv of rest.trim().split(/\s+/)) {
        const [k, ...v] = kv.split('=');
        labels[k] = v.join('=').replace(/^"(.*)"$/, '$1');
      }
      return { ...cfg, Labels: labels };
    }
    case 'EXPOSE': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of rest.trim().split(/\s+/)) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`invalid containerPort: ${p}`);
        ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      return { ...cfg, ExposedPorts: ports };
    }
    case 'VOLUME': {
      const t = rest.trim();
      let paths = t.split(/\s+/);
      if (t.startsWith('[')) {
        const v = JSON.parse(t) as unknown;
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(`invalid VOLUME "${t}"`);
        paths = v;
      }
      return { ...cfg, Volumes: { ...(cfg.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) } };
    }
    case 'ONBUILD': return { ...cfg, OnBuild: [...(cfg.OnBuild ?? []), rest.trim()] };
    default:
      throw invalid(`${instr} is not a valid change command`);
  }
}

/** Several changes in order, over an empty config: what commit merges over the container's. */
export function parseChanges(changes: string[]): RunConfig {
  return changes.reduce<RunConfig>((cfg, c) => applyChange(cfg, c), {});
}
