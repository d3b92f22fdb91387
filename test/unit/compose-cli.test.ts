import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeStreams } from '../../src/cli/flags.ts';
import { streamsOf } from '../../src/cli/remote.ts';

test('through a daemon, compose exec and run carry stdin (and a terminal when the client has one, unless -T)', () => {
  const none = { stdin: false, tty: false };
  assert.deepEqual(composeStreams(['-f', 'a.yaml', '-p', 'x', 'exec', 'web', 'sh'], true), { stdin: true, tty: true });
  assert.deepEqual(composeStreams(['exec', '-T', 'web', 'sh'], true), { stdin: true, tty: false });
  assert.deepEqual(composeStreams(['exec', 'web', 'sh'], false), { stdin: true, tty: false });
  assert.deepEqual(composeStreams(['run', '--rm', '-e', 'A=1', 'worker', 'cat'], false), { stdin: true, tty: false });
  assert.deepEqual(composeStreams(['run', '-d', 'worker'], true), none);
  assert.deepEqual(composeStreams(['exec', '-d', 'web', 'sh'], true), none);
  assert.deepEqual(composeStreams(['up', '-d'], true), none);
  assert.deepEqual(composeStreams(['--bogus', 'exec'], true), none);
  assert.equal(streamsOf(['compose', 'exec', '-T', 'web', 'cat']).stdin, true);
  assert.equal(streamsOf(['compose', 'ps']).stdin, false);
});
