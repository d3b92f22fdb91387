// Releases one network sandbox (CNI DEL, namespace, port claims): started detached by a
// container's monitor when the container is gone for good, or by a reconcile for a sandbox whose
// monitor died. Usage: release-main.ts ROOT SANDBOX_ID
import * as path from 'node:path';
import { openRoot } from '../engine/root.ts';
import { Sandboxes } from './sandbox.ts';
import { Networks } from './store.ts';

const [rootDir, id] = process.argv.slice(2);
if (!rootDir || !/^[a-f0-9]{64}$/.test(id ?? '')) {
  process.stderr.write('usage: release-main.ts ROOT SANDBOX_ID\n');
  process.exit(2);
}
const root = openRoot(rootDir);
await new Sandboxes(root, new Networks(root), (c) => path.join(root.dir, 'containers', c, 'hosts')).release(id).catch((e) => {
  process.stderr.write(`berth: releasing network sandbox ${id.slice(0, 12)}: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
