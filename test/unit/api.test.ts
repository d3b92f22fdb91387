// The API's pure parts: docker create bodies into create options, routing, query parsing, framing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filters, flag, frame, Router, splitVersion } from '../../src/api/http.ts';
import { createOptions } from '../../src/api/translate.ts';

// What `docker run --rm -e A=b -v /srv:/srv:ro -v data:/data -v /anon --tmpfs /run:size=1m ...` sends (trimmed).
const cliBody = {
  Image: 'busybox', Cmd: ['sh'], Env: ['A=b'], Labels: { app: 'x' }, Tty: true, OpenStdin: true, StdinOnce: true, Volumes: { '/anon': {} },
  HostConfig: {
    Binds: ['/srv:/srv:ro', 'data:/data'], Tmpfs: { '/run': 'size=1m' }, NetworkMode: 'default', AutoRemove: true, Memory: 64 << 20,
    CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: null, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ConsoleSize: [40, 120],
    LogConfig: { Type: '', Config: {} }, CapAdd: ['NET_ADMIN'], IpcMode: '', PidMode: '',
  },
};

test('a docker CLI create body becomes create options', () => {
  const o = createOptions(cliBody, 'web');
  assert.equal(o.image, 'busybox');
  assert.equal(o.name, 'web');
  assert.deepEqual(o.cmd, ['sh']);
  assert.equal(o.entrypoint, undefined);
  assert.equal(o.tty, true);
  assert.equal(o.openStdin, true);
  assert.equal(o.host!.AutoRemove, true);
  assert.equal(o.host!.Memory, 64 << 20);
  // A quota and period as given: NanoCpus stays 0, as dockerd's inspect shows it.
  assert.equal(o.host!.NanoCpus, 0);
  assert.equal(o.host!.CpuQuota, 50000);
  assert.equal(o.host!.CpuPeriod, 100000);
  assert.equal(o.host!.PidsLimit, 0);
  assert.deepEqual(o.host!.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(o.host!.ConsoleSize, [40, 120]);
  assert.deepEqual(o.host!.Mounts!.map((m) => [m.Type, m.Source, m.Target, m.ReadOnly]), [
    ['bind', '/srv', '/srv', true], ['volume', 'data', '/data', false], ['tmpfs', '', '/run', false], ['volume', '', '/anon', false],
  ]);
  assert.deepEqual(createOptions({ Image: 'b', Entrypoint: '' }, null).entrypoint, ['']);
  assert.deepEqual(createOptions({ Image: 'b', Entrypoint: ['/bin/sh', '-c'] }, null).entrypoint, ['/bin/sh', '-c']);
  const m = createOptions({ Image: 'b', HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } }] } }, null);
  assert.equal(m.host!.Mounts![0].Type, 'tmpfs');
  assert.match(m.host!.Mounts![0].TmpfsOptions ?? '', /size=1048576/);
});

