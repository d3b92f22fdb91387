// HostConfig.DeviceCgroupRules through the Engine API (docker-py's device_cgroup_rules, the
// CLI's --device-cgroup-rule): kept in inspect, enforced by the devices cgroup on v1 and by the
// eBPF device program on v2, and shown in the container's own /sys/fs/cgroup as dockerd shows it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { TestRoot } from '../helpers/berth.ts';
import { skip, TestDaemon } from '../helpers/daemon.ts';

// Device numbers no driver has: opening an allowed node fails with ENXIO ("No such device or
// address"), a refused one with EPERM before any driver is asked.
const ALLOWED = 'No such device or address';
const REFUSED = 'Operation not permitted';
const probe = 'mknod /a c 42 1; mknod /b c 42 2; mknod /l b 42 1; for f in /a /b /l; do (exec 3<>$f) 2>&1; done; true';

async function runWithRules(d: TestDaemon, name: string, rules: string[], cmd: string): Promise<{ inspect: { HostConfig: { DeviceCgroupRules: string[] | null } }; logs: string }> {
  const created = await d.request('POST', `/containers/create?name=${name}`, JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { DeviceCgroupRules: rules, NetworkMode: 'none' } }));
  assert.equal(created.status, 201, created.body);
  const inspect = JSON.parse((await d.request('GET', `/containers/${name}/json`)).body);
  assert.equal((await d.request('POST', `/containers/${name}/start`)).status, 204);
  const waited = await d.request('POST', `/containers/${name}/wait`);
  assert.equal(JSON.parse(waited.body).StatusCode, 0, waited.body);
  const logs = await d.docker(['logs', name]);
  assert.equal((await d.request('DELETE', `/containers/${name}`)).status, 204);
  return { inspect, logs: logs.stdout + logs.stderr };
}

const lines = (logs: string) => logs.trim().split('\n');

describe('DeviceCgroupRules', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  before(async () => {
    root = await TestRoot.withBusybox();
    d = new TestDaemon(root);
    await d.start();
  });
  after(async () => {
    await d?.stop();
    await root?.cleanup();
  });

  test('cgroup v1: a rule allows the node it names, others stay refused; inspect and devices.list show the rules', async () => {
    const rules = ['c 42:1 rw', 'b 42:* rw', 'c 1:3 mr'];
    const r = await runWithRules(d, 'rules', rules, `${probe}; cat /sys/fs/cgroup/devices/devices.list`);
    assert.deepEqual(r.inspect.HostConfig.DeviceCgroupRules, rules);
    const out = lines(r.logs);
    assert.match(out[0], new RegExp(`/a: ${ALLOWED}`));
    assert.match(out[1], new RegExp(`/b: ${REFUSED}`));
    assert.match(out[2], new RegExp(`/l: ${ALLOWED}`));
    // The container's own devices cgroup (docker-py's test_create_with_device_cgroup_rules reads it).
    for (const rule of ['c 42:1 rw', 'b 42:* rw']) assert.ok(out.includes(rule), `${rule} not in ${r.logs}`);
    const none = await runWithRules(d, 'norules', [], probe);
    assert.equal(none.inspect.HostConfig.DeviceCgroupRules, null);
    assert.deepEqual(lines(none.logs).map((l) => l.includes(REFUSED)), [true, true, true]);
    const all = await runWithRules(d, 'all', ['a *:* rwm'], probe);
    assert.deepEqual(lines(all.logs).map((l) => l.includes(ALLOWED)), [true, true, true]);
    const bad = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { DeviceCgroupRules: ['c 42:1 rwx'] } }));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid device rule/);
    assert.deepEqual(root.leftovers(), []);
  });

  // This host's cgroup2 mount (a hybrid host's unified hierarchy): the rules as a program.
  const cgroup2 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
  test('cgroup v2: the same rules as an eBPF device program', { skip: !cgroup2 && 'no cgroup2 mount' }, async () => {
    const v2 = new TestDaemon(root, { env: { BERTH_CGROUP_ROOT: cgroup2 }, socket: 'v2.sock' });
    await v2.start();
    try {
      const r = await runWithRules(v2, 'rules2', ['c 42:1 rw', 'b 42:* rw', 'c 1:3 mr'], probe);
      assert.deepEqual(lines(r.logs).map((l) => l.includes(ALLOWED)), [true, false, true], r.logs);
      assert.ok(lines(r.logs)[1].includes(REFUSED), r.logs);
      const none = await runWithRules(v2, 'norules2', [], probe);
      assert.deepEqual(lines(none.logs).map((l) => l.includes(REFUSED)), [true, true, true], none.logs);
    } finally {
      await v2.stop();
    }
  });
});
