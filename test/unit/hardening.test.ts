// Pure checks behind issue 21's fixes: cpuset lists, container names, system errors as BerthErrors,
// host paths kept out of API messages, the daemon's berth group, start claims.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { berthGroup } from '../../src/api/listen.ts';
import { errorReply, hidePaths, hostPaths } from '../../src/api/http.ts';
import { BerthError, fromSystemError } from '../../src/core/errors.ts';
import { checkName } from '../../src/engine/names.ts';
import { adoptStart, claimStart } from '../../src/engine/start-claim.ts';
import { checkCpuset, parseCpuset } from '../../src/kernel/cpuset.ts';
import { errnoText } from '../../src/util/errno.ts';

test('cpuset lists: ranges, dockerd\'s bound and messages, the host\'s online ids', () => {
  assert.deepEqual([...(parseCpuset('0-2,5') as Set<number>)], [0, 1, 2, 5]);
  assert.deepEqual(parseCpuset(''), new Set());
  assert.equal(parseCpuset('1-9223372036854775807'), 'value of out range, maximum is 8192');
  assert.equal(parseCpuset('8192'), 'value of out range, maximum is 8192');
  assert.equal(parseCpuset('3-1'), 'invalid range format: 3-1');
  assert.equal(parseCpuset('a'), 'invalid format: a');
  assert.equal(parseCpuset('1,,2'), 'invalid format: 1,,2');
  checkCpuset('0-1', 'cpus', '0-3');
  checkCpuset(undefined, 'mems', '0');
  assert.throws(() => checkCpuset('0-100000', 'mems', '0'), { code: 'InvalidArgument', message: 'Invalid value 0-100000 for cpuset mems: value of out range, maximum is 8192' });
  assert.throws(() => checkCpuset('2', 'cpus', '0-1'), { message: 'Requested CPUs are not available - requested 2, available: 0-1' });
  assert.throws(() => checkCpuset('1', 'mems', '0'), { message: 'Requested memory nodes are not available - requested 1, available: 0' });
});

test('container names: dockerd\'s characters, at most 253 of them, a long one not echoed whole', () => {
  assert.equal(checkName('/web.1_a-b'), 'web.1_a-b');
  assert.equal(checkName('x'.repeat(253)), 'x'.repeat(253));
  assert.throws(() => checkName('x'.repeat(254)), /at most 253 characters/);
  const long = (() => { try { checkName('y'.repeat(10_000)); } catch (e) { return (e as Error).message; } })()!;
  assert.ok(long.length < 200, long);
  for (const bad of ['a', '-a', '.a', 'a/b', '../x', 'a\0b', '', '/']) assert.throws(() => checkName(bad), { code: 'InvalidArgument' }, bad);
});

test('system errors: ENOSPC anywhere in the causes is NoSpace, ENAMETOOLONG an invalid argument', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/x/y' });
  assert.equal((fromSystemError(enospc) as BerthError).code, 'NoSpace');
  assert.equal((fromSystemError(enospc) as BerthError).message, 'no space left on device (writing /x/y)');
  assert.equal((fromSystemError(new Error('wrapped', { cause: enospc })) as BerthError).code, 'NoSpace');
  assert.equal((fromSystemError(new BerthError('Internal', 'mounting image layers: No space left on device')) as BerthError).code, 'NoSpace');
  assert.equal((fromSystemError(Object.assign(new Error('x'), { code: 'ENAMETOOLONG' })) as BerthError).code, 'InvalidArgument');
  const other = new Error('other');
  assert.equal(fromSystemError(other), other);
  const conflict = new BerthError('Conflict', 'in use');
  assert.equal(fromSystemError(conflict), conflict);
});

test('API errors: host paths replaced by what they stand for', () => {
  hostPaths([['/var/lib/berth', '<state root>'], ['/var/lib/berth/sub', '<sub>']]);
  assert.equal(hidePaths('open /var/lib/berth/sub/x and /var/lib/berth/y'), 'open <sub>/x and <state root>/y');
  const reply = errorReply(Object.assign(new Error("EACCES: permission denied, open '/var/lib/berth/names/x'"), { code: 'EACCES' }));
  assert.equal(reply.status, 500);
  assert.equal((reply.body as { message: string }).message, "internal error: EACCES: permission denied, open '<state root>/names/x'");
  hostPaths([]);
});

test('a failed spawn says what went wrong, not which file (node\'s message names it)', async () => {
  const { spawn } = await import('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spawn-'));
  try {
    fs.writeFileSync(path.join(dir, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
    for (const [file, says] of [['missing', 'no such file or directory'], ['not-executable', 'permission denied']]) {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => spawn(path.join(dir, file)).on('error', resolve));
      assert.match(err.message, new RegExp(dir), 'node names the file');
      assert.equal(errnoText(err), says);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(errnoText(Object.assign(new Error('x'), { code: 'EWHATEVER' })), 'EWHATEVER');
});

test('the berth group is read from the group file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-group-'));
  const f = path.join(dir, 'group');
  fs.writeFileSync(f, 'root:x:0:\nberthx:x:5:\nberth:x:1234:alice\n');
  assert.equal(berthGroup(f), 1234);
  fs.writeFileSync(f, 'root:x:0:\n');
  assert.equal(berthGroup(f), undefined);
  assert.equal(berthGroup(path.join(dir, 'none')), undefined);
  fs.rmSync(dir, { recursive: true });
});

test('start claims: one live starter at a time, a dead one\'s adopted when its container runs, else taken over', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-claim-'));
  const release = claimStart(dir, 'c1');
  assert.throws(() => claimStart(dir, 'c1'), { code: 'Conflict', message: 'Container c1 is being started by another command' });
  // A live starter's claim is not adopted (it records its own start).
  assert.equal(adoptStart(dir, () => [process.pid]), undefined);
  release();
  release(); // idempotent
  assert.ok(!fs.existsSync(path.join(dir, 'starting')));
  // A claim whose holder is dead (no such pid).
  fs.writeFileSync(path.join(dir, 'starting'), '999999999 1');
  // Its container runs: the process whose parent is outside the cgroup has a live monitor.
  const adopted = adoptStart(dir, () => [process.pid]);
  assert.equal(adopted?.pid, process.pid);
  assert.equal(adopted?.monitor.pid, process.ppid);
  // Nothing runs: nothing to adopt, and reading leaves the claim alone; a new start takes the
  // dead holder's claim over, and its release removes it.
  assert.equal(adoptStart(dir, () => []), undefined);
  assert.ok(fs.existsSync(path.join(dir, 'starting')));
  claimStart(dir, 'c1')();
  assert.ok(!fs.existsSync(path.join(dir, 'starting')));
  fs.rmSync(dir, { recursive: true });
});
