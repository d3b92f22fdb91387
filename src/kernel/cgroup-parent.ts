// docker's --cgroup-parent (HostConfig.CgroupParent), which the kubelet sets to its pod cgroup: a
// cgroupfs path ("/kubepods/burstable/pod<uid>", relative ones from the root too, as docker's
// cgroupfs driver takes them) or a systemd slice name ("kubepods-burstable-pod<uid>.slice"),
// which lives where systemd puts it: every dash-separated prefix is a parent slice
// ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice").
import { invalid } from '../core/errors.ts';

/** A systemd slice name as its cgroupfs path below the root, without the leading "/" ("" for the root slice). */
export function expandSlice(slice: string): string {
  const bad = () => invalid(`invalid cgroup parent: "${slice}" is not a valid systemd slice name`);
  if (!slice.endsWith('.slice') || slice.includes('/')) throw bad();
  if (slice === '-.slice') return '';
  const name = slice.slice(0, -'.slice'.length);
  if (!name || name.startsWith('-') || name.endsWith('-') || name.includes('--')) throw bad();
  const parts = name.split('-');
  return parts.map((_, i) => `${parts.slice(0, i + 1).join('-')}.slice`).join('/');
}

/**
 * The parent as a cgroup scope (a path below every hierarchy's root, no leading "/"), or
 * undefined for none (berth's own scope). Refuses what could leave the hierarchy or name odd
 * directories: "..", ".", empty parts, and the root itself.
 */
export function cgroupParentScope(parent: string | undefined): string | undefined {
  if (!parent) return undefined;
  const scope = parent.endsWith('.slice') && !parent.includes('/') ? expandSlice(parent) : parent.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!scope) throw invalid(`invalid cgroup parent: "${parent}": a container cannot be placed in the root cgroup`);
  for (const part of scope.split('/')) {
    if (!part || part === '.' || part === '..' || !/^[A-Za-z0-9_.:@-]+$/.test(part)) throw invalid(`invalid cgroup parent: "${parent}"`);
  }
  return scope;
}
