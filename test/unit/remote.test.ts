// `berth` through a daemon: which commands get the client's stdin, and the daemon addresses it takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamsOf, target } from '../../src/cli/remote.ts';

test('stdin and a terminal go over as the command asks, read with its own flags (docker decides from -i and -t)', () => {
  for (const [argv, stdin, tty] of [
    [['run', '-i', 'busybox', 'cat'], true, false], [['run', '-it', 'busybox', 'sh'], true, true], [['run', '--interactive', '--name', 'x', 'busybox'], true, false],
    [['run', '-d', '-i', 'busybox'], false, false], [['run', '--rm', 'busybox', 'grep', '-i', 'err', '/log'], false, false], [['run', '-t', 'busybox'], false, true],
    [['exec', '-i', 'c', 'sh'], true, false], [['exec', 'c', 'sed', '-i', 's/a/b/', '/f'], false, false], [['exec', '-it', 'c', 'sh'], true, true],
    [['start', '-ai', 'c'], true, false], [['container', 'run', '-i', 'busybox'], true, false], [['create', '-i', 'busybox'], false, false],
    [['attach', 'c'], true, false], [['attach', '--no-stdin', 'c'], false, false], [['load'], true, false], [['image', 'load'], true, false],
    [['load', '-i', 'f.tar'], false, false], [['import', '-', 'img'], true, false], [['import', 'f.tar', 'img'], false, false],
    [['build', '-'], true, false], [['build', '-f-', '.'], true, false], [['build', '-t', 'x', '.'], false, false],
    [['login', 'reg'], true, false], [['login', '-u', 'me', '--password-stdin', 'reg'], true, false], [['login', '-u', 'me', '-p', 'pw', 'reg'], false, false],
    [['ps', '-a'], false, false], [['logs', '-f', 'c'], false, false], [['cp', 'c:/x', '-'], false, false], [['run', '--bogus', '-i'], false, false],
  ] as Array<[string[], boolean, boolean]>) assert.deepEqual(streamsOf(argv), { stdin, tty }, argv.join(' '));
});

test('daemon addresses: the forms berth daemon -H listens on', () => {
  assert.deepEqual(target('unix:///run/berth/berth.sock'), { socketPath: '/run/berth/berth.sock' });
  assert.deepEqual(target('/tmp/d.sock'), { socketPath: '/tmp/d.sock' });
  assert.deepEqual(target('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  assert.deepEqual(target('tcp://[::1]:2375'), { host: '::1', port: 2375 });
  for (const bad of ['ftp://x', 'tcp://host', 'localhost:2375', '']) assert.equal(target(bad), undefined, bad);
});
