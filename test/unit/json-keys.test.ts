import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalCreateBody } from '../../src/api/json-keys.ts';

test('create body keys match fields without regard to case, as Go decodes them', () => {
  const body = canonicalCreateBody({
    image: 'busybox', CMD: ['true'], Labels: { a: 'b' }, Unknown: 1,
    HostConfig: { CPURealtimePeriod: 1000, cpurealtimeruntime: 500, networkmode: 'none', Extra: true },
  });
  assert.deepEqual(body, {
    Image: 'busybox', Cmd: ['true'], Labels: { a: 'b' }, Unknown: 1,
    HostConfig: { CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 500, NetworkMode: 'none', Extra: true },
  });
  // The exact spelling wins over another case of it; values are not looked into.
  assert.deepEqual(canonicalCreateBody({ Image: 'a', image: 'b', Labels: { image: 'x' } }), { Image: 'a', Labels: { image: 'x' } });
});
