// Which kernel namespace a sysctl belongs to: writing one of no namespace (or of the host's)
// would change the whole machine, so only these are ever written for a container.

export type SysctlNamespace = 'ipc' | 'network' | 'uts';

export function sysctlNamespace(key: string): SysctlNamespace | undefined {
  if (/^kernel\.(shm|msg)[a-z_]*$/.test(key) || key === 'kernel.sem' || /^fs\.mqueue\.[a-z_]+$/.test(key)) return 'ipc';
  if (/^net\.[a-z0-9_.]+$/.test(key)) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}
