// The CRI's pure mapping: pod and container configs -> the engine's create options, and engine
// containers -> the CRI's answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialState, type ContainerRecord, type ContainerState } from '../../src/core/container.ts';
import { containerOptions, mountsOf, resourcesOf } from '../../src/cri/container/options.ts';
import { containerSecurity, seccompOpt, userOf } from '../../src/cri/container/security.ts';
import { containerStatus, reasonOf, stateOf } from '../../src/cri/container/status.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/cri/container/cri-types.ts';
import { annotationsOf, containerName, extraOf, givenLabels, metadataOf, nanos, sandboxName, selects } from '../../src/cri/sandbox/meta.ts';
import { sandboxOptions } from '../../src/cri/sandbox/options.ts';
import { sandboxState, sandboxStatus } from '../../src/cri/sandbox/status.ts';
import { eventType } from '../../src/cri/events.ts';
import { statLine } from '../../src/cri/stats.ts';

const POD: PodSandboxConfig = {
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', attempt: 1 },
  hostname: 'web-host',
  log_directory: '/var/log/pods/default_web_u-1',
  dns_config: { servers: ['10.0.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
  port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }],
  labels: { 'io.kubernetes.pod.name': 'web', app: 'x' },
  annotations: { note: 'n' },
  linux: { cgroup_parent: '/kubepods/besteffort/podu-1', sysctls: { 'net.ipv4.ip_forward': '1' }, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, seccomp: { profile_type: 'RuntimeDefault' } } },
};

const CTR: ContainerConfig = {
  metadata: { name: 'app', attempt: 2 },
  image: { image: 'busybox:latest' },
  command: ['/bin/sh', '-c'],
  args: ['echo hi'],
  working_dir: '/tmp',
  envs: [{ key: 'A', value: 'b=c' }],
  mounts: [
    { container_path: '/data', host_path: '/srv/data', readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    { container_path: '/h2c', host_path: '/srv/h2c', propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    { container_path: '/bi', host_path: '/srv/bi', propagation: 'PROPAGATION_BIDIRECTIONAL', selinux_relabel: true },
  ],
  devices: [{ container_path: '/dev/xnull', host_path: '/dev/null', permissions: 'rw' }],
  labels: { 'io.kubernetes.container.name': 'app' },
  annotations: { a: '1' },
  log_path: 'app/2.log',
  stdin: true, stdin_once: true, tty: false,
  linux: {
    resources: { cpu_period: '100000', cpu_quota: '50000', cpu_shares: '512', memory_limit_in_bytes: '67108864', oom_score_adj: '-998', cpuset_cpus: '0', cpuset_mems: '0' },
    security_context: {
      run_as_user: { value: '1000' }, run_as_group: { value: '3000' }, supplemental_groups: ['4000', 5000],
      capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] },
      readonly_rootfs: true, no_new_privs: true, masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'],
      seccomp: { profile_type: 'Unconfined' }, namespace_options: { pid: 'CONTAINER' },
    },
  },
};

