// Container cgroups. Each engine state root owns one scope (`berth/<key>`) in every hierarchy it
// uses; a container's cgroup is `<hierarchy>/<scope>/<id>`. Nothing outside a scope is ever
// written, and every process found inside one was put there by us, so removal may SIGKILL it.
import { invalid } from '../core/errors.ts';
import { CgroupV1, type Hierarchy } from './cgroup-v1.ts';
import { CgroupV2 } from './cgroup-v2.ts';
import { cgroupMountList, type CgroupDriver } from './cgroup-common.ts';

export * from './cgroup-common.ts';

// cpuset: lxcfs sizes a container's CPU view (and --cpuset-cpus limits it) from its cpuset cgroup; blkio: block I/O limits and stats.
const V1_CONTROLLERS = new Set(['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'devices', 'cpuset', 'blkio']);

/**
 * opts.keepScope: the scope is someone else's (a CgroupParent such as the kubelet's pod cgroup):
 * removing a container never removes it, as the root's own scope goes with its last container.
 */
export function detectCgroups(scope: string, opts?: { mountinfo?: string; root?: string; topLevel?: boolean; keepScope?: boolean }): CgroupDriver {
  // topLevel: an empty scope is the hierarchies' roots themselves (an OCI bundle's cgroupsPath "/name").
  if ((scope !== '' || !opts?.topLevel) && (scope.startsWith('/') || scope.split('/').some((s) => s === '' || s === '.' || s === '..'))) throw invalid(`invalid cgroup scope: "${scope}"`);
  const root = opts?.root ?? '/sys/fs/cgroup';
  const v1: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const m of cgroupMountList(opts?.mountinfo)) {
    if (m.version === 2) {
      if (m.mount === root) return new CgroupV2(root, scope, opts?.keepScope);
      continue;
    }
    const controllers = m.names.filter((o) => V1_CONTROLLERS.has(o));
    // The same hierarchy can be mounted twice (bind mounts); co-mounted controllers are one hierarchy.
    const key = controllers.sort().join(',');
    if (!controllers.length || seen.has(key)) continue;
    seen.add(key);
    v1.push({ mount: m.mount, controllers, cpuset: m.names.includes('cpuset') });
  }
  return new CgroupV1(v1, scope, opts?.keepScope);
}
