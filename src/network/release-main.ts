// Releases one network sandbox (CNI DEL, namespace, port claims): started detached by a
// container's monitor when the container is gone for good, or by a reconcile for a sandbox whose
// monitor died. A container's sandbox that a pooled one could have replaced is followed by topping
// the pool up (sandbox.ts), here, after the user already has the container's exit.
// Usage: release-main.ts ROOT SANDBOX_ID [POOL_SIZE]
import * as path from 'node:path';
import { openRoot } from '../engine/root.ts';
import { plain, Sandboxes } from './sandbox.ts';
import { Networks } from './store.ts';

const [rootDir, id, pool] = process.argv.slice(2);
if (!rootDir || !/^[a-f0-9]{64}$/.test(id ?? '')) {
  process.stderr.write('usage: release-main.ts ROOT SANDBOX_ID [POOL_SIZE]\n');
  process.exit(2);
}
const root = openRoot(rootDir);
const sandboxes = new Sandboxes(root, new Networks(root), (c) => path.join(root.dir, 'containers', c, 'hosts'));
const sb = sandboxes.get(id);
// Only a container's own sandbox (not an expired pooled one: an idle pool is not refilled).
const refill = sb !== undefined && sb.pooled === undefined && sb.container !== '' && plain(sb);
await sandboxes.release(id).catch((e) => {
  process.stderr.write(`berth: releasing network sandbox ${id.slice(0, 12)}: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
const size = Number(pool ?? 0);
if (refill && size > 0) {
  await sandboxes.fillPool(size).catch((e) => {
    process.stderr.write(`berth: preparing network sandboxes: ${(e as Error).message}\n`);
  });
}
