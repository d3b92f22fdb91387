// Faults and hostile input found by trying berth as an attacker or an unlucky operator would
// (issue 21): each ends in a clear error, with nothing lost and nothing leaked.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';
import { DOCKER, TestDaemon } from '../helpers/daemon.ts';

const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;

describe('a missing or broken shim behind the daemon is a clear error within a second', { skip }, () => {
  let root: TestRoot;
  const shims: Record<string, string> = {};
  before(async () => {
    root = await TestRoot.withBusybox();
    // The layer images get mounted with the good shim first: the starts below then fail at the
    // shim itself, not only at the mount that precedes it (that is tested too, by `fresh`).
    assert.equal((await root.run(['run', '--rm', '--network', 'none', 'busybox', 'true'])).code, 0);
    shims.missing = path.join(root.dir, 'no-such-shim');
    shims.unexecutable = path.join(root.dir, 'shim-0644');
    fs.writeFileSync(shims.unexecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    shims.crashing = path.join(root.dir, 'shim-segv');
    fs.writeFileSync(shims.crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
  });
  after(() => root.cleanup());

  for (const kind of ['missing', 'unexecutable', 'crashing']) {
    test(`${kind} shim: docker run --rm, wait next-exit and berth through the daemon end at once`, async () => {
      const d = new TestDaemon(root, { env: { BERTH_SHIM: shims[kind] } });
      await d.start();
      try {
        let t0 = Date.now();
        const run = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true'], { timeoutMs: 10_000 });
        assert.ok(Date.now() - t0 < 3000, `docker run took ${Date.now() - t0} ms`);
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /shim/, run.stderr);
        assert.equal((await d.docker(['ps', '-aq'])).stdout, '', 'the --rm container is gone');

        // A waiter for the next exit hears of the failed start, with its message.
        const created = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }));
        const id = JSON.parse(created.body).Id as string;
        const waiting = d.request('POST', `/containers/${id}/wait?condition=next-exit`);
        await new Promise((r) => setTimeout(r, 200));
        t0 = Date.now();
        const start = await d.request('POST', `/containers/${id}/start`);
        assert.ok(start.status >= 400, `start answered ${start.status}`);
        const waited = await Promise.race([waiting, new Promise<undefined>((r) => setTimeout(r, 5000, undefined))]);
        assert.ok(waited, 'wait?condition=next-exit did not answer');
        assert.ok(Date.now() - t0 < 1500, `wait answered after ${Date.now() - t0} ms`);
        const body = JSON.parse(waited.body);
        assert.notEqual(body.StatusCode, 0);
        assert.match(body.Error?.Message ?? '', /shim/);
        assert.equal((await d.request('DELETE', `/containers/${id}?force=1`)).status, 204);

        // berth through the daemon says why, rather than exiting 126 in silence.
        t0 = Date.now();
        const v = await d.berth(['version'], 10_000);
        assert.ok(Date.now() - t0 < 2000, `berth version took ${Date.now() - t0} ms`);
        assert.equal(v.code, 125);
        assert.match(v.stderr, /shim/, v.stderr);
      } finally {
        await d.stop();
      }
    });
  }

  test('the layer mount fails first on a fresh boot: the same clear error', async () => {
    await root.unmountLayers();
    const d = new TestDaemon(root, { env: { BERTH_SHIM: shims.missing } });
    await d.start();
    try {
      const t0 = Date.now();
      const run = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true'], { timeoutMs: 10_000 });
      assert.ok(Date.now() - t0 < 3000, `docker run took ${Date.now() - t0} ms`);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /shim|layers/, run.stderr);
      assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    } finally {
      await d.stop();
    }
  });
});
