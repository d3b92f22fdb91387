// Health checks: the probe as an exec plan the monitor runs (docker's State.Health from what the
// probes recorded is health-status.ts, which listings read without loading the plan code).
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { buildExecPlan, encodeRecords, type PlanInput } from '../../runtime/plan.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { Ctx } from './context.ts';
import { checks } from './health-status.ts';
import { joinFiles, processSpec } from './process.ts';

/** The health probe as an exec plan file for the monitor, when the container has a check. */
export async function healthPlan(ctx: Ctx, record: ContainerRecord, dir: string, cg: { procs: string[] }): Promise<PlanInput['health']> {
  const test = checks(record);
  if (!test) return undefined;
  const hc = record.Config.Healthcheck;
  const args = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test[0] === 'CMD' ? test.slice(1) : test;
  const plan = buildExecPlan({ pid: '%PID%', cgroupJoin: joinFiles(ctx, cg), process: await processSpec(ctx, record, { args }), userns: record.HostConfig.IdMap && '/proc/%PID%/ns/user' });
  const planFile = path.join(dir, 'health.plan');
  writeFileAtomic(planFile, encodeRecords(plan), { mode: 0o600 });
  const ms = (ns: number | undefined, def: number) => (ns ? Math.max(1, Math.round(ns / 1e6)) : def);
  return {
    planFile, intervalMs: ms(hc?.Interval, 30_000), timeoutMs: ms(hc?.Timeout, 30_000), retries: hc?.Retries || 3,
    startPeriodMs: ms(hc?.StartPeriod, 0), file: path.join(dir, 'health.json'),
  };
}
