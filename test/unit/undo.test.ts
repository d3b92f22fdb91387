import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Undo } from '../../src/util/undo.ts';

test('undo: what was acquired is given back newest first, once, and a failing undo does not stop the others', async () => {
  const done: string[] = [];
  const undo = new Undo();
  undo.push('network', () => done.push('network'));
  undo.push('cgroups', () => {
    done.push('cgroups');
    throw new Error('busy');
  });
  undo.push('volume', async () => done.push('volume'));
  await assert.rejects(undo.guard(() => Promise.reject(new Error('plan failed'))), /plan failed/);
  assert.deepEqual(done, ['volume', 'cgroups', 'network']);
  await undo.run();
  assert.equal(done.length, 3, 'nothing is undone twice');
});

test('undo: released resources are not undone, and a body that succeeds undoes nothing', async () => {
  const done: string[] = [];
  const undo = new Undo();
  undo.push('network', () => done.push('network'));
  undo.push('cgroups', () => done.push('cgroups'));
  undo.release('cgroups');
  assert.equal(await undo.guard(() => 7), 7);
  assert.deepEqual(done, []);
  await undo.run();
  assert.deepEqual(done, ['network']);
});
