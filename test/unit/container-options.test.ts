// The engine's pure rules for what a container takes from others and what docker update changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostConfig, MountSpec } from '../../src/core/container.ts';
import { checkNamespaceModes, sharedNamespaces, volumesFrom } from '../../src/engine/namespaces.ts';
import { checkCpuLimit, limitsOf } from '../../src/engine/limits.ts';
import { updatedHost } from '../../src/engine/update.ts';

const base: HostConfig = {
  AutoRemove: false, Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0, CapAdd: null, CapDrop: null,
  Privileged: false, ReadonlyRootfs: false, SecurityOpt: null, Mounts: [],
};

test('PID, IPC and UTS modes: own, host, or another container\'s (resolved to its id); anything else refused', () => {
  const ids: Record<string, string> = { web: 'a'.repeat(64) };
  const resolve = (ref: string) => ids[ref] ?? (() => { throw new Error(`No such container: ${ref}`); })();
  const h: HostConfig = { ...base, PidMode: 'container:web', IpcMode: 'host', UTSMode: 'host' };
  checkNamespaceModes(h, resolve);
  assert.equal(h.PidMode, `container:${'a'.repeat(64)}`);
  for (const ok of ['', 'private', 'shareable', 'none']) assert.doesNotThrow(() => checkNamespaceModes({ ...base, IpcMode: ok }, resolve));
  assert.throws(() => checkNamespaceModes({ ...base, PidMode: 'bogus' }, resolve), /^BerthError: invalid PID mode: bogus$/);
  const uts: HostConfig = { ...base, UTSMode: 'container:web' };
  checkNamespaceModes(uts, resolve); // a CRI pod's containers share the sandbox's
  assert.equal(uts.UTSMode, `container:${'a'.repeat(64)}`);
  assert.throws(() => checkNamespaceModes({ ...base, UTSMode: 'bogus' }, resolve), /invalid UTS mode/);
  assert.throws(() => checkNamespaceModes({ ...base, IpcMode: 'container:nope' }, resolve), /No such container: nope/);
  assert.throws(() => checkNamespaceModes({ ...base, IpcMode: 'container:' }, resolve), /invalid IPC mode/);

  assert.equal(sharedNamespaces(base, () => 1), undefined);
  assert.deepEqual(sharedNamespaces({ ...base, PidMode: 'host', IpcMode: 'container:x', UTSMode: 'host' }, (ref) => (ref === 'x' ? 42 : 0)), {
    pid: 'host', ipc: { path: '/proc/42/ns/ipc' }, uts: 'host',
  });
  assert.deepEqual(sharedNamespaces({ ...base, IpcMode: 'host' }, () => 0), { pid: undefined, ipc: 'host', uts: undefined, shm: '/dev/shm' });
  // A shareable donor's /dev/shm is bound too; a private one's is out of reach.
  const shm = (ref: string) => (ref === 'x' ? '/state/containers/x/shm' : undefined);
  assert.equal(sharedNamespaces({ ...base, IpcMode: 'container:x' }, () => 42, shm)?.shm, '/state/containers/x/shm');
  assert.equal(sharedNamespaces({ ...base, IpcMode: 'container:y' }, () => 42, shm)?.shm, undefined);
});

test('volumes-from: the other container\'s volumes and binds, never as anonymous, ro/rw as asked, own mounts win', () => {
  const theirs: MountSpec[] = [
    { Type: 'volume', Source: 'anon1', Target: '/data', ReadOnly: false, Anonymous: true },
    { Type: 'bind', Source: '/srv', Target: '/srv', ReadOnly: false },
    { Type: 'tmpfs', Source: '', Target: '/run', ReadOnly: false },
  ];
  const own: MountSpec[] = [{ Type: 'bind', Source: '/mine', Target: '/srv', ReadOnly: true }];
  const out = volumesFrom(['db:ro'], own, (ref) => (ref === 'db' ? theirs : []));
  assert.deepEqual(out, [own[0], { Type: 'volume', Source: 'anon1', Target: '/data', ReadOnly: true }]);
  assert.equal(volumesFrom(['db'], [], () => theirs)[0].ReadOnly, false);
});

