// hosts.toml as containerd reads it: mirrors in file order then the server, capabilities, paths,
// TLS settings relative to the file, headers, the directory lookup, and clear errors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../src/core/errors.ts';
import { hostDirs, parseHosts, registryHosts } from '../../src/registry/hosts.ts';
import { RegistryClient } from '../../src/registry/client.ts';

const opts = { file: '/etc/berth/certs.d/docker.io/hosts.toml', dir: '/etc/berth/certs.d/docker.io', fallback: 'https://registry-1.docker.io/' };

test('mirrors in file order, then the server', () => {
  const hosts = parseHosts(
    `server = "https://upstream.example"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
[host."https://b.example/cache"]
  capabilities = ["pull"]
  ca = ["ca.pem", "/abs/ca2.pem"]
  client = ["c.cert", "c.key"]
  skip_verify = true
  [host."https://b.example/cache".header]
    X-Token = ["a", "b"]
[host."c.example/v2/"]
  override_path = true
`,
    opts,
  );
  assert.deepEqual(
    hosts.map((h) => [h.url.href, h.apiRoot, h.capabilities, h.mirror]),
    [
      ['http://127.0.0.1:5000/', '/v2', ['pull', 'resolve'], true],
      ['https://b.example/cache', '/cache/v2', ['pull'], true],
      ['https://c.example/v2/', '/v2', ['pull', 'resolve', 'push'], true],
      ['https://upstream.example/', '/v2', ['pull', 'resolve', 'push'], false],
    ],
  );
  assert.deepEqual(hosts[1].tls, { ca: ['/etc/berth/certs.d/docker.io/ca.pem', '/abs/ca2.pem'], client: [{ cert: '/etc/berth/certs.d/docker.io/c.cert', key: '/etc/berth/certs.d/docker.io/c.key' }], skipVerify: true });
  assert.deepEqual(hosts[1].headers, { 'x-token': 'a, b' });
  assert.deepEqual(hosts[0].tls, { ca: [], client: [], skipVerify: false });
  // override_path: the path is the API root as written, /v2 not added again.
  const o = parseHosts('[host."https://m.example/some/path"]\noverride_path = true\n', opts)[0];
  assert.equal(o.apiRoot, '/some/path');
  assert.equal(new RegistryClient('docker.io', { endpoint: o }).url('/v2/library/busybox/manifests/1').href, 'https://m.example/some/path/library/busybox/manifests/1');
  assert.equal(new RegistryClient('docker.io', { endpoint: hosts[1] }).url('/v2/').href, 'https://b.example/cache/v2/');
});

test('no server key: the registry itself, as it is reached without configuration', () => {
  const hosts = parseHosts('', opts);
  assert.equal(hosts.length, 1);
  assert.equal(hosts[0].url.href, 'https://registry-1.docker.io/');
  assert.equal(hosts[0].mirror, false);
  // Top-level TLS settings belong to the server.
  assert.equal(parseHosts('skip_verify = true\n', opts)[0].tls.skipVerify, true);
});

test('bad files fail naming the file and what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['server = 1', /"server" must be a non-empty string/],
    ['[host."http://x"]\ncapabilities = ["pull", "fetch"]', /unknown capability "fetch"/],
    ['[host."http://x"]\ncapabilities = "pull"', /capabilities must be a list of strings/],
    ['[host."http://x"]\nskip_verfy = true', /unknown key "skip_verfy" in \[host."http:\/\/x"\]/],
    ['mirrors = []', /unknown key "mirrors" at the top/],
    ['[host."ftp://x"]', /scheme must be http or https/],
    ['[host."http://u:p@x"]', /only scheme, host, port and path/],
    ['[host."http://x"]\nskip_verify = "yes"', /skip_verify must be true or false/],
    ['[host."http://x".header]\n"bad name" = "v"', /invalid header name/],
    ['host = 1', /"host" must be a table/],
    ['[host."http://x"\n', /line 1: expected "]"/],
    ['server = "https://x"\nserver = "https://y"', /line 2: key "server" is defined twice/],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => parseHosts(text, opts), (err: unknown) => {
      assert.ok(err instanceof BerthError && err.code === 'InvalidArgument', String(err));
      assert.ok(err.message.startsWith(`${opts.file}: `), err.message);
      assert.match(err.message, msg);
      return true;
    });
  }
});

test('directory lookup: host_port_, host:port, then _default; none means no configuration', () => {
  assert.deepEqual(hostDirs('/c', '127.0.0.1:5000'), ['/c/127.0.0.1_5000_', '/c/127.0.0.1:5000', '/c/_default']);
  assert.deepEqual(hostDirs('/c', 'docker.io'), ['/c/docker.io', '/c/_default']);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-certsd-'));
  try {
    const env = { BERTH_REGISTRY_CONFIG: root };
    assert.equal(registryHosts('docker.io', env), undefined);
    fs.mkdirSync(path.join(root, '_default'));
    fs.writeFileSync(path.join(root, '_default', 'hosts.toml'), '[host."http://127.0.0.1:1"]\n');
    // _default's server is the registry asked for.
    assert.deepEqual(registryHosts('quay.io', env)!.map((h) => h.url.href), ['http://127.0.0.1:1/', 'https://quay.io/']);
    assert.deepEqual(registryHosts('docker.io', env)!.map((h) => h.url.href), ['http://127.0.0.1:1/', 'https://registry-1.docker.io/']);
    // A directory of docker's certs.d files, without hosts.toml.
    fs.mkdirSync(path.join(root, 'localhost_5000_'));
    fs.writeFileSync(path.join(root, 'localhost_5000_', 'ca.crt'), '');
    fs.writeFileSync(path.join(root, 'localhost_5000_', 'client.cert'), '');
    const [h] = registryHosts('localhost:5000', env)!;
    assert.equal(h.url.href, 'http://localhost:5000/');
    assert.deepEqual(h.tls.ca, [path.join(root, 'localhost_5000_', 'ca.crt')]);
    assert.deepEqual(h.tls.client, [{ cert: path.join(root, 'localhost_5000_', 'client.cert'), key: path.join(root, 'localhost_5000_', 'client.key') }]);
    fs.mkdirSync(path.join(root, 'bad.example'));
    fs.writeFileSync(path.join(root, 'bad.example', 'hosts.toml'), 'server = \n');
    assert.throws(() => registryHosts('bad.example', env), new RegExp(`${root}/bad.example/hosts.toml: line 1: a value is missing`));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
