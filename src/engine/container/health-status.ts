// docker's State.Health, from what the monitor's probes recorded. Apart from the probe's plan
// (health.ts) because `ps` reads it for every row and should not load the exec-plan code.
import * as path from 'node:path';
import type { ContainerRecord } from '../../core/container.ts';
import { readJsonFile } from '../../util/atomic.ts';
import type { Ctx } from './context.ts';

/** The container's health check command, when it has one. */
export function checks(record: ContainerRecord): string[] | undefined {
  const test = record.Config.Healthcheck?.Test ?? [];
  return !test.length || test[0] === 'NONE' ? undefined : test;
}

/** docker's State.Health, from what the monitor's probes recorded. */
export function health(ctx: Ctx, record: ContainerRecord): { Status: string; FailingStreak: number; Log: object[] } | undefined {
  if (!checks(record)) return undefined;
  return readJsonFile(path.join(ctx.store.cdir(record.Id), 'health.json')) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
}
