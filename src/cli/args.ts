// Command-line flags with docker's (pflag's) grammar and error messages, so that command lines
// written for docker parse the same way here.
import { invalid } from '../core/errors.ts';

export type FlagSpec = {
  name: string; // long, e.g. "env"
  short?: string; // "e"
  type: 'bool' | 'string' | 'list'; // list: repeatable string
};

export interface Parsed {
  flags: Map<string, string | boolean | string[]>;
  positionals: string[];
}

/** Go's strconv.ParseBool, which pflag uses for `--flag=value` on bool flags. */
function parseBool(v: string, flag: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw invalid(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/**
 * Parses `argv` (without the command names). Flags may follow positionals unless
 * `stopAtPositional`, where the first positional ends the flags (`run IMAGE CMD ARGS...`).
 */
export function parseArgs(argv: string[], specs: FlagSpec[], opts?: { stopAtPositional?: boolean }): Parsed {
  const long = new Map<string, FlagSpec>();
  const short = new Map<string, FlagSpec>();
  for (const s of specs) {
    long.set(s.name, s);
    if (s.short) short.set(s.short, s);
  }
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  const set = (spec: FlagSpec, value: string | true, display: string) => {
    if (spec.type === 'bool') flags.set(spec.name, value === true || parseBool(value, display));
    else if (spec.type === 'list') {
      const list = (flags.get(spec.name) as string[] | undefined) ?? [];
      list.push(value as string);
      flags.set(spec.name, list);
    } else flags.set(spec.name, value as string);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = long.get(name);
      if (!spec) throw invalid(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, a.slice(eq + 1), `--${name}`);
      else if (spec.type === 'bool') set(spec, true, `--${name}`);
      // Like pflag, the next argument is the value even if it looks like a flag.
      else if (i + 1 < argv.length) set(spec, argv[++i], `--${name}`);
      else throw invalid(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A group of shorthands: bools until one that takes a value, which gets the rest of the
      // group ("-eA=b", "-e=A=b") or else the next argument ("-ite FOO").
      const group = a.slice(1);
      for (let j = 0; j < group.length; j++) {
        const c = group[j];
        const spec = short.get(c);
        if (!spec) throw invalid(`unknown shorthand flag: '${c}' in -${group}`);
        const rest = group.slice(j + 1);
        if (rest.startsWith('=')) {
          set(spec, rest.slice(1), `-${c}, --${spec.name}`);
          break;
        }
        if (spec.type === 'bool') {
          set(spec, true, `-${c}, --${spec.name}`);
          continue;
        }
        if (rest) set(spec, rest, `-${c}, --${spec.name}`);
        else if (i + 1 < argv.length) set(spec, argv[++i], `-${c}, --${spec.name}`);
        else throw invalid(`flag needs an argument: '${c}' in -${group}`);
        break;
      }
      continue;
    }
    if (opts?.stopAtPositional) {
      positionals.push(...argv.slice(i));
      break;
    }
    positionals.push(a);
  }
  return { flags, positionals };
}

/** Repeated KEY=VALUE flags (--label): a KEY alone has an empty value. */
export function labels(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}
