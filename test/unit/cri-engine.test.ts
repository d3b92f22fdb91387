// Pure parts of the engine's CRI additions: reading CRI log lines, the pause image's layer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/content/store.ts';
import { parseCriLine } from '../../src/engine/logs.ts';
import { elfIsDynamic, pauseConfig, pauseLayerTar } from '../../src/engine/pause.ts';

test('CRI log lines: F gets its newline back, P none; anything else is not a record', () => {
  assert.deepEqual(parseCriLine('2026-12-07T19:18:53.326173462Z stdout F out 1'), { time: '2026-12-07T19:18:53.326173462Z', stream: 'stdout', log: 'out 1\n' });
  assert.deepEqual(parseCriLine('2026-12-07T19:18:53.326173462Z stderr P part'), { time: '2026-12-07T19:18:53.326173462Z', stream: 'stderr', log: 'part' });
  assert.deepEqual(parseCriLine('2026-12-07T19:18:53.3Z stdout F '), { time: '2026-12-07T19:18:53.3Z', stream: 'stdout', log: '\n' });
  assert.equal(parseCriLine('2026-12-07T19:18:53Z stdin F x'), undefined);
  assert.equal(parseCriLine('2026-12-07T19:18:53Z stdout X x'), undefined);
  assert.equal(parseCriLine('{"log":"x"}'), undefined);
});

test('pause image: the layer and config are functions of the binary only', () => {
  const bin = Buffer.from('\x7fELF not really');
  const a = pauseLayerTar(bin);
  assert.equal(a.length % 512, 0);
  assert.deepEqual(a, pauseLayerTar(Buffer.from(bin)));
  assert.notEqual(sha256(a), sha256(pauseLayerTar(Buffer.from('\x7fELF other'))));
  assert.equal(a.subarray(0, 5).toString(), 'pause');
  assert.equal(JSON.stringify(pauseConfig(sha256(a))), JSON.stringify(pauseConfig(sha256(a))));
  assert.deepEqual(pauseConfig('sha256:x').config?.Entrypoint, ['/pause']);
});

test('elfIsDynamic: a PT_INTERP program header means dynamic', () => {
  const elf = (types: number[]) => {
    const b = Buffer.alloc(64 + 56 * types.length);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2; // 64-bit
    b[5] = 1; // little-endian
    b.writeBigUInt64LE(64n, 32); // e_phoff
    b.writeUInt16LE(56, 54); // e_phentsize
    b.writeUInt16LE(types.length, 56); // e_phnum
    types.forEach((t, i) => b.writeUInt32LE(t, 64 + 56 * i));
    return b;
  };
  assert.equal(elfIsDynamic(elf([1, 1, 4])), false);
  assert.equal(elfIsDynamic(elf([6, 3, 1])), true);
  assert.throws(() => elfIsDynamic(Buffer.from('#!/bin/sh\n'.padEnd(64))), /not an ELF/);
});

test('cgroup parents: cgroupfs paths from the root, systemd slices where systemd puts them, escapes refused', async () => {
  const { cgroupParentScope, expandSlice } = await import('../../src/kernel/cgroup-parent.ts');
  assert.equal(cgroupParentScope(undefined), undefined);
  assert.equal(cgroupParentScope(''), undefined);
  assert.equal(cgroupParentScope('/kubepods/burstable/pod1234'), 'kubepods/burstable/pod1234');
  assert.equal(cgroupParentScope('kubepods/'), 'kubepods');
  assert.equal(cgroupParentScope('kubepods-burstable-pod12_34.slice'), 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice');
  assert.equal(expandSlice('a.slice'), 'a.slice');
  assert.equal(expandSlice('-.slice'), '');
  for (const bad of ['a--b.slice', '-a.slice', 'a-.slice', '.slice', 'a/b.slice']) assert.throws(() => expandSlice(bad), /not a valid systemd slice/, bad);
  for (const bad of ['/', '-.slice', '/a/../b', '/a/./b', '/a//b', 'a b', '/a\nb']) assert.throws(() => cgroupParentScope(bad), /invalid cgroup parent/, JSON.stringify(bad));
});
