// The runtime.v1 messages as the pod and container calls read them: every field may be missing
// or null (the unit tests, and clients that leave fields out), so each is read with a default.
import type * as T from '../types.ts';

export type { CriContext } from '../context.ts';
/** Every field optional (absent messages stay `null`), maps and scalars as they are. */
type Loose<M> = M extends Buffer ? M : M extends Array<infer U> ? Array<Loose<U>> : M extends Record<string, string> ? M : M extends object ? { [K in keyof M]?: Loose<M[K]> } : M;

export type PodSandboxConfig = Loose<T.PodSandboxConfig>;
export type PodSandboxMetadata = T.PodSandboxMetadata;
export type ContainerConfig = Loose<T.ContainerConfig>;
export type LinuxContainerResources = Loose<T.LinuxContainerResources>;
export type LinuxContainerSecurityContext = Loose<T.LinuxContainerSecurityContext>;
export type LinuxSandboxSecurityContext = Loose<T.LinuxSandboxSecurityContext>;
export type SecurityProfile = Loose<T.SecurityProfile>;
export type Mount = Loose<T.Mount>;
export type Device = Loose<T.Device>;
