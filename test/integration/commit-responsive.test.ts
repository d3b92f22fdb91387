// The daemon keeps answering while a commit turns a large diff into a layer: the tar is read,
// hashed, written and synced without holding the event loop for more than a chunk at a time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { daemonWithBusybox, skip, type TestDaemon } from '../helpers/daemon.ts';

describe('commit of a large diff', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('GET /_ping answers within ~200 ms while a commit of a 200 MB diff runs', async () => {
    // Random bytes: nothing on the way (hashing, the layer image) can take a shortcut on them.
    const made = await d.docker(['run', '--name', 'big', '--network', 'none', 'busybox', 'sh', '-c', 'head -c 209715200 /dev/urandom > /big && sync'], { timeoutMs: 120_000 });
    assert.equal(made.code, 0, made.stderr);
    let done = false;
    const started = Date.now();
    const commit = d.request('POST', '/commit?container=big&repo=bigimg&tag=v1', '{}').finally(() => (done = true));
    const latencies: number[] = [];
    while (!done) {
      const t = Date.now();
      const r = await d.request('GET', '/_ping');
      assert.equal(r.status, 200);
      latencies.push(Date.now() - t);
      await new Promise((res) => setTimeout(res, 20));
    }
    const res = await commit;
    assert.equal(res.status, 201, res.body);
    const took = Date.now() - started;
    // The commit took long enough for the pings to mean something.
    assert.ok(took > 500, `commit took only ${took} ms`);
    const worst = Math.max(...latencies);
    assert.ok(worst < 250, `a ping waited ${worst} ms during a ${took} ms commit (${latencies.length} pings)`);
    const img = await d.request('GET', '/images/bigimg:v1/json');
    assert.equal(img.status, 200);
    assert.ok((JSON.parse(img.body) as { Size: number }).Size > 200 << 20);
    assert.equal((await d.docker(['rm', 'big'])).code, 0);
    assert.equal((await d.docker(['rmi', 'bigimg:v1'])).code, 0);
  });
});
