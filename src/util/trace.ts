// BERTH_TRACE=1 prints where a command's time went (ms since the process started), to stderr.
// Off by default and nearly free then: start latency is a feature, so it must stay measurable.
const on = process.env.BERTH_TRACE === '1';
const marks: Array<[string, number]> = [];

export function mark(label: string): void {
  if (on) marks.push([label, performance.now()]);
}

if (on) {
  process.on('exit', () => {
    mark('exit');
    process.stderr.write(marks.map(([l, t]) => `trace ${t.toFixed(1).padStart(7)} ms  ${l}`).join('\n') + '\n');
  });
}
