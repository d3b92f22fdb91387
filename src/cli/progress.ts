// Per-layer progress for pull and push: a log of status lines when output is not a terminal
// (what docker prints to a pipe), lines redrawn in place at most ten times a second on one.
import { humanSize } from './format.ts';

export interface LayerProgress {
  /** A line printed once, above the layers. */
  line(text: string): void;
  /** The layer's state; `key` decides when a log line is due (one per change), `bar` is shown on a terminal only. */
  layer(id: string, text: string, key: string, bar?: { current: number; total: number }): void;
  finish(): void;
}

export const shortDigest = (digest: string) => digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);

function lineProgress(write: (s: string) => void): LayerProgress {
  const last = new Map<string, string>();
  return {
    line: (text) => write(text + '\n'),
    layer(id, text, key) {
      if (last.get(id) === key) return;
      last.set(id, key);
      write(`${shortDigest(id)}: ${text}\n`);
    },
    finish() {},
  };
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const body = filled >= width ? '='.repeat(width) : '='.repeat(Math.max(0, filled - 1)) + '>' + ' '.repeat(width - Math.max(filled, 1));
  return `[${body}] ${humanSize(current)}/${humanSize(total)}`;
}

function ttyProgress(write: (s: string) => void): LayerProgress {
  const order: string[] = [];
  const text = new Map<string, string>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    timer = undefined;
    let s = drawn ? `\x1b[${drawn}A` : '';
    for (const id of order) s += `\x1b[2K\r${text.get(id)}\n`;
    drawn = order.length;
    write(s);
  };
  return {
    line: (t) => write(t + '\n'),
    layer(id, t, _key, b) {
      if (!text.has(id)) order.push(id);
      text.set(id, `${shortDigest(id)}: ${t}${b && b.total ? ` ${bar(b.current, b.total)}` : ''}`);
      timer ??= setTimeout(draw, 100);
    },
    finish() {
      if (timer) clearTimeout(timer);
      if (order.length) draw();
    },
  };
}

export function layerProgress(write: (s: string) => void, tty: boolean): LayerProgress {
  return tty ? ttyProgress(write) : lineProgress(write);
}
