// A CRI security context as berth's HostConfig fields (docker's vocabulary): user and groups,
// privileges and capabilities, seccomp, read-only root, no-new-privileges, masked and read-only
// paths. Pure but for reading a Localhost seccomp profile, whose content the engine keeps (as
// docker keeps a profile's JSON, not its path).
import * as fs from 'node:fs';
import type { HostConfig } from '../../core/container.ts';
import { invalid } from '../../core/errors.ts';
import type { LinuxContainerSecurityContext, LinuxSandboxSecurityContext, SecurityProfile } from './cri-types.ts';

/** HostConfig fields the CRI sets that the engine gains in cri-engine's work (CgroupParent, masked paths, the cri log). */
export type CriHost = Omit<Partial<HostConfig>, 'LogConfig'> & {
  CgroupParent?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
};

/**
 * The seccomp security option: RuntimeDefault is berth's default profile, Unconfined none,
 * Localhost the profile file's JSON; the deprecated path strings mean the same. Nothing given
 * at all is unconfined, as containerd 1.6 runs it.
 */
export function seccompOpt(profile: SecurityProfile | null | undefined, legacyPath: string | undefined, read: (file: string) => string = readProfile): string | undefined {
  if (profile) {
    if (profile.profile_type === 'Unconfined') return 'seccomp=unconfined';
    if (profile.profile_type === 'Localhost') return `seccomp=${read(profile.localhost_ref ?? '')}`;
    return undefined; // RuntimeDefault (the enum's zero value)
  }
  const p = legacyPath ?? '';
  if (p === '' || p === 'unconfined') return 'seccomp=unconfined';
  if (p === 'runtime/default' || p === 'docker/default') return undefined;
  if (p.startsWith('localhost/')) return `seccomp=${read(p.slice('localhost/'.length))}`;
  throw invalid(`unsupported seccomp profile ${JSON.stringify(p)}`);
}

function readProfile(file: string): string {
  if (!file.startsWith('/')) throw invalid(`seccomp profile path ${JSON.stringify(file)} must be absolute`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`cannot load seccomp profile ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
}

/** run_as_username, else run_as_user, with run_as_group: the engine's "user[:group]". */
export function userOf(sc: Pick<LinuxContainerSecurityContext, 'run_as_user' | 'run_as_group' | 'run_as_username'>): string | undefined {
  const user = sc.run_as_username || (sc.run_as_user ? String(sc.run_as_user.value) : '');
  const group = sc.run_as_group ? String(sc.run_as_group.value) : '';
  if (group && !user) throw invalid(`user group ${JSON.stringify(group)} is specified without user`);
  if (!user) return undefined;
  return group ? `${user}:${group}` : user;
}

/** The fields a sandbox's and a container's security context share. */
function common(sc: LinuxSandboxSecurityContext | LinuxContainerSecurityContext, read?: (file: string) => string): CriHost {
  const opts: string[] = [];
  const seccomp = sc.privileged ? undefined : seccompOpt(sc.seccomp, sc.seccomp_profile_path, read);
  if (seccomp) opts.push(seccomp);
  return {
    Privileged: sc.privileged === true,
    ReadonlyRootfs: sc.readonly_rootfs === true,
    ...(sc.supplemental_groups?.length ? { GroupAdd: sc.supplemental_groups.map(String) } : {}),
    SecurityOpt: opts.length ? opts : null,
  };
}

export function sandboxSecurity(sc: LinuxSandboxSecurityContext | null | undefined, read?: (file: string) => string): { host: CriHost; user?: string } {
  if (!sc) return { host: { SecurityOpt: ['seccomp=unconfined'] } };
  return { host: common(sc, read), user: userOf(sc) };
}

export function containerSecurity(sc: LinuxContainerSecurityContext | null | undefined, read?: (file: string) => string): { host: CriHost; user?: string } {
  if (!sc) return { host: { SecurityOpt: ['seccomp=unconfined'] } };
  const host = common(sc, read);
  if (sc.no_new_privs) host.SecurityOpt = [...(host.SecurityOpt ?? []), 'no-new-privileges'];
  const add = sc.capabilities?.add_capabilities ?? [];
  const drop = sc.capabilities?.drop_capabilities ?? [];
  if (add.length) host.CapAdd = add;
  if (drop.length) host.CapDrop = drop;
  // The kubelet sends the lists it wants (its defaults, or none for an Unmasked proc mount);
  // nothing sent leaves berth's defaults. A privileged container has none, as runc's.
  if (sc.masked_paths?.length) host.MaskedPaths = sc.masked_paths;
  if (sc.readonly_paths?.length) host.ReadonlyPaths = sc.readonly_paths;
  return { host, user: userOf(sc) };
}
