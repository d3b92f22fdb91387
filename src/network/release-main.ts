// Releases one network sandbox (CNI DEL, namespace, port claims): started detached by a
// container's monitor when the container is gone for good, or by a reconcile for a sandbox whose
// monitor died. A container's sandbox that a pooled one could have replaced is followed by topping
// the pool up (sandbox.ts), here, after the user already has the container's exit, and by arming
// the pool's expiry timer, which runs this again as `--expire ROOT`.
// Usage: release-main.ts [--if-unused] ROOT SANDBOX_ID [POOL_SIZE] | release-main.ts --expire ROOT
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openRoot, rootKey } from '../core/root.ts';
import { plain, Sandboxes } from './sandbox.ts';
import { deleteNamespaces, inUse, namespacesOf, POOL_TTL_MS } from './sweep.ts';
import { Networks } from './store.ts';

let argv = process.argv.slice(2);
// --if-unused: a reconcile found it unused; released only if that still holds under its lock.
const ifUnused = argv[0] === '--if-unused';
if (ifUnused) argv = argv.slice(1);
const expire = argv[0] === '--expire';
const [rootDir, id, pool] = expire ? [argv[1], undefined, undefined] : argv;
if (!rootDir || (!expire && !/^[a-f0-9]{64}$/.test(id ?? ''))) {
  process.stderr.write('usage: release-main.ts [--if-unused] ROOT SANDBOX_ID [POOL_SIZE] | release-main.ts --expire ROOT\n');
  process.exit(2);
}
if (!fs.existsSync(rootDir)) {
  // The root was removed. Its pooled sandboxes' namespaces (and their interfaces) would outlive
  // it: the expiry timer removes them.
  if (expire) deleteNamespaces(namespacesOf(rootKey(rootDir)));
  process.exit(0);
}
const root = openRoot(rootDir);
const sandboxes = new Sandboxes(root, new Networks(root), (c) => path.join(root.dir, 'containers', c, 'hosts'));

if (expire) {
  await sandboxes.expiryDue();
} else {
  const sb = sandboxes.get(id!);
  // Only a container's own sandbox (not an expired pooled one: an idle pool is not refilled).
  const refill = sb !== undefined && sb.pooled === undefined && sb.container !== '' && plain(sb);
  await sandboxes.release(id!, ifUnused ? (now) => !inUse(now) : undefined).catch((e) => {
    process.stderr.write(`berth: releasing network sandbox ${id!.slice(0, 12)}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
  const size = Number(pool ?? 0);
  if (refill && size > 0) {
    try {
      if (await sandboxes.fillPool(size)) sandboxes.armPoolTimer(POOL_TTL_MS);
    } catch (e) {
      process.stderr.write(`berth: preparing network sandboxes: ${(e as Error).message}\n`);
    }
  }
}
