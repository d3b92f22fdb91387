// What the builder's integration suites do on their test root: `berth build` (plain progress,
// extra environment, stdin, or under a wrapper such as /usr/bin/time), a command in a built
// image, and the scratch a build may have left under the root's tmp/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BERTH, collect, type Result, type TestRoot } from './berth.ts';

export interface BuildRun {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** A command to run berth under (its arguments first, berth's after). */
  wrap?: string[];
}

export function builder(root: () => TestRoot) {
  return {
    build(args: string[], opts: BuildRun = {}): Promise<Result> {
      const argv = [BERTH, 'build', '--progress', 'plain', ...args];
      const cmd = [...(opts.wrap ?? []), ...argv];
      const child = spawn(cmd[0], cmd.slice(1), { env: { ...root().env(), ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      return collect(child, 120_000);
    },
    /** A command's stdout in a container of the image (it must succeed). */
    async out(image: string, ...cmd: string[]): Promise<string> {
      const r = await root().run(['run', '--rm', image, ...cmd]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    },
    scratchLeft(): string[] {
      const tmp = path.join(root().dir, 'tmp');
      return fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
    },
  };
}
