// The pure parts of the resource layer: flags to HostConfig, the kernel's counters to stats,
// the resource views' mounts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFlags, parseThrottle } from '../../src/cli/resources.ts';
import { parseBlkioV1, parseIoStatV2, parsePressure } from '../../src/kernel/cgroups.ts';
import { VIEW_FILES, viewMounts } from '../../src/kernel/lxcfs.ts';
import { engineSpec, type PlanInput } from '../../src/runtime/plan.ts';

const flags = (o: Record<string, string | boolean | string[]>) => new Map(Object.entries(o));

test('throttles: PATH:RATE with units for bytes, plain numbers for operations; bad ones refused', () => {
  assert.deepEqual(parseThrottle('device-write-bps', '/dev/sdb:10mb', true), { Path: '/dev/sdb', Rate: 10 << 20 });
  assert.deepEqual(parseThrottle('device-read-iops', '/dev/sdb:100', false), { Path: '/dev/sdb', Rate: 100 });
  assert.throws(() => parseThrottle('device-read-iops', '/dev/sdb:1kb', false), /invalid rate/);
  assert.throws(() => parseThrottle('device-write-bps', 'sdb:1mb', true), /bad format/);
  assert.throws(() => parseThrottle('device-write-bps', '/dev/sdb:0', true), /invalid rate/);
});

test('resource flags become docker\'s HostConfig fields; ranges as docker checks them', () => {
  const warnings: string[] = [];
  assert.deepEqual(resourceFlags(flags({
    'blkio-weight': '300', 'blkio-weight-device': ['/dev/sda:200'], 'device-read-bps': ['/dev/sda:1mb'], 'device-write-iops': ['/dev/sda:50'],
    'cpuset-cpus': '0-1,3', 'cpu-period': '50000', 'cpu-quota': '25000', 'memory-reservation': '64m', 'memory-swappiness': '0',
    'oom-kill-disable': true, 'shm-size': '256m', 'kernel-memory': '64m',
  }), (m) => warnings.push(m)), {
    BlkioWeight: 300, BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 200 }], BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1 << 20 }],
    BlkioDeviceWriteIOps: [{ Path: '/dev/sda', Rate: 50 }], CpusetCpus: '0-1,3', CpuPeriod: 50000, CpuQuota: 25000,
    MemoryReservation: 64 << 20, MemorySwappiness: 0, OomKillDisable: true, ShmSize: 256 << 20,
  });
  assert.equal(warnings.length, 1);
  assert.throws(() => resourceFlags(flags({ 'blkio-weight': '5' })), /10 to 1000/);
  assert.throws(() => resourceFlags(flags({ 'memory-swappiness': '101' })), /0-100/);
  assert.throws(() => resourceFlags(flags({ 'cpuset-cpus': 'a' })), /invalid format/);
  // Passed on: the engine checks the CFS bounds for every client (container-options.test.ts).
  assert.equal(resourceFlags(flags({ 'cpu-period': '100' })).CpuPeriod, 100);
  assert.equal(resourceFlags(flags({ 'memory-swappiness': '-1' })).MemorySwappiness, null);
});

test('block I/O counters as dockerd lists them: v1 ops as the kernel names them, v2 read/write', () => {
  assert.deepEqual(parseBlkioV1('7:0 Read 4096\n7:0 Write 2097152\n7:0 Total 2101248\nTotal 2101248\n').slice(0, 2), [
    { major: 7, minor: 0, op: 'Read', value: 4096 }, { major: 7, minor: 0, op: 'Write', value: 2097152 },
  ]);
  assert.equal(parseBlkioV1('Total 0\n').length, 0);
  assert.deepEqual(parseIoStatV2('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n'), {
    serviceBytes: [{ major: 8, minor: 0, op: 'read', value: 10 }, { major: 8, minor: 0, op: 'write', value: 20 }],
    serviced: [{ major: 8, minor: 0, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 2 }],
  });
  assert.deepEqual(parsePressure('some avg10=0.50 avg60=0.10 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n'), [
    { kind: 'some', avg10: 0.5, avg60: 0.1, avg300: 0, total: 1234 }, { kind: 'full', avg10: 0, avg60: 0, avg300: 0, total: 5 },
  ]);
});

test('the views are bound read-only after /proc and /sys, before the user\'s mounts', () => {
  const p: PlanInput = {
    rootfs: { type: 'overlay', source: 'overlay', target: '/c/rootfs', options: [] }, cgroupNamespace: true, cgroupJoin: [], hostname: 'h',
    etcFiles: { hostname: '/c/hostname', hosts: '/c/hosts', resolv: '/c/resolv.conf' },
    process: { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0, groups: [], caps: 0n },
    views: viewMounts('/run/berth/lxcfs/views-1-2'), mounts: [{ type: 'bind', source: '/data', target: '/data', readonly: false }], teardown: { rmdirs: [] },
  };
  const dests = engineSpec(p).mounts!.map((m) => m.destination);
  const first = dests.indexOf('/proc/cpuinfo');
  assert.ok(first > dests.indexOf('/sys') && first > dests.indexOf('/proc'));
  assert.ok(dests.indexOf('/data') > dests.indexOf('/sys/devices/system/cpu/online'));
  const meminfo = engineSpec(p).mounts!.find((m) => m.destination === '/proc/meminfo')!;
  assert.equal(meminfo.source, '/run/berth/lxcfs/views-1-2/proc/meminfo');
  assert.ok(meminfo.options!.includes('ro'));
  assert.equal(engineSpec(p).mounts!.filter((m) => VIEW_FILES.includes(m.destination)).length, VIEW_FILES.length);
  assert.equal(engineSpec({ ...p, views: undefined }).mounts!.filter((m) => VIEW_FILES.includes(m.destination)).length, 0);
});
