// Renders build events: BuildKit's plain log ("#3 [2/4] RUN make", "#3 0.412 output", "#3 DONE
// 0.5s", "#3 CACHED") when output is not a terminal or --progress=plain, and on a terminal a
// live per-step display redrawn in place (step, time, CACHED), as BuildKit's tty mode.
import type { BuildEvent, StepInfo } from '../build/events.ts';

export interface BuildRenderer {
  event(e: BuildEvent): void;
  line(text: string): void;
  finish(): void;
  /** The build failed: on a terminal, the output of the steps that did not finish comes first. */
  failed(message: string): void;
}

const label = (s: StepInfo) => `[${s.stage} ${s.index}/${s.total}] ${s.text}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function plainRenderer(write: (s: string) => void): BuildRenderer {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  return {
    event(e) {
      if (e.type === 'warning') return write(`WARNING: ${e.message}\n`);
      if (e.type === 'result') return;
      const n = e.step.index;
      if (e.type === 'step') {
        started.set(n, performance.now());
        write(`#${n} ${label(e.step)}\n`);
      } else if (e.type === 'cached') write(`#${n} CACHED\n`);
      else if (e.type === 'log') {
        const t = ((performance.now() - (started.get(n) ?? performance.now())) / 1000).toFixed(3);
        const text = (partial.get(n) ?? '') + e.data.toString('utf8');
        const lines = text.split('\n');
        partial.set(n, lines.pop()!);
        for (const l of lines) write(`#${n} ${t} ${l}\n`);
      } else if (e.type === 'done') {
        const rest = partial.get(n);
        if (rest) write(`#${n} ${rest}\n`);
        partial.delete(n);
        write(`#${n} DONE ${secs(e.ms)}\n`);
      }
    },
    line: (text) => write(text + '\n'),
    finish() {},
    failed: (message) => write(`ERROR: ${message}\n`),
  };
}

export function ttyRenderer(write: (s: string) => void): BuildRenderer {
  const t0 = performance.now();
  const steps = new Map<number, { info: StepInfo; start: number; ms?: number; cached?: boolean; last?: string; tail: string[] }>();
  const extra: string[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const cols = () => (process.stderr.columns || 80) - 1;
  const draw = () => {
    const done = [...steps.values()].filter((s) => s.ms !== undefined).length;
    const lines = [`[+] Building ${secs(performance.now() - t0)} (${done}/${steps.size})`];
    for (const s of [...steps.values()].sort((a, b) => a.info.index - b.info.index)) {
      const time = s.cached ? 'CACHED' : secs(s.ms ?? performance.now() - s.start);
      const head = ` => ${s.cached ? 'CACHED ' : ''}${label(s.info)}`;
      const room = cols() - time.length - 1;
      lines.push(`${head.length > room ? head.slice(0, room - 3) + '...' : head.padEnd(room)} ${time}`);
      if (s.ms === undefined && s.last) lines.push(` => => # ${s.last}`.slice(0, cols()));
    }
    lines.push(...extra);
    write((drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
  const schedule = () => {
    timer ??= setInterval(draw, 100);
  };
  return {
    event(e) {
      if (e.type === 'warning') {
        extra.push(`WARNING: ${e.message}`);
        return;
      }
      if (e.type === 'result') return;
      const n = e.step.index;
      if (e.type === 'step') steps.set(n, { info: e.step, start: performance.now(), tail: [] });
      const s = steps.get(n);
      if (!s) return;
      if (e.type === 'cached') s.cached = true;
      else if (e.type === 'log') {
        const lines = e.data.toString('utf8').trimEnd().split('\n');
        s.last = lines.at(-1) || s.last;
        s.tail = [...s.tail, ...lines].slice(-10);
      }
      else if (e.type === 'done') s.ms = e.ms;
      schedule();
    },
    line(text) {
      extra.push(text);
    },
    finish() {
      if (timer) clearInterval(timer);
      timer = undefined;
      draw();
    },
    failed(message) {
      this.finish();
      for (const s of steps.values()) {
        if (s.ms !== undefined || !s.tail.length) continue;
        write(`------\n > ${label(s.info)}:\n${s.tail.map((l) => `${l}\n`).join('')}------\n`);
      }
      write(`ERROR: ${message}\n`);
    },
  };
}

export function quietRenderer(write: (s: string) => void): BuildRenderer {
  return { event() {}, line() {}, finish() {}, failed: (message) => write(`ERROR: ${message}\n`) };
}
