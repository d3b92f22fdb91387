// Rendering helpers: docker's human sizes and durations, aligned columns.

/** docker's units.HumanSize: decimal units, 3 significant digits ("4.26MB"). */
export function humanSize(bytes: number): string {
  return scaled(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB']);
}

/** docker's units.BytesSize, used by stats: binary units ("32MiB"). */
export function binarySize(bytes: number): string {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']);
}

function scaled(n: number, base: number, units: string[]): string {
  let i = 0;
  let v = n;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

export { since } from '../core/units.ts';

/** Columns separated by at least three spaces, like docker's tabwriter output. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
