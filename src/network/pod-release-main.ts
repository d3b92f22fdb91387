// Tears down the pod networks (pod-network.ts) of state roots that are gone: a reconcile of any
// root finds their machine-wide records (sweep.ts sweepGonePods) and starts this, detached.
// Usage: pod-release-main.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from '../util/atomic.ts';
import { gonePods, POD_RUN_DIR } from './sweep.ts';
import { lockPod, teardownRecord, type PodNetRecord } from './pod-network.ts';

for (const name of gonePods()) {
  let rec: PodNetRecord | undefined;
  try {
    rec = readJsonFile<PodNetRecord>(path.join(POD_RUN_DIR, name));
  } catch {}
  if (!rec) continue;
  const unlock = await lockPod(rec.key, rec.id).catch(() => undefined);
  if (!unlock) continue;
  try {
    // Decided again under the lock: another sweeper may have done it meanwhile.
    if (fs.existsSync(path.join(POD_RUN_DIR, name)) && !fs.existsSync(rec.root)) await teardownRecord(rec);
  } catch (e) {
    process.stderr.write(`berth: releasing the network of pod ${rec.id.slice(0, 12)} (root ${rec.root}, removed): ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    unlock();
  }
}
