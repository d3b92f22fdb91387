// A stage's state between steps (the image it would be so far) and the instructions that only
// change its config. Pure: values arrive already expanded through the `Expand` the builder gives.
import { invalid } from '../core/errors.ts';
import type { Descriptor, ImageConfig, RunConfig } from '../core/types.ts';
import { parseDuration } from '../core/units.ts';
import { sha256 } from '../content/store.ts';
import type { Command, Heredoc, Instruction } from './types.ts';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** BuildKit marks every history entry a Dockerfile made with this comment. */
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

export interface StageState {
  config: ImageConfig;
  /** Manifest layer descriptors, parallel to config.rootfs.diff_ids. */
  layers: Descriptor[];
  layerSizes: number[];
  /** The cache chain: the base's id, then a hash over each step on top. */
  key: string;
  /** The chain key of each history entry ('' where unknown): kept in the image for --cache-from. */
  keys?: string[];
}

/** Where a built image keeps its steps' chain keys (a config field other tools ignore). */
export const CACHE_KEYS_FIELD = 'berth.build.cache';

/** The id the state would have as an image: the digest of its config. */
export function stateId(s: StageState): string {
  return sha256(JSON.stringify(s.config));
}

export interface Expand {
  word(raw: string): string;
  words(raw: string): string[];
  /** A COPY/ADD heredoc's file content (expanded as BuildKit does, unless its delimiter was quoted). */
  heredoc(h: Heredoc): string;
}

export function runConfig(s: StageState): RunConfig {
  return s.config.config ?? {};
}

/** The state after a step: config changed, a history entry added, perhaps a layer. */
export function advance(s: StageState, p: { key: string; runConfig?: RunConfig; createdBy: string; created?: string; layer?: { descriptor: Descriptor; size: number } }): StageState {
  const created = p.created ?? new Date().toISOString();
  const config: ImageConfig = {
    ...s.config,
    created,
    config: p.runConfig ?? s.config.config,
    rootfs: { type: 'layers', diff_ids: p.layer ? [...s.config.rootfs.diff_ids, p.layer.descriptor.digest] : s.config.rootfs.diff_ids },
    history: [...(s.config.history ?? []), { created, created_by: p.createdBy, comment: HISTORY_COMMENT, ...(p.layer ? {} : { empty_layer: true }) }],
  };
  return {
    config,
    layers: p.layer ? [...s.layers, p.layer.descriptor] : s.layers,
    layerSizes: p.layer ? [...s.layerSizes, p.layer.size] : s.layerSizes,
    key: p.key,
    keys: [...historyKeys(s), p.key],
  };
}

/** The state's history keys, padded with '' for entries whose keys are not known. */
export function historyKeys(s: StageState): string[] {
  const n = s.config.history?.length ?? 0;
  const k = s.keys ?? [];
  return k.length === n ? k : [...Array(Math.max(0, n - k.length)).fill(''), ...k].slice(-n || n);
}

/** A command as the image config stores it: exec form as is, shell form through the stage's shell. */
export function commandArgs(c: Command, shell: string[]): string[] {
  return c.form === 'exec' ? c.args : [...shell, c.text];
}

function setEnv(env: string[], k: string, v: string): string[] {
  const out = env.filter((e) => e.split('=', 1)[0] !== k);
  const i = env.findIndex((e) => e.split('=', 1)[0] === k);
  const entry = `${k}=${v}`;
  if (i < 0) return [...out, entry];
  const copy = [...env];
  copy[i] = entry;
  return copy;
}

/** The environment as a map (for expansion: ENV over ARG). */
export function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

const durationNs = (raw: string | undefined, x: Expand, what: string) => {
  if (raw === undefined) return undefined;
  const v = x.word(raw);
  try {
    return parseDuration(v);
  } catch {
    throw invalid(`HEALTHCHECK: invalid ${what} "${v}"`);
  }
};

/**
 * A config-only instruction applied to the run config; returns the new config and the history
 * text (BuildKit's forms: `ENV A=b`, `CMD ["sh"]`, `WORKDIR /app`, `EXPOSE map[80/tcp:{}]`).
 */
