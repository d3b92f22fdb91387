// Rendering helpers: docker's human sizes and durations, aligned columns.
import { DOCKER_TABLE, tabwrite, type TabOptions } from './template/tabwriter.ts';

/** docker's units.HumanSizeWithPrecision: decimal units, 3 significant digits ("4.26MB") unless told. */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], precision);
}

/** docker's units.BytesSize ("%.4g"), used by stats: binary units ("32MiB", "1.523MiB"). */
export function binarySize(bytes: number): string {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], 4);
}

function scaled(n: number, base: number, units: string[], precision = 3): string {
  let i = 0;
  let v = n;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

export { since } from '../core/units.ts';

/** Aligned columns as docker prints its tables: Go's tabwriter (minimum width 10, padding 3 unless told). */
export function table(header: string[], rows: string[][], opts: TabOptions = DOCKER_TABLE): string {
  return tabwrite([header, ...rows].map((cells) => cells.join('\t') + '\n').join(''), opts);
}
