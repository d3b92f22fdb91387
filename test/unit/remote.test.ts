// `berth` through a daemon: which commands get the client's stdin, and the daemon addresses it takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readsStdin, target } from '../../src/cli/remote.ts';

test('stdin goes over only to commands that read it, as the docker CLI decides from -i', () => {
  for (const argv of [
    ['run', '-i', 'busybox', 'cat'], ['run', '-it', 'busybox', 'sh'], ['run', '--interactive', 'busybox'], ['exec', '-i', 'c', 'sh'],
    ['start', '-ai', 'c'], ['container', 'run', '-i', 'busybox'], ['attach', 'c'], ['load'], ['image', 'load'], ['import', '-', 'img'],
    ['cp', '-', 'c:/tmp'], ['login', 'reg'], ['login', '-u', 'me', '--password-stdin', 'reg'],
  ]) assert.equal(readsStdin(argv), true, argv.join(' '));
  for (const argv of [
    ['run', '--rm', 'busybox', 'true'], ['run', '-d', 'busybox', 'sleep', '1'], ['run', '--interactive=false', 'busybox'], ['exec', 'c', 'ls'],
    ['ps', '-a'], ['images', '-q'], ['inspect', 'c'], ['attach', '--no-stdin', 'c'], ['load', '-i', 'f.tar'], ['import', 'f.tar', 'img'],
    ['cp', 'c:/etc/hosts', '.'], ['login', '-u', 'me', '-p', 'secret', 'reg'], ['logs', '-f', 'c'],
  ]) assert.equal(readsStdin(argv), false, argv.join(' '));
});

test('daemon addresses: the forms berth daemon -H listens on', () => {
  assert.deepEqual(target('unix:///run/berth/berth.sock'), { socketPath: '/run/berth/berth.sock' });
  assert.deepEqual(target('/tmp/d.sock'), { socketPath: '/tmp/d.sock' });
  assert.deepEqual(target('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  assert.deepEqual(target('tcp://[::1]:2375'), { host: '::1', port: 2375 });
  for (const bad of ['ftp://x', 'tcp://host', 'localhost:2375', '']) assert.equal(target(bad), undefined, bad);
});
