// A command's output (ctx.out) written straight to fd 1 while nothing else uses process.stdout.
// Building process.stdout for a pipe loads net and the stream modules: ~20 M instructions of a
// `ps -a -q` whose output a script reads (a sixth of Node's own start). On Linux process.stdout
// writes files, pipes and terminals synchronously, so writing the fd ourselves keeps the order
// of everything written. Once the stream exists (a command pipes a stream into it), output goes
// through it, behind what it holds.
import * as fs from 'node:fs';

let direct = false;
let streamBuilt = false;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Called by the CLI's entry, which builds process.stdout on first use and says so (streamInUse). */
export function writeStdoutDirectly(): void {
  direct = true;
}

export function streamInUse(): void {
  streamBuilt = true;
}

export function writeOut(text: string): void {
  if (!direct || streamBuilt) {
    process.stdout.write(text);
    return;
  }
  let buf = Buffer.from(text, 'utf8');
  while (buf.length) {
    try {
      buf = buf.subarray(fs.writeSync(1, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A non-blocking pipe (its reader's choice) that is full: wait for room, as the stream would.
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      // A reader that went away (`berth ps | head`) ends us quietly, as the stream's handler does.
      else if (code === 'EPIPE') process.exit(0);
      else throw err;
    }
  }
}
