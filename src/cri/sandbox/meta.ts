// Where the CRI's own facts about a pod or a container live: labels on the berth container,
// prefixed `io.berth.cri.`, so a daemon started after a kill -9 reads them back from the engine's
// records (nothing is kept in the daemon's memory). CRI answers show only the labels and
// annotations the kubelet gave; these are hidden.
import type { ContainerRecord } from '../../core/container.ts';
import { fnv64 } from '../../util/hash.ts';

export const PREFIX = 'io.berth.cri.';
export const KIND = 'io.berth.cri.kind';
export const SANDBOX = 'io.berth.cri.sandbox';
const META = 'io.berth.cri.metadata';
const LABELS = 'io.berth.cri.labels';
const ANNOTATIONS = 'io.berth.cri.annotations';
/** Facts a status needs later (log directory or path, namespace options, the image as asked...). */
const EXTRA = 'io.berth.cri.extra';

export type Kind = 'sandbox' | 'container';

export interface SandboxExtra {
  logDirectory: string;
  runtimeHandler: string;
  namespaces: { network: string; pid: string; ipc: string; target_id: string };
  hostNetwork: boolean;
}

export interface ContainerExtra {
  logPath: string;
  image: string;
  mounts: object[];
}

/** The labels a CRI object's berth container carries: the given ones plus ours. */
export function criLabels(kind: Kind, p: { metadata: object; labels?: Record<string, string>; annotations?: Record<string, string>; extra: object; sandbox?: string }): Record<string, string> {
  return {
    ...p.labels,
    [KIND]: kind,
    ...(p.sandbox ? { [SANDBOX]: p.sandbox } : {}),
    [META]: JSON.stringify(p.metadata),
    [LABELS]: JSON.stringify(p.labels ?? {}),
    [ANNOTATIONS]: JSON.stringify(p.annotations ?? {}),
    [EXTRA]: JSON.stringify(p.extra),
  };
}

function json<T>(labels: Record<string, string> | null | undefined, key: string, fallback: T): T {
  try {
    return labels?.[key] ? (JSON.parse(labels[key]) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function kindOf(r: ContainerRecord): Kind | undefined {
  const k = r.Config.Labels?.[KIND];
  return k === 'sandbox' || k === 'container' ? k : undefined;
}

export function sandboxOf(r: ContainerRecord): string {
  return r.Config.Labels?.[SANDBOX] ?? '';
}

export function metadataOf<T extends object>(r: ContainerRecord): T {
  return json(r.Config.Labels, META, {} as T);
}

/** The labels as the kubelet gave them (the image's own labels are merged into the record's). */
export function givenLabels(r: ContainerRecord): Record<string, string> {
  return json(r.Config.Labels, LABELS, {});
}

export function annotationsOf(r: ContainerRecord): Record<string, string> {
  return json(r.Config.Labels, ANNOTATIONS, {});
}

export function extraOf<T extends object>(r: ContainerRecord): Partial<T> {
  return json(r.Config.Labels, EXTRA, {} as Partial<T>);
}

/** The engine's longest name (engine/names.ts). */
const MAX_NAME = 253;

/**
 * A name the engine takes: one too long keeps its start and ends with a hash of the whole, so
 * two configs that differ only past the cut still get different names, and the same config
 * always the same (a second create of it is refused as the name's).
 */
export function fitName(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 17)}_${fnv64(name)}`;
}

/** dockershim's names: the kubelet's reconcile and humans reading `berth ps` both know them. */
export function sandboxName(m: { name: string; namespace: string; uid: string; attempt: number }): string {
  return fitName(['k8s', 'POD', m.name, m.namespace, m.uid, String(m.attempt ?? 0)].join('_'));
}

export function containerName(c: { name: string; attempt: number }, pod: { name: string; namespace: string; uid: string }): string {
  return fitName(['k8s', c.name, pod.name, pod.namespace, pod.uid, String(c.attempt ?? 0)].join('_'));
}

/** A kubelet label selector (all pairs must match). */
export function selects(labels: Record<string, string>, selector: Record<string, string> | undefined | null): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** int64 fields arrive as decimal strings. */
export function int(v: string | number | undefined | null): number {
  return v === undefined || v === null || v === '' ? 0 : Number(v);
}

/** An ISO time as the CRI's nanoseconds since the epoch (0 for docker's zero time). */
export function nanos(iso: string | undefined): string {
  if (!iso || iso.startsWith('0001-')) return '0';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '0';
  // Keep the sub-millisecond digits ISO strings may carry (RFC 3339 nanoseconds).
  const frac = /\.(\d+)/.exec(iso)?.[1] ?? '';
  const sub = frac.length > 3 ? BigInt(frac.slice(3, 9).padEnd(6, '0')) : 0n;
  return (BigInt(Math.floor(ms)) * 1_000_000n + sub).toString();
}