export function applyConfig(cfg: RunConfig, ins: Instruction, x: Expand): { cfg: RunConfig; createdBy: string } {
  const shell = cfg.Shell ?? DEFAULT_SHELL;
  switch (ins.kind) {
    case 'ENV': {
      let env = cfg.Env ?? [];
      const parts: string[] = [];
      for (const [k, raw] of ins.pairs) {
        const v = x.word(raw);
        env = setEnv(env, k, v);
        parts.push(`${k}=${v}`);
      }
      return { cfg: { ...cfg, Env: env }, createdBy: `ENV ${parts.join(' ')}` };
    }
    case 'LABEL': {
      const labels = { ...(cfg.Labels ?? {}) };
      const parts: string[] = [];
      for (const [k, raw] of ins.pairs) {
        const key = x.word(k);
        labels[key] = x.word(raw);
        parts.push(`${key}=${labels[key]}`);
      }
      return { cfg: { ...cfg, Labels: labels }, createdBy: `LABEL ${parts.join(' ')}` };
    }
    case 'CMD':
    case 'ENTRYPOINT': {
      const args = commandArgs(ins.command, shell);
      const createdBy = `${ins.kind} ${JSON.stringify(args)}`;
      // docker: a new ENTRYPOINT drops the CMD inherited from the base image.
      if (ins.kind === 'ENTRYPOINT') return { cfg: { ...cfg, Entrypoint: args, Cmd: null }, createdBy };
      return { cfg: { ...cfg, Cmd: args }, createdBy };
    }
    case 'WORKDIR': {
      const v = x.word(ins.value);
      const dir = v.startsWith('/') ? v : `${cfg.WorkingDir || '/'}/${v}`;
      return { cfg: { ...cfg, WorkingDir: normalizePath(dir) }, createdBy: `WORKDIR ${v}` };
    }
    case 'USER': {
      const v = x.word(ins.value);
      return { cfg: { ...cfg, User: v }, createdBy: `USER ${v}` };
    }
    case 'STOPSIGNAL': {
      const v = x.word(ins.value);
      return { cfg: { ...cfg, StopSignal: v }, createdBy: `STOPSIGNAL ${v}` };
    }
    case 'MAINTAINER':
      return { cfg, createdBy: `MAINTAINER ${ins.value}` };
    case 'EXPOSE': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const raw of ins.values) {
        for (const p of x.words(raw)) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!m) throw invalid(`invalid containerPort: ${p}`);
          const proto = (m[3] ?? 'tcp').toLowerCase();
          for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) ports[`${n}/${proto}`] = {};
        }
      }
      return { cfg: { ...cfg, ExposedPorts: ports }, createdBy: `EXPOSE map[${Object.keys(ports).sort().map((k) => `${k}:{}`).join(' ')}]` };
    }
    case 'VOLUME': {
      const vols = { ...(cfg.Volumes ?? {}) };
      const added: string[] = [];
      for (const raw of ins.values) for (const v of x.words(raw)) {
        if (!v) throw invalid('VOLUME specified can not be an empty string');
        vols[v] = {};
        added.push(v);
      }
      return { cfg: { ...cfg, Volumes: vols }, createdBy: `VOLUME [${added.join(' ')}]` };
    }
    case 'SHELL':
      if (!ins.args.length) throw invalid('SHELL requires at least one argument');
      return { cfg: { ...cfg, Shell: ins.args }, createdBy: `SHELL ${JSON.stringify(ins.args)}` };
    case 'HEALTHCHECK': {
      if (!ins.check) return { cfg: { ...cfg, Healthcheck: { Test: ['NONE'] } }, createdBy: 'HEALTHCHECK NONE' };
      const c = ins.check;
      const test = c.command.form === 'exec' ? ['CMD', ...c.command.args] : ['CMD-SHELL', c.command.text];
      const retries = c.retries === undefined ? undefined : Number(x.word(c.retries));
      if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) throw invalid(`HEALTHCHECK: invalid retries "${c.retries}"`);
      const hc: NonNullable<RunConfig['Healthcheck']> = {
        Test: test,
        ...(c.interval ? { Interval: durationNs(c.interval, x, 'interval') } : {}),
        ...(c.timeout ? { Timeout: durationNs(c.timeout, x, 'timeout') } : {}),
        ...(c.startPeriod ? { StartPeriod: durationNs(c.startPeriod, x, 'start period') } : {}),
        ...(retries !== undefined ? { Retries: retries } : {}),
      };
      return { cfg: { ...cfg, Healthcheck: hc }, createdBy: `HEALTHCHECK &{${JSON.stringify(test)}}` };
    }
    case 'ONBUILD':
      return { cfg: { ...cfg, OnBuild: [...(cfg.OnBuild ?? []), ins.expression] }, createdBy: `ONBUILD ${ins.expression}` };
    default:
      throw invalid(`${ins.kind} is not a config instruction`);
  }
}

/** An absolute path cleaned of `.`, `..` (never above /) and repeated slashes. */
export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (!c || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}
