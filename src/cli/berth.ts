// Entry point (bin/berth runs this on the project's Node). Kept tiny: everything else loads lazily.
import { mark } from '../util/trace.ts';
mark('node ready');
import { main } from './main.ts';

// A reader that went away (`berth logs | head`) ends us quietly, as it would any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

// No top-level await: the same file is bundled as CommonJS (scripts/bundle.ts).
void main(process.argv.slice(2)).then((code) => {
  // Exit once output is flushed; pending handles (none expected) must not keep us alive.
  process.exitCode = code;
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
});
