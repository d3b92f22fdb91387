// Entry point (bin/berth runs this on the project's Node). Kept tiny: everything else loads lazily.
import { mark } from '../util/trace.ts';
mark('node ready');
import { main } from './main.ts';
import { streamInUse, writeStdoutDirectly } from './stdout.ts';

// process.stdout and process.stderr are built on first use (~4 ms each, with the stream modules
// they load). Most of a foreground `run`'s output goes from the container straight to our fds, so
// they are left unbuilt until something writes; each gets its EPIPE handler when it is built: a
// reader that went away (`berth logs | head`) ends us quietly, as it would any Unix tool.
const built: NodeJS.WriteStream[] = [];
for (const name of ['stdout', 'stderr'] as const) {
  const desc = Object.getOwnPropertyDescriptor(process, name);
  if (!desc?.get || !desc.configurable) continue;
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: desc.enumerable,
    get() {
      if (!stream) {
        if (name === 'stdout') streamInUse();
        stream = desc.get!.call(process) as NodeJS.WriteStream;
        stream.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') process.exit(0);
          throw err;
        });
        built.push(stream);
      }
      return stream;
    },
  });
  // A command's output goes to the fd itself until something builds process.stdout (stdout.ts).
  if (name === 'stdout') writeStdoutDirectly();
}

// No top-level await: the same file is bundled as CommonJS (scripts/bundle.ts).
void main(process.argv.slice(2)).then((code) => {
  // Exit once output is flushed; pending handles (none expected) must not keep us alive.
  process.exitCode = code;
  if (built.every((s) => s.writableLength === 0)) process.exit(code);
});
