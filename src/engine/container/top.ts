// docker top and stats: a running container's processes and usage, read from the host.
import * as fs from 'node:fs';
import type { CgroupStats } from '../../kernel/cgroups.ts';
import type { Ctx } from './context.ts';
import { cgroupsOf } from './cgroup-parent.ts';
import { get, initPid } from './reconcile.ts';

/** The container's processes as seen from the host (docker top's default columns). */
export function top(ctx: Ctx, nameOrId: string): { Titles: string[]; Processes: string[][] } {
  const c = get(ctx, nameOrId);
  initPid(ctx, c);
  const users = new Map<number, string>();
  try {
    for (const l of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = l.split(':');
      if (f.length > 2) users.set(Number(f[2]), f[0]);
    }
  } catch {}
  const tick = 100; // USER_HZ
  const boot = Date.now() / 1000 - Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const rows: string[][] = [];
  for (const pid of cgroupsOf(ctx, c.record).pids(c.record.Id).sort((a, b) => a - b)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
      const cpu = (Number(f[11]) + Number(f[12])) / tick;
      const started = new Date((boot + Number(f[19]) / tick) * 1000);
      const hms = (s: number) => [s / 3600, (s % 3600) / 60, s % 60].map((x) => String(Math.floor(x)).padStart(2, '0')).join(':');
      rows.push([users.get(uid) ?? String(uid), String(pid), f[1], '0', started.toTimeString().slice(0, 5), '?', hms(cpu), cmd]);
    } catch {
      // exited while we looked
    }
  }
  return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: rows };
}

/** One sample of a running container's usage counters. */
export function stats(ctx: Ctx, nameOrId: string): { id: string; name: string; running: boolean } & CgroupStats {
  const c = get(ctx, nameOrId);
  const running = c.state.Status === 'running' || c.state.Status === 'paused';
  const s = running ? cgroupsOf(ctx, c.record).stats(c.record.Id) : { memoryUsage: 0, memoryLimit: 0, cpuNanos: 0, pids: 0 };
  return { id: c.record.Id, name: c.record.Name, running, ...s };
}