test('network settings of a create body reach the engine', () => {
  const o = createOptions({
    Image: 'b', ExposedPorts: { '53/udp': {} }, HostConfig: { NetworkMode: 'app', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Dns: ['10.0.0.1'], ExtraHosts: ['h:10.0.0.2'] },
    NetworkingConfig: { EndpointsConfig: { app: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.5.0.9', IPv6Address: 'fd00::9' } } } },
  }, null);
  assert.equal(o.host!.NetworkMode, 'app');
  assert.deepEqual(o.host!.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(o.expose, ['53/udp']);
  assert.deepEqual(o.endpoint, { Aliases: ['web'], IPv4Address: '10.5.0.9', IPv6Address: 'fd00::9', MacAddress: undefined, DriverOpts: undefined, LinkLocalIPs: undefined, Links: undefined });
  assert.equal(createOptions({ Image: 'b' }, null).host!.NetworkMode, 'default');
});

test('invalid host configs are refused with docker\'s messages', () => {
  const bad = (host: object, re: RegExp) => assert.throws(() => createOptions({ Image: 'b', HostConfig: host }, null), re);
  bad({ CpuShares: -1 }, /CPU shares/);
  bad({ Memory: 1024 }, /Minimum memory limit/);
  bad({ MemorySwap: 100 << 20 }, /set the Memory limit/);
  bad({ RestartPolicy: { Name: 'sometimes' } }, /restart policy/);
  bad({ RestartPolicy: { Name: 'always' }, AutoRemove: true }, /AutoRemove/);
  bad({ PortBindings: { '80/icmp': [{ HostPort: '8080' }] } }, /invalid exposed port/);
  bad({ PortBindings: { '80/tcp': [{ HostPort: 'x' }] } }, /invalid host port/);
  bad({ LogConfig: { Type: 'syslog' } }, /logging driver "syslog" is not supported/);
  bad({ LogConfig: { Type: 'foo' } }, /: error looking up logging plugin foo: plugin "foo" not found$/);
  bad({ Binds: ['relative:/x:zz'] }, /invalid mode|invalid volume/);
  assert.throws(() => createOptions({ HostConfig: {} }, null), /No image/);
  assert.throws(() => createOptions({ Image: 'b', Cmd: [1] }, null), /Cmd must be a list of strings/);
});

test('routes match versioned paths, image names with slashes, and tell 404 from 405', () => {
  const r = new Router();
  const h = async () => ({ status: 200 });
  r.on('GET', '/containers/{id}/json', h).on('GET', '/images/{name*}/json', h).on('POST', '/images/{name*}/push', h);
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: 1.41, path: '/containers/json' });
  assert.equal(splitVersion('/containers/json').path, '/containers/json');
  const m = r.match('GET', '/containers/abc/json');
  assert.ok(m && m !== 'method');
  assert.deepEqual(m.params, { id: 'abc' });
  const img = r.match('POST', '/images/127.0.0.1:5055/name/push');
  assert.ok(img && img !== 'method');
  assert.equal(img.params.name, '127.0.0.1:5055/name');
  assert.equal(r.match('DELETE', '/containers/abc/json'), 'method');
  assert.equal(r.match('GET', '/nothing'), undefined);
  assert.ok(r.match('HEAD', '/containers/abc/json'));
});

test('query values: booleans, filters in both JSON forms, multiplexed frames', () => {
  const q = new URLSearchParams('a=1&b=true&c=0&d=&e=False&filters=' + encodeURIComponent('{"label":{"a=1":true,"b":false},"status":["running"]}'));
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'z'].map((k) => flag(q, k)), [true, true, false, false, false, false]);
  const f = filters(q);
  assert.deepEqual(f.get('label'), ['a=1']);
  assert.deepEqual(f.get('status'), ['running']);
  assert.throws(() => filters(new URLSearchParams('filters=notjson')), /invalid filters/);
  assert.deepEqual([...frame(2, Buffer.from('hey'))], [2, 0, 0, 0, 0, 0, 0, 3, 104, 101, 121]);
});

test('detach keys: docker\'s spellings, held while they may match, dropped when complete', async () => {
  const { DetachScanner, parseDetachKeys } = await import('../../src/api/detach.ts');
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-_')], [97, 0, 27, 31]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\) provided/);
  assert.throws(() => parseDetachKeys('ab'), /Invalid detach keys/);
  const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.feed(Buffer.from('ab\x10')), { pass: Buffer.from('ab'), detach: false });
  assert.deepEqual(s.feed(Buffer.from('x')), { pass: Buffer.from('\x10x'), detach: false }); // broken: the held byte passes
  assert.deepEqual(s.feed(Buffer.from('\x10\x10')), { pass: Buffer.from('\x10'), detach: false });
  assert.deepEqual(s.feed(Buffer.from('\x11rest')), { pass: Buffer.alloc(0), detach: true });
});
