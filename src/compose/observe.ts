// What of a project exists now: its containers (by their compose labels, whoever made them),
// networks and volumes. The planner compares this with the project file.
import type { ContainerRecord, ContainerState } from '../core/container.ts';
import type { Engine } from '../engine/engine.ts';
import { LABEL } from './labels.ts';

export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  hash: string;
  record: ContainerRecord;
  state: ContainerState;
}

/** Events of a compose operation, for the CLI to render (`Container shop-web-1  Started`). */
export interface ComposeEvent {
  kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service';
  name: string;
  status: string;
  /** Set when the step is done (compose shows a check mark); otherwise in progress. */
  done?: boolean;
  error?: boolean;
}

export type EventSink = (e: ComposeEvent) => void;

/** The project's containers (one-off `run` containers only when asked), by service and number. */
export function projectContainers(engine: Engine, project: string, opts: { oneoff?: boolean; services?: string[] } = {}): ProjectContainer[] {
  const out: ProjectContainer[] = [];
  for (const c of engine.containers.list(true)) {
    const l = c.record.Config.Labels ?? {};
    if (l[LABEL.project] !== project) continue;
    const oneoff = l[LABEL.oneoff] === 'True';
    if (oneoff && !opts.oneoff) continue;
    const service = l[LABEL.service] ?? '';
    if (opts.services?.length && !opts.services.includes(service)) continue;
    out.push({ id: c.record.Id, name: c.record.Name, service, number: Number(l[LABEL.number] ?? 0), oneoff, hash: l[LABEL.hash] ?? '', record: c.record, state: c.state });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
}

/** Names of compose projects with anything here (ls), with their containers' states. */
export function projects(engine: Engine): Map<string, { states: string[]; files: string }> {
  const out = new Map<string, { states: string[]; files: string }>();
  for (const c of engine.containers.list(true)) {
    const l = c.record.Config.Labels ?? {};
    const p = l[LABEL.project];
    if (!p) continue;
    const e = out.get(p) ?? { states: [], files: l[LABEL.configFiles] ?? '' };
    e.states.push(c.state.Status);
    out.set(p, e);
  }
  return out;
}
