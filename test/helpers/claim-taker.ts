// A child process for test/unit/claim.test.ts: waits for the go file (so that all takers start
// together), claims dir/<prefix>0..<count-1> as itself, prints the indexes it won, and keeps its
// claims alive until its stdin closes (a winner that exited would leave stale claims for the
// others to take over).
import * as fs from 'node:fs';
import { claim, holderDead, selfHolder } from '../../src/kernel/claim.ts';

const [dir, prefix, count, go] = process.argv.slice(2);
process.stdout.write('ready\n');
while (!fs.existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
const won: number[] = [];
for (let i = 0; i < Number(count); i++) if (claim(dir, `${prefix}${i}`, selfHolder(), holderDead)) won.push(i);
process.stdout.write(`${JSON.stringify(won)}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
