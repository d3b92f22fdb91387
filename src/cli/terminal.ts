// The client side of a container terminal: our terminal in raw mode while attached (so keys,
// ^C and ^P^Q reach the container's pty untouched), and its size for the pty.
import { invalid } from '../core/errors.ts';

export function terminalSize(): { rows: number; cols: number } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
}

export async function withTerminal<T>(tty: boolean, interactive: boolean, fn: () => Promise<T>): Promise<T> {
  if (!tty || !interactive) return fn();
  if (!process.stdin.isTTY) throw invalid('the input device is not a TTY');
  process.stdin.setRawMode(true);
  process.stdin.pause(); // the monitor reads the terminal, not us
  try {
    return await fn();
  } finally {
    process.stdin.setRawMode(false);
  }
}
