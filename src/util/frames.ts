// docker's multiplexed stream frames (attach, exec and logs without a terminal; the shim's
// attach socket too): a stream byte (0 stdin, 1 stdout, 2 stderr, 3 system error), three zero
// bytes, the payload's length big-endian, the payload.

export function frame(stream: 0 | 1 | 2 | 3, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

/** A reader of frames from chunks cut anywhere: feed it every chunk; it calls onFrame per whole frame. */
export function deframer(onFrame: (stream: 'stdout' | 'stderr', body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const len = pending.readUInt32BE(4);
      if (pending.length < 8 + len) break;
      onFrame(pending[0] === 2 ? 'stderr' : 'stdout', pending.subarray(8, 8 + len));
      pending = pending.subarray(8 + len);
    }
  };
}
