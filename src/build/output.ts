// --output: the final stage's filesystem as files (type=local, dest=DIR) or as one tar
// (type=tar, dest=FILE, "-" for stdout), merged from its layers as a container would see them.
import * as fs from 'node:fs';
import type { Engine } from '../engine/engine.ts';
import { applyLayer } from '../image/apply.ts';
import { readXattrs, shimSpecialFs } from '../runtime/shim.ts';
import { mergedTar } from '../snapshot/diff.ts';
import type { Output } from './events.ts';
import type { StageState } from './state.ts';

export async function exportOutputs(engine: Engine, state: StageState, outputs: Output[], stdout?: NodeJS.WritableStream): Promise<void> {
  for (const o of outputs) {
    if (o.type === 'image') continue;
    const dirs = engine.images.layers.mount(state.config.rootfs.diff_ids);
    const tar = mergedTar(dirs, readXattrs);
    if (o.type === 'local') {
      fs.mkdirSync(o.dest, { recursive: true });
      await applyLayer(tar, o.dest, shimSpecialFs);
    } else {
      const out: NodeJS.WritableStream = o.dest === '-' ? (stdout ?? process.stdout) : fs.createWriteStream(o.dest, { mode: 0o644 });
      for await (const chunk of tar) if (!out.write(chunk)) await new Promise((r) => out.once('drain', () => r(undefined)));
      if (o.dest !== '-') await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }
}
