// Size and CPU flag values, parsed the way the docker CLI parses them so scripts behave the same.
import * as os from 'node:os';
import { invalid } from './errors.ts';

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker's RAMInBytes: a number, an optional space, an optional binary unit with optional "b"/"ib". */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+) ?(?:b|([kmgtp])(?:b|ib)?)?$/i.exec(s);
  const bytes = m ? Math.trunc(Number(m[1]) * (m[2] ? BINARY[m[2].toLowerCase()] : 1)) : NaN;
  if (!Number.isSafeInteger(bytes)) throw invalid(`invalid size: "${s}"`);
  return bytes;
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** `-m`: 0 means unlimited, as in docker; anything else must be at least docker's minimum. */
export function parseMemory(s: string): number {
  const bytes = parseBytes(s);
  if (bytes !== 0 && bytes < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  return bytes;
}

/** `--cpus` as the CFS quota in microseconds per 100000 µs period ("0.5" -> 50000). */
export function parseCpus(s: string): number {
  // Decimal digits are taken exactly (no float rounding): nano-CPUs, as docker counts them.
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || !/\d/.test(s)) throw invalid(`failed to parse ${s} as a rational number`);
  const [, whole, frac = ''] = m;
  if (frac.replace(/0+$/, '').length > 9) throw invalid(`value is too precise: ${s}`);
  const nano = Number(whole || '0') * 1e9 + Number(frac.slice(0, 9).padEnd(9, '0'));
  const n = os.availableParallelism();
  // The kernel's smallest quota is 1000 µs, i.e. 0.01 CPUs: the lower end of docker's message.
  if (nano < 1e7 || nano > n * 1e9) throw invalid(`range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  return Math.floor(nano / 1e4);
}

/** Go's time.ParseDuration subset docker's flags take ("30s", "1m30s", "500ms", "1h"), in nanoseconds. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]];
    end = re.lastIndex;
  }
  if (s === '0') return 0; // Go takes a bare zero without a unit (HEALTHCHECK --timeout=0)
  if (!s || end !== s.length) throw invalid(`invalid duration: "${s}"`);
  return Math.round(total);
}

/** docker's "2 hours ago" style. */
export function since(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 1) return 'Less than a second ago';
  if (s === 1) return '1 second ago';
  if (s < 60) return `${s} seconds ago`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute ago' : `${m} minutes ago`;
  const h = Math.round(s / 3600);
  if (h < 48) return h === 1 ? 'About an hour ago' : `${h} hours ago`;
  const d = Math.round(s / 86400);
  if (d < 14) return `${d} days ago`;
  if (d < 60) return `${Math.round(d / 7)} weeks ago`;
  if (d < 730) return `${Math.round(d / 30)} months ago`;
  return `${Math.round(d / 365)} years ago`;
}