test('a pod config becomes the pause container: name, hostname, namespaces, DNS, cgroup parent, sysctls, labels', () => {
  const o = sandboxOptions(POD, { image: 'pause', netns: '/run/berth/netns/x' });
  assert.equal(o.name, 'k8s_POD_web_default_u-1_1');
  assert.equal(o.hostname, 'web-host');
  const h = o.host as Record<string, unknown>;
  assert.equal(h.NetworkMode, 'ns:/run/berth/netns/x');
  assert.equal(h.IpcMode, 'shareable');
  assert.equal(h.PidMode, '');
  assert.deepEqual(h.Dns, ['10.0.0.10']);
  assert.deepEqual(h.DnsSearch, ['svc.cluster.local']);
  assert.deepEqual(h.DnsOptions, ['ndots:5']);
  assert.equal(h.CgroupParent, '/kubepods/besteffort/podu-1');
  assert.deepEqual(h.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.equal(h.SecurityOpt, null); // RuntimeDefault: berth's default profile
  assert.equal(o.labels!['io.kubernetes.pod.name'], 'web');
  assert.equal(o.labels!['io.berth.cri.kind'], 'sandbox');
});

test('host namespaces: NODE network, pid and ipc are the host\'s; no netns means no network', () => {
  const pod = { ...POD, linux: { security_context: { namespace_options: { network: 'NODE' as const, pid: 'NODE' as const, ipc: 'NODE' as const } } } };
  const h = sandboxOptions(pod, { image: 'pause' }).host as Record<string, unknown>;
  assert.deepEqual([h.NetworkMode, h.UTSMode, h.PidMode, h.IpcMode], ['host', 'host', 'host', 'host']);
  assert.equal(sandboxOptions(pod, { image: 'pause' }).hostname, undefined);
  assert.equal((sandboxOptions(POD, { image: 'pause' }).host as Record<string, unknown>).NetworkMode, 'none');
  assert.throws(() => sandboxOptions({ ...POD, metadata: null }, { image: 'pause' }), /metadata/);
  // No security context at all: unconfined, as containerd 1.6 runs it.
  assert.deepEqual((sandboxOptions({ ...POD, linux: null }, { image: 'pause' }).host as Record<string, unknown>).SecurityOpt, ['seccomp=unconfined']);
});

test('a container config becomes create options joining its pod', () => {
  const o = containerOptions('sb1', CTR, POD);
  assert.equal(o.name, 'k8s_app_web_default_u-1_2');
  assert.deepEqual(o.entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(o.cmd, ['echo hi']);
  assert.deepEqual(o.env, ['A=b=c']);
  assert.equal(o.workdir, '/tmp');
  assert.equal(o.user, '1000:3000');
  assert.equal(o.openStdin, true);
  assert.equal(o.stdinOnce, true);
  assert.equal(o.tty, false);
  const h = o.host as Record<string, any>;
  assert.equal(h.NetworkMode, 'container:sb1');
  assert.equal(h.IpcMode, 'container:sb1');
  assert.equal(h.UTSMode, 'container:sb1');
  assert.equal(h.PidMode, '');
  assert.equal(h.CgroupParent, '/kubepods/besteffort/podu-1');
  assert.deepEqual(h.LogConfig, { Type: 'cri', Config: { path: '/var/log/pods/default_web_u-1/app/2.log' } });
  assert.deepEqual(h.GroupAdd, ['4000', '5000']);
  assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.equal(h.ReadonlyRootfs, true);
  assert.deepEqual(h.SecurityOpt, ['seccomp=unconfined', 'no-new-privileges']);
  assert.deepEqual(h.MaskedPaths, ['/proc/kcore']);
  assert.deepEqual(h.ReadonlyPaths, ['/proc/sys']);
  assert.deepEqual(h.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rw' }]);
  // The quota and period as given, no NanoCpus beside them (the engine refuses both at once, as dockerd).
  assert.deepEqual([h.CpuQuota, h.CpuPeriod, h.NanoCpus, h.CpuShares, h.Memory, h.OomScoreAdj, h.CpusetCpus, h.CpusetMems], [50000, 100000, undefined, 512, 64 << 20, -998, '0', '0']);
  // The given labels are kept apart from the image's (which the engine merges into the record's).
  assert.equal(o.labels!['io.berth.cri.sandbox'], 'sb1');
  assert.equal(o.labels!['io.kubernetes.container.name'], 'app');
});

test('command alone replaces the entrypoint and drops CMD; args alone keep the image entrypoint', () => {
  const only = containerOptions('sb', { ...CTR, args: [] }, POD);
  assert.deepEqual([only.entrypoint, only.cmd], [['/bin/sh', '-c'], []]);
  const args = containerOptions('sb', { ...CTR, command: [] }, POD);
  assert.deepEqual([args.entrypoint, args.cmd], [undefined, ['echo hi']]);
});

test('pid namespace: POD shares the sandbox\'s, NODE the host\'s, TARGET another container\'s', () => {
  const pid = (p: 'POD' | 'NODE' | 'TARGET' | 'CONTAINER', target_id = '') => (containerOptions('sb', { ...CTR, linux: { security_context: { namespace_options: { pid: p, target_id } } } }, POD).host as Record<string, unknown>).PidMode;
  assert.equal(pid('POD'), 'container:sb');
  assert.equal(pid('NODE'), 'host');
  assert.equal(pid('CONTAINER'), '');
  assert.equal(pid('TARGET', 'c2'), 'container:c2');
  assert.throws(() => pid('TARGET'), /target/);
});

test('a privileged container needs a privileged pod', () => {
  const priv = { ...CTR, linux: { security_context: { privileged: true } } };
  assert.throws(() => containerOptions('sb', priv, POD), /privileged/);
  const h = containerOptions('sb', priv, POD, { podPrivileged: true }).host as Record<string, unknown>;
  assert.equal(h.Privileged, true);
  assert.equal(h.SecurityOpt, null); // privileged: no seccomp option (the engine runs it unconfined)
});

test('mount propagation maps to rprivate (default), rslave, rshared; relative paths are refused', () => {
  const m = mountsOf(CTR.mounts);
  assert.deepEqual(m.map((x) => [x.Source, x.Target, x.ReadOnly, x.Propagation]), [['/srv/data', '/data', true, undefined], ['/srv/h2c', '/h2c', false, 'rslave'], ['/srv/bi', '/bi', false, 'rshared']]);
  assert.throws(() => mountsOf([{ container_path: 'rel', host_path: '/x' }]), /absolute/);
});

test('resources: zero leaves unset; a period alone is kept', () => {
  assert.deepEqual(resourcesOf({ cpu_period: '0', cpu_quota: '0', memory_limit_in_bytes: '0' }), {});
  assert.deepEqual(resourcesOf({ cpu_period: '50000' }), { CpuPeriod: 50000 });
  assert.deepEqual(resourcesOf(null), {});
});

test('seccomp: the profile types and the deprecated path strings', () => {
  const read = (f: string) => `{"file":"${f}"}`;
  assert.equal(seccompOpt({ profile_type: 'RuntimeDefault' }, '', read), undefined);
  assert.equal(seccompOpt({ profile_type: 'Unconfined' }, '', read), 'seccomp=unconfined');
  assert.equal(seccompOpt({ profile_type: 'Localhost', localhost_ref: '/p.json' }, '', read), 'seccomp={"file":"/p.json"}');
  assert.equal(seccompOpt(null, 'runtime/default', read), undefined);
  assert.equal(seccompOpt(null, 'docker/default', read), undefined);
  assert.equal(seccompOpt(null, 'unconfined', read), 'seccomp=unconfined');
  assert.equal(seccompOpt(null, '', read), 'seccomp=unconfined');
  assert.equal(seccompOpt(null, 'localhost//q.json', read), 'seccomp={"file":"/q.json"}');
  assert.throws(() => seccompOpt(null, 'bogus', read), /unsupported/);
  assert.throws(() => seccompOpt({ profile_type: 'Localhost', localhost_ref: '/nonexistent/p.json' }, ''), /cannot load/);
});

test('user: a name wins over a uid; a group needs a user', () => {
  assert.equal(userOf({ run_as_username: 'nobody', run_as_user: { value: '5' } }), 'nobody');
  assert.equal(userOf({ run_as_user: { value: '0' } }), '0');
  assert.equal(userOf({}), undefined);
  assert.throws(() => userOf({ run_as_group: { value: '1' } }), /without user/);
  assert.deepEqual(containerSecurity(null).host.SecurityOpt, ['seccomp=unconfined']);
});

function container(labels: Record<string, string>, state: Partial<ContainerState>): { record: ContainerRecord; state: ContainerState } {
  const o = containerOptions('sb1', CTR, POD);
  const record = {
    Id: 'c'.repeat(64), Name: o.name!, Created: '2026-12-07T10:00:00.123456789Z', Image: 'ab'.repeat(32), ImageName: 'busybox:latest',
    Config: { Hostname: 'h', Cmd: [], Entrypoint: null, Env: [], User: '', WorkingDir: '', Labels: { image: 'label', ...o.labels, ...labels } },
    HostConfig: { ...(o.host as ContainerRecord['HostConfig']) }, Layers: [],
  } as ContainerRecord;
  return { record, state: { ...initialState(), ...state } };
}

test('container status: state, times in ns, exit code and reason, labels and annotations as given', () => {
  const run = container({}, { Status: 'running', StartedAt: '2026-12-07T10:00:01.5Z' });
  assert.equal(stateOf(run), 'CONTAINER_RUNNING');
  const s = containerStatus(run) as Record<string, any>;
  assert.equal(s.created_at, '1796637600123456789');
  assert.equal(s.started_at, '1796637601500000000');
  assert.equal(s.finished_at, '0');
  assert.deepEqual(s.labels, { 'io.kubernetes.container.name': 'app' });
  assert.deepEqual(s.annotations, { a: '1' });
  assert.deepEqual(s.metadata, { name: 'app', attempt: 2 });
  assert.equal(s.image.image, 'busybox:latest');
  assert.equal(s.image_ref, 'sha256:' + 'ab'.repeat(32));
  assert.equal(s.log_path, '/var/log/pods/default_web_u-1/app/2.log');
  assert.equal(s.mounts.length, 3);
  assert.equal(s.pod_sandbox_id, 'sb1');
  const done = (code: number, oom = false) => container({}, { Status: 'exited', ExitCode: code, OOMKilled: oom, FinishedAt: '2026-12-07T10:00:02Z' });
  assert.equal(reasonOf(done(0)), 'Completed');
  assert.equal(reasonOf(done(3)), 'Error');
  assert.equal(reasonOf(done(137, true)), 'OOMKilled');
  const e = containerStatus(done(3)) as Record<string, any>;
  assert.deepEqual([e.state, e.exit_code, e.finished_at], ['CONTAINER_EXITED', 3, '1796637602000000000']);
  assert.equal(stateOf(container({}, { Status: 'created' })), 'CONTAINER_CREATED');
  assert.equal((containerStatus(container({}, { Status: 'created' })) as Record<string, any>).started_at, '0');
});

test('sandbox status: READY while the pause runs, its address, namespace options', () => {
  const o = sandboxOptions(POD, { image: 'pause' });
  const record = { Id: 's'.repeat(64), Created: '2026-12-07T10:00:00Z', Config: { Labels: o.labels }, HostConfig: {} } as unknown as ContainerRecord;
  const up = { record, state: { ...initialState(), Status: 'running' as const } };
  assert.equal(sandboxState(up), 'SANDBOX_READY');
  const s = sandboxStatus(up, { netns: '/x', ip: '10.88.0.5', additionalIps: ['fd00::5'] }) as Record<string, any>;
  assert.deepEqual(s.network, { ip: '10.88.0.5', additional_ips: [{ ip: 'fd00::5' }] });
  assert.deepEqual(s.linux.namespaces.options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '' });
  assert.deepEqual(s.metadata, POD.metadata);
  assert.deepEqual(givenLabels(record), POD.labels);
  assert.deepEqual(annotationsOf(record), POD.annotations);
  assert.equal(extraOf<{ logDirectory: string }>(record).logDirectory, POD.log_directory);
  assert.deepEqual(metadataOf(record), POD.metadata);
  const down = { record, state: { ...initialState(), Status: 'exited' as const } };
  assert.equal(sandboxState(down), 'SANDBOX_NOTREADY');
  assert.equal((sandboxStatus(down, { netns: '/x', ip: '10.88.0.5', additionalIps: [] }) as Record<string, any>).network.ip, '');
});

test('helpers: names, selectors, times, events, memory.stat lines', () => {
  assert.equal(sandboxName({ name: 'a', namespace: 'b', uid: 'c', attempt: 0 }), 'k8s_POD_a_b_c_0');
  // critest's names are longer than the engine takes: cut, with a hash of the whole.
  const long = (x: string) => containerName({ name: 'c'.repeat(200) + x, attempt: 0 }, { name: 'p'.repeat(60), namespace: 'ns', uid: 'u' });
  assert.equal(long('1').length, 253);
  assert.match(long('1'), /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  assert.notEqual(long('1'), long('2'));
  assert.equal(long('1'), long('1'));
  assert.ok(selects({ a: '1', b: '2' }, { a: '1' }));
  assert.ok(!selects({ a: '1' }, { a: '2' }));
  assert.ok(selects({}, null));
  assert.equal(nanos('0001-01-01T00:00:00Z'), '0');
  const ev = (Action: string, kind?: string) => eventType({ Type: 'container', Action, Actor: { ID: 'x', Attributes: kind ? { 'io.berth.cri.kind': kind } : {} }, scope: 'local', time: 0, timeNano: 0 });
  assert.equal(ev('create', 'container'), 'CONTAINER_CREATED_EVENT');
  assert.equal(ev('start', 'sandbox'), 'CONTAINER_STARTED_EVENT');
  assert.equal(ev('die', 'container'), 'CONTAINER_STOPPED_EVENT');
  assert.equal(ev('destroy', 'container'), 'CONTAINER_DELETED_EVENT');
  assert.equal(ev('kill', 'container'), undefined);
  assert.equal(ev('create'), undefined); // not a CRI container
  assert.equal(statLine('rss 5\ntotal_rss 7\n', 'total_rss'), 7);
  assert.equal(statLine('rss 5\n', 'pgfault'), 0);
});
