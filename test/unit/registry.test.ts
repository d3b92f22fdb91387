// The registry client's pure parts (challenges, endpoints, manifests, platforms) and the blob
// reader's resume logic against a real HTTP server on loopback.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { formatPlatform, parseManifest, parsePlatform, selectManifest } from '../../src/image/manifest.ts';
import { BlobReader } from '../../src/registry/blob.ts';
import { parseChallenges } from '../../src/registry/challenge.ts';
import { isInsecureRegistry, registryBase, RegistryClient } from '../../src/registry/client.ts';
import { CredentialStore, normalizeRegistry } from '../../src/registry/credentials.ts';

const D = (c: string) => 'sha256:' + c.repeat(64);

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a, \\"b\\"", Bearer realm=x,error=invalid_token'), [
    { scheme: 'basic', params: { realm: 'a, "b"' } },
    { scheme: 'bearer', params: { realm: 'x', error: 'invalid_token' } },
  ]);
  assert.deepEqual(parseChallenges(''), []);
});

test('endpoints: docker.io is registry-1.docker.io; plain HTTP only for loopback or listed hosts', () => {
  assert.equal(registryBase('docker.io', {}).href, 'https://registry-1.docker.io/');
  assert.equal(registryBase('ghcr.io', {}).href, 'https://ghcr.io/');
  assert.equal(registryBase('localhost:5000', {}).href, 'http://localhost:5000/');
  assert.equal(registryBase('127.1.2.3:80', {}).href, 'http://127.1.2.3/');
  assert.equal(registryBase('[::1]:5000', {}).href, 'http://[::1]:5000/');
  assert.equal(isInsecureRegistry('myreg:5000', {}), false);
  assert.equal(isInsecureRegistry('myreg:5000', { BERTH_INSECURE_REGISTRIES: 'other:1, myreg:5000' }), true);
  assert.equal(isInsecureRegistry('myreg:5001', { BERTH_INSECURE_REGISTRIES: 'myreg:5000' }), false);
  assert.equal(isInsecureRegistry('127.evil.com', {}), false);
  assert.equal(isInsecureRegistry('localhost.evil.com:5000', {}), false);
});

test('registry names for login normalise like references', () => {
  assert.equal(normalizeRegistry('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeRegistry('registry-1.docker.io'), 'docker.io');
  assert.equal(normalizeRegistry('http://LOCALHOST:5000/'), 'localhost:5000');
  assert.throws(() => normalizeRegistry('a b'), /invalid registry name/);
});

test('credentials: one file, mode 0600, keyed by registry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cred-'));
  try {
    const c = new CredentialStore(dir);
    assert.equal(c.get('localhost:5000'), undefined);
    c.set('localhost:5000', { username: 'u', password: 'p:w' });
    c.set('ghcr.io', { username: 'v', password: 'q' });
    assert.deepEqual(c.get('localhost:5000'), { username: 'u', password: 'p:w' });
    assert.equal(fs.statSync(c.file).mode & 0o777, 0o600);
    assert.equal(c.remove('localhost:5000'), true);
    assert.equal(c.remove('localhost:5000'), false);
    assert.deepEqual(c.get('ghcr.io'), { username: 'v', password: 'q' });
    assert.deepEqual(fs.readdirSync(dir), ['auth.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const manifest = (extra: object = {}) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: D('a'), size: 2 }, layers: [{ mediaType: 'y', digest: D('b'), size: 3 }], ...extra }));

describe('manifests', () => {
  test('kinds by media type, content type or shape', () => {
    assert.equal(parseManifest(manifest()).kind, 'manifest');
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'm', digest: D('c'), size: 1, platform: { os: 'linux', architecture: 'amd64' } }] }));
    assert.equal(parseManifest(idx).kind, 'index');
    assert.equal(parseManifest(idx, 'application/vnd.docker.distribution.manifest.list.v2+json').kind, 'index');
    const noType = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: D('a'), size: 1 }, layers: [] }));
    assert.equal(parseManifest(noType, 'application/vnd.docker.distribution.manifest.v2+json').mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  test('ambiguous, old or malformed documents are refused', () => {
    assert.throws(() => parseManifest(manifest({ manifests: [] })), /both "manifests" and "layers"/); // CVE-2021-41190
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}')), /schema 1 are not supported/);
    assert.throws(() => parseManifest(manifest({ config: { digest: 'sha256:../../etc', size: 1 } })), /invalid digest/);
    assert.throws(() => parseManifest(manifest({ layers: [{ digest: D('b'), size: -1 }] })), /invalid size/);
    assert.throws(() => parseManifest(Buffer.from('[1]')), /not a JSON object/);
    assert.throws(() => parseManifest(Buffer.from('nope')), /not JSON/);
  });

  test('platforms', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
    assert.throws(() => parsePlatform('linux'), /invalid platform/);
    const m = (architecture: string, variant?: string, os = 'linux') => ({ mediaType: 'm', digest: D(architecture === 'amd64' ? 'a' : 'b'), size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });
    const index = { schemaVersion: 2 as const, manifests: [m('arm64', 'v8'), m('amd64', undefined, 'unknown'), m('amd64'), m('arm', 'v7')] };
    assert.equal(selectManifest(index, parsePlatform('linux/amd64')), index.manifests[2]);
    assert.equal(selectManifest(index, parsePlatform('linux/arm64')), index.manifests[0]);
    assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64', variant: 'v8' }), index.manifests[0]);
    assert.equal(selectManifest(index, parsePlatform('linux/arm/v6')), undefined);
    assert.equal(selectManifest(index, parsePlatform('linux/s390x')), undefined);
    assert.equal(formatPlatform(parsePlatform('linux/arm/v7')), 'linux/arm/v7');
  });
});