test('docker update: zero leaves a field, limits are checked, CPU quota and nano CPUs exclude each other', () => {
  const h = updatedHost({ ...base, Memory: 64 << 20 }, { Memory: 0, CpuShares: 512, PidsLimit: 50, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
  assert.equal(h.Memory, 64 << 20);
  assert.equal(h.CpuShares, 512);
  assert.equal(h.PidsLimit, 50);
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.throws(() => updatedHost(base, { Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => updatedHost(base, { MemorySwap: 100 << 20 }), /set the Memory limit/);
  assert.throws(() => updatedHost(base, { NanoCpus: 1e9, CpuQuota: 50000 }), /Conflicting options/);
  assert.throws(() => updatedHost({ ...base, AutoRemove: true }, { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }), /AutoRemove/);
  // dockerd's CFS bounds (a kernel would refuse these only when a start writes them).
  assert.throws(() => updatedHost(base, { CpuQuota: 999 }), /CPU cfs quota can not be less than 1ms \(i\.e\. 1000\)$/);
  assert.throws(() => updatedHost(base, { CpuPeriod: 999 }), /CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)/);
  assert.throws(() => updatedHost(base, { CpuPeriod: 1_000_001 }), /CPU cfs period/);
  assert.doesNotThrow(() => checkCpuLimit({ CpuQuota: -1, CpuPeriod: 0 })); // -1: no limit
  // A quota and period are kept as given, NanoCpus stays 0 (dockerd's inspect), and once one way
  // of limiting CPU is set the other cannot be updated (dockerd's messages, checked with 20.10).
  assert.throws(() => updatedHost(base, { NanoCpus: 1e9, CpuPeriod: 50000 }), /^BerthError: Conflicting options: Nano CPUs and CPU Period cannot both be set$/);
  const q = updatedHost(base, { CpuQuota: 50000, CpuPeriod: 100000 });
  assert.equal(q.NanoCpus, 0);
  // The period as given (--cpu-period), not only the ratio.
  assert.deepEqual(Object.fromEntries(Object.entries(limitsOf(q)).filter(([, v]) => v !== undefined)), { cpuQuota: 50000, cpuPeriod: 100000 });
  assert.throws(() => updatedHost(q, { NanoCpus: 2e9 }), /Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set/);
  assert.throws(() => updatedHost({ ...base, CpuQuota: 50000 }, { NanoCpus: 2e9 }), /Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set/);
  const n = updatedHost(base, { NanoCpus: 1e9 });
  assert.throws(() => updatedHost(n, { CpuQuota: 30000 }), /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/);
  assert.throws(() => updatedHost(n, { CpuPeriod: 30000 }), /Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set/);
  assert.equal(updatedHost(n, { NanoCpus: 2e9 }).NanoCpus, 2e9);
  // An older berth's record: a NanoCpus worked out from its quota is no --cpus.
  assert.equal(updatedHost({ ...base, CpuQuota: 50000, NanoCpus: 5e8 }, { CpuQuota: 20000 }).NanoCpus, 0);
});

test('legacy links: docker\'s stored form, variables (own environment wins) and hosts entries', async () => {
  const { linkEnv, linkHosts, normalizeLinks, parseLink, withLinks } = await import('../../src/engine/links.ts');
  assert.deepEqual(normalizeLinks(['web:db', 'cache'], 'app', (r) => r), ['/web:/app/db', '/cache:/app/cache']);
  assert.deepEqual(parseLink('/web:/app/db'), { name: 'web', alias: 'db' });
  assert.throws(() => parseLink('a:b:c'), /invalid link/);
  const target = () => ({ name: 'web', ip: '10.0.0.2', env: ['PATH=/bin', 'K=v'], exposed: ['443/tcp', '80/tcp'] });
  assert.deepEqual(linkEnv(['/web:/app/my-db'], 'app', target), [
    'MY_DB_PORT=tcp://10.0.0.2:80',
    'MY_DB_PORT_80_TCP=tcp://10.0.0.2:80', 'MY_DB_PORT_80_TCP_ADDR=10.0.0.2', 'MY_DB_PORT_80_TCP_PORT=80', 'MY_DB_PORT_80_TCP_PROTO=tcp',
    'MY_DB_PORT_443_TCP=tcp://10.0.0.2:443', 'MY_DB_PORT_443_TCP_ADDR=10.0.0.2', 'MY_DB_PORT_443_TCP_PORT=443', 'MY_DB_PORT_443_TCP_PROTO=tcp',
    'MY_DB_NAME=/app/my-db', 'MY_DB_ENV_K=v',
  ]);
  assert.deepEqual(linkHosts(['/web:/app/db'], target), ['db:10.0.0.2', 'web:10.0.0.2']);
  const proc = withLinks({ Name: 'app', HostConfig: { Links: ['/web:/app/db'] } }, { env: ['DB_NAME=mine'] }, target);
  assert.equal(proc.env.filter((e) => e.startsWith('DB_NAME=')).join(), 'DB_NAME=mine');
});
