// `compose watch`'s rules (a service's develop.watch, as the Compose Specification's develop
// section and docker compose v2 define them) and what a batch of changed host paths asks for:
// files to copy into (or delete from) the service's containers, a restart, a command to run,
// or a rebuild. Pure: the caller watches the files, reads .dockerignore, and acts.
import * as path from 'node:path';
import { ignoreMatcher, parseIgnore, type IgnoreMatcher } from '../build/ignore.ts';
import { invalid } from '../core/errors.ts';
import type { Project } from './types.ts';

export type WatchAction = 'sync' | 'rebuild' | 'restart' | 'sync+restart' | 'sync+exec';
const ACTIONS: readonly WatchAction[] = ['sync', 'rebuild', 'restart', 'sync+restart', 'sync+exec'];

export interface WatchExec {
  command: string[];
  user?: string;
  working_dir?: string;
  environment?: Record<string, string>;
}

export interface WatchRule {
  service: string;
  /** Absolute host path: a directory (watched recursively) or one file. */
  path: string;
  action: WatchAction;
  /** Where `path` is in the container (the sync actions). */
  target?: string;
  /** The rule's ignore patterns, relative to `path`. */
  ignore: IgnoreMatcher;
  /** The build context's .dockerignore, relative to the context, when `path` is inside it. */
  contextIgnore?: { dir: string; matcher: IgnoreMatcher };
  initialSync: boolean;
  exec?: WatchExec;
}

/** Files editors write beside the real ones, and VCS metadata: never synced (as compose). */
const EDITOR_FILES = ignoreMatcher(['**/.git', '**/*.swp', '**/*.swx', '**/*~', '**/.#*', '**/#*#', '**/4913', '**/*___jb_tmp___', '**/*___jb_old___', '**/.DS_Store']);

/**
 * The rules of the services named (all with a develop.watch when none are), checked.
 * `dockerignore(dir)` gives the text of a build context's .dockerignore, if it has one.
 */
export function watchRules(p: Project, services: string[], dockerignore: (dir: string) => string | undefined): WatchRule[] {
  const names = services.length ? services : Object.keys(p.services);
  for (const n of names) if (!p.services[n]) throw invalid(`no such service: ${n}`);
  const rules: WatchRule[] = [];
  for (const name of names) {
    const s = p.services[name];
    const develop = s.develop as { watch?: Array<Record<string, unknown>> } | undefined;
    for (const [i, w] of (develop?.watch ?? []).entries()) {
      const where = `service "${name}": develop.watch[${i}]`;
      const action = w.action as WatchAction;
      if (!ACTIONS.includes(action)) throw invalid(`${where}: unknown action "${String(w.action)}" (${ACTIONS.join(', ')})`);
      if (typeof w.path !== 'string' || !w.path) throw invalid(`${where}: path is required`);
      const target = w.target as string | undefined;
      if (action.startsWith('sync') && !target) throw invalid(`${where}: action ${action} needs a target (where path goes in the container)`);
      if (target !== undefined && !target.startsWith('/')) throw invalid(`${where}: target ${target} must be an absolute path in the container`);
      if (action === 'rebuild' && !s.build) throw invalid(`${where}: action rebuild needs a build section (service "${name}" has only an image)`);
      const rule: WatchRule = {
        service: name, path: path.resolve(p.workingDir, w.path), action, target: target && path.posix.normalize(target),
        ignore: ignoreMatcher(([] as unknown[]).concat(w.ignore ?? []).map(String)), initialSync: w.initial_sync === true || w.initial_sync === 'true',
      };
      if (action === 'sync+exec') {
        const x = w.exec as Record<string, unknown> | undefined;
        const command = x?.command;
        if (!command) throw invalid(`${where}: action sync+exec needs exec.command`);
        rule.exec = {
          command: typeof command === 'string' ? ['/bin/sh', '-c', command] : (command as unknown[]).map(String),
          user: x!.user as string | undefined, working_dir: x!.working_dir as string | undefined,
          environment: Array.isArray(x!.environment)
            ? Object.fromEntries((x!.environment as string[]).map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]))
            : (x!.environment as Record<string, string> | undefined),
        };
      }
      const context = s.build?.context;
      if (context && inside(rule.path, context)) {
        const text = dockerignore(context);
        if (text !== undefined) rule.contextIgnore = { dir: context, matcher: parseIgnore(text) };
      }
      rules.push(rule);
    }
  }
  if (!rules.length) throw invalid('none of the selected services is configured for watch, consider setting a \'develop\' section');
  return rules;
}

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');
}

/** Whether a rule applies to a changed host path (inside its path, not ignored). */
export function applies(rule: WatchRule, abs: string): boolean {
  if (!inside(abs, rule.path)) return false;
  const rel = path.relative(rule.path, abs).split(path.sep).join('/');
  if (rel && (rule.ignore.matches(rel) || EDITOR_FILES.matches(rel))) return false;
  if (!rel && EDITOR_FILES.matches(path.basename(abs))) return false;
  if (rule.contextIgnore) {
    const relCtx = path.relative(rule.contextIgnore.dir, abs).split(path.sep).join('/');
    if (relCtx && rule.contextIgnore.matcher.matches(relCtx)) return false;
  }
  return true;
}

/** The container path of a host path a sync rule covers. */
export function containerPath(rule: WatchRule, abs: string): string {
  const rel = path.relative(rule.path, abs).split(path.sep).join('/');
  return rel ? path.posix.join(rule.target!, rel) : rule.target!;
}

/** What one service needs after a batch of changes. */
export interface ServiceChanges {
  /** Host path to container path, for each changed path a sync rule covers (present or deleted). */
  syncs: Map<string, string>;
  rebuild: boolean;
  restart: boolean;
  execs: WatchExec[];
  /** How many changed paths the service's rules took. */
  count: number;
}

/** Groups changed host paths by service and action. */
export function planChanges(rules: WatchRule[], changed: Iterable<string>): Map<string, ServiceChanges> {
  const out = new Map<string, ServiceChanges>();
  for (const abs of changed) {
    const counted = new Set<string>();
    for (const rule of rules) {
      if (!applies(rule, abs)) continue;
      let c = out.get(rule.service);
      if (!c) out.set(rule.service, (c = { syncs: new Map(), rebuild: false, restart: false, execs: [], count: 0 }));
      if (!counted.has(rule.service)) (counted.add(rule.service), c.count++);
      if (rule.action === 'rebuild') c.rebuild = true;
      if (rule.action === 'restart' || rule.action === 'sync+restart') c.restart = true;
      if (rule.action.startsWith('sync')) c.syncs.set(abs, containerPath(rule, abs));
      if (rule.exec && !c.execs.includes(rule.exec)) c.execs.push(rule.exec);
    }
  }
  // A rebuild makes new containers from the new image: nothing to copy or restart first.
  for (const c of out.values()) if (c.rebuild) (c.syncs.clear(), (c.restart = false), (c.execs = []));
  return out;
}
