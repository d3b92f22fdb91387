import assert from 'node:assert/strict';
import * as os from 'node:os';
import { test } from 'node:test';
import { parseBytes, parseCpus, parseDuration, parseMemory } from '../../src/core/units.ts';

const MiB = 1024 * 1024;

test('parseBytes takes docker RAMInBytes forms', () => {
  assert.equal(parseBytes('1024'), 1024);
  assert.equal(parseBytes('0'), 0);
  assert.equal(parseBytes('10b'), 10);
  assert.equal(parseBytes('10B'), 10);
  assert.equal(parseBytes('64k'), 64 * 1024);
  assert.equal(parseBytes('64m'), 64 * MiB);
  assert.equal(parseBytes('64M'), 64 * MiB);
  assert.equal(parseBytes('64MB'), 64 * MiB);
  assert.equal(parseBytes('64mib'), 64 * MiB);
  assert.equal(parseBytes('64MiB'), 64 * MiB);
  assert.equal(parseBytes('64 m'), 64 * MiB);
  assert.equal(parseBytes('1.5g'), 1.5 * 1024 * MiB);
  assert.equal(parseBytes('2t'), 2 * 1024 ** 4);
  assert.equal(parseBytes('1p'), 1024 ** 5);
  assert.equal(parseBytes('0.5k'), 512);
  assert.equal(parseBytes('1.7'), 1); // truncated, like docker's int64(size)
});

test('parseBytes rejects what docker rejects', () => {
  for (const bad of ['', 'm', 'x', '-1', '-64m', '64x', '64mm', '64ibb', '64ib', '64bb', ' 64', '1..5m', '64mbb', '1e3', '64  m', '1.2.3'])
    assert.throws(() => parseBytes(bad), { code: 'InvalidArgument', message: `invalid size: "${bad}"` }, bad);
  assert.throws(() => parseBytes('99999999p'), { code: 'InvalidArgument' });
});

test('parseMemory applies docker\'s 6MB minimum; 0 stays unlimited', () => {
  assert.equal(parseMemory('64m'), 64 * MiB);
  assert.equal(parseMemory('6m'), 6 * MiB);
  assert.equal(parseMemory('0'), 0);
  assert.throws(() => parseMemory('5m'), { code: 'InvalidArgument', message: 'Minimum memory limit allowed is 6MB' });
  assert.throws(() => parseMemory('4096'), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => parseMemory('lots'), /invalid size: "lots"/);
});

test('parseCpus is the quota per 100000 µs period', () => {
  const n = os.availableParallelism();
  assert.equal(parseCpus('0.5'), 50000);
  assert.equal(parseCpus('.5'), 50000);
  assert.equal(parseCpus('1'), 100000);
  assert.equal(parseCpus('0.01'), 1000);
  assert.equal(parseCpus('0.333'), 33300);
  assert.equal(parseCpus('0.1'), 10000); // exact: no float error
  assert.equal(parseCpus(String(n)), n * 100000);
  assert.equal(parseCpus(`${n}.000`), n * 100000);
});

test('parseCpus errors match docker', () => {
  const n = os.availableParallelism();
  const range = `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`;
  for (const bad of ['0', '0.0', '0.001', String(n + 1), `${n}.5`, '1000000'])
    assert.throws(() => parseCpus(bad), { code: 'InvalidArgument', message: range }, bad);
  for (const bad of ['', '.', 'abc', '-1', '1,5', '1.5.2', '1e2'])
    assert.throws(() => parseCpus(bad), { code: 'InvalidArgument', message: `failed to parse ${bad} as a rational number` }, bad);
  assert.throws(() => parseCpus('0.0000000001'), /value is too precise/);
});

test('parseDuration takes Go durations, a bare 0 included', () => {
  assert.equal(parseDuration('30s'), 30e9);
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.equal(parseDuration('300ms'), 300e6);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
  for (const bad of ['', '5', 's', '1x', '00', '1s ']) assert.throws(() => parseDuration(bad), { code: 'InvalidArgument', message: `invalid duration: "${bad}"` }, bad);
});
