// The shim as a binary, driven through its client (runtime/shim.ts) with plans written by hand:
// what it runs from, and the plans it refuses before it starts anything.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Step } from '../../src/runtime/plan.ts';
import { runShim, SHIM_PATH } from '../../src/runtime/shim.ts';
import { isRoot } from '../helpers/berth.ts';

describe('berth-shim run', { skip: !isRoot && 'needs root' }, () => {
  let work: string;
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-shim-'))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the monitor runs from a copy of the shim that is not the host file, and cannot be written', async () => {
    const out = path.join(work, 'exe');
    // The command is the monitor's child: $PPID is the monitor.
    const probe = `readlink /proc/$PPID/exe > ${out}; if (printf X 1<>/proc/$PPID/exe) 2>/dev/null; then echo writable >> ${out}; fi`;
    const shim = runShim([['ns', '0'], ['cwd', '/'], ['env', 'PATH=/usr/bin:/bin'], ['exec', '/bin/sh', '-c', probe]], { stdin: 'ignore', output: 'ignore' });
    assert.equal((await shim.exited).exit, 0);
    shim.close();
    await shim.gone;
    const [exe, ...writable] = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.notEqual(exe, fs.realpathSync(SHIM_PATH));
    assert.match(exe, /^\/berth-shim$|^\/memfd:berth-shim/);
    assert.deepEqual(writable, []);
  });

  // Each plan's first step would write "0" into a file, if the init ever ran: it must stay empty.
  const cases: Array<[string, string[][], RegExp]> = [
    ['an unknown step', [['mountn', '/x']], /container setup failed: plan mountn: unknown step/],
    ['a wrong argument count', [['root']], /plan root: wrong number of arguments/],
    ['a step of the host side after the pivot', [['pivot'], ['maskin', '/proc/kcore']], /plan maskin: after the pivot/],
    ['an init step before the pivot that belongs after it', [['cwd', '/'], ['pivot']], /plan cwd: before the pivot/],
  ];
  for (const [name, bad, want] of cases) {
    test(`a plan with ${name} is refused before anything runs`, async () => {
      const marker = path.join(work, `marker-${name.replace(/\W+/g, '-')}`);
      fs.writeFileSync(marker, '');
      const plan = [['ns', '0'], ['join', marker], ...bad, ['exec', '/bin/true']] as unknown as Step[];
      const shim = runShim(plan, { stdin: 'ignore', output: 'ignore' });
      await assert.rejects(shim.started, want);
      assert.equal(await shim.gone, 125);
      assert.equal(fs.readFileSync(marker, 'utf8'), '');
    });
  }
});