/** A blob server whose behaviour per request the test decides. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<{ host: string; close: () => Promise<void>; ranges: Array<string | undefined> }> {
  const ranges: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    handler(req, res, ranges.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    ranges,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('blob reader', () => {
  const blob = Buffer.alloc(200_000, 7).map((_, i) => (i * 31) & 0xff) as Buffer;
  const desc = { digest: 'sha256:' + createHash('sha256').update(blob).digest('hex'), size: blob.length };
  const read = async (r: BlobReader) => {
    const parts: Buffer[] = [];
    for await (const c of r.chunks()) parts.push(c);
    return Buffer.concat(parts);
  };

  test('resumes a dropped connection with Range, and restarts cleanly when Range is ignored', async () => {
    for (const honour of [true, false]) {
      const srv = await serve((req, res, n) => {
        const start = honour && req.headers.range ? Number(/bytes=(\d+)-/.exec(req.headers.range)![1]) : 0;
        if (start) res.writeHead(206, { 'content-length': blob.length - start, 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
        else res.writeHead(200, { 'content-length': blob.length });
        if (n === 1) {
          res.write(blob.subarray(0, 70_000));
          setTimeout(() => res.socket?.destroy(), 20);
        } else res.end(blob.subarray(start));
      });
      try {
        const sink = createHash('sha256');
        const r = new BlobReader(new RegistryClient(srv.host), 'x/y', desc, { sink: (c) => sink.update(c), retryDelayMs: 1 });
        assert.deepEqual(await read(r), blob);
        assert.equal('sha256:' + sink.digest('hex'), desc.digest);
        assert.equal(srv.ranges.length, 2);
        assert.match(srv.ranges[1] ?? '', /^bytes=\d+-$/);
      } finally {
        await srv.close();
      }
    }
  });

  test('a Content-Range that does not continue where we stopped is an error, not a retry', async () => {
    const srv = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': blob.length });
        res.write(blob.subarray(0, 70_000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else {
        res.writeHead(206, { 'content-range': `bytes 0-${blob.length - 1}/${blob.length}` });
        res.end(blob);
      }
    });
    try {
      const r = new BlobReader(new RegistryClient(srv.host), 'x/y', desc, { retryDelayMs: 1 });
      await assert.rejects(read(r), /filesystem layer verification failed/);
      assert.equal(srv.ranges.length, 2);
    } finally {
      await srv.close();
    }
  });

  test('gives up after five attempts; a body longer than the descriptor is refused', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(503);
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
    });
    try {
      const r = new BlobReader(new RegistryClient(srv.host), 'x/y', desc, { retryDelayMs: 1 });
      await assert.rejects(read(r), /unavailable: try later/);
      assert.equal(srv.ranges.length, 5);
    } finally {
      await srv.close();
    }
    const long = await serve((_req, res) => res.end(Buffer.concat([blob, blob])));
    try {
      const r = new BlobReader(new RegistryClient(long.host), 'x/y', desc, { retryDelayMs: 1 });
      await assert.rejects(read(r), /filesystem layer verification failed/);
      assert.equal(long.ranges.length, 1);
    } finally {
      await long.close();
    }
  });

  test('a digest that is not one never reaches a URL', async () => {
    const c = new RegistryClient('127.0.0.1:1');
    await assert.rejects(c.blob('x/y', 'sha256:../../v2/_catalog'), /invalid tag or digest/);
    await assert.rejects(c.manifest('x/../y', 'latest', 'm'), /invalid repository name/);
  });
});
