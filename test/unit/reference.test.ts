import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarReference, formatReference, parseReference } from '../../src/image/reference.ts';

test('short names normalise like docker', () => {
  assert.equal(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseReference('my/busybox:1')), 'docker.io/my/busybox:1');
  assert.equal(formatReference(parseReference('localhost:5000/x/y:v')), 'localhost:5000/x/y:v');
  assert.equal(formatReference(parseReference('index.docker.io/library/a')), 'docker.io/library/a:latest');
  const d = 'sha256:' + 'a'.repeat(64);
  assert.equal(formatReference(parseReference(`busybox@${d}`)), `docker.io/library/busybox@${d}`);
  assert.equal(familiarReference(parseReference('docker.io/library/busybox:1.36')), 'busybox:1.36');
  assert.equal(familiarReference(parseReference('ghcr.io/a/b')), 'ghcr.io/a/b:latest');
});

test('bad references are rejected with the input named', () => {
  for (const bad of ['', 'UPPER', 'a//b', 'a:', 'a@sha256:123', 'a:b:c', '-a', 'a/../b', 'x:' + 't'.repeat(129)]) {
    assert.throws(() => parseReference(bad), (e: Error) => e.message.includes('invalid reference format'), bad);
  }
});
