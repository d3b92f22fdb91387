// A compose file checked against the spec's schema (schema.ts) with ajv. Of ajv's errors the
// one deepest in the file is reported, in compose's words: the file, the path in it, and what
// was expected (`compose.yaml: services.web.ports[0] must be a string or number`).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { invalid } from '../core/errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { COMPOSE_SCHEMA } from './schema.ts';

// ajv is CommonJS: under Node's ESM loader its class is the default export's `default`.
type AjvInstance = { compile(schema: object): ValidateFunction };
type AjvClass = new (opts: object) => AjvInstance;
const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as unknown as AjvClass;
type Standalone = (ajv: AjvInstance, v: ValidateFunction) => string;
const standalone = ((standaloneModule as unknown as { default?: Standalone }).default ?? standaloneModule) as unknown as Standalone;
let compiled: { ajv: AjvInstance; fn: ValidateFunction } | undefined;

// Our own schema needs no meta-validation (a unit test compiles it with that), and the code
// ajv generates for it runs once per command: unoptimised code compiles in half the time.
const OPTIONS = { allErrors: true, strict: false, validateSchema: false, code: { optimize: false, source: true } };

/**
 * The validator: ajv's code for our schema, compiled once and kept in `cacheDir` (the state
 * root's cache, as compiled seccomp programs are), so a command loads it (~20 ms) instead of
 * compiling it (~100-150 ms). The file is named by the schema and the options; the code it
 * holds needs nothing of ajv at run time, so it stays valid whatever ajv is installed.
 */
function validator(cacheDir?: string): ValidateFunction {
  const file = cacheDir && path.join(cacheDir, `compose-schema-${createHash('sha256').update(JSON.stringify([COMPOSE_SCHEMA, OPTIONS])).digest('hex').slice(0, 16)}.cjs`);
  if (!file) return fresh().fn;
  let fn = loaded.get(file);
  if (fn) return fn;
  try {
    const code = fs.readFileSync(file, 'utf8');
    const module: { exports: { default?: ValidateFunction } } = { exports: {} };
    new Function('module', 'exports', 'require', code)(module, module.exports, (id: string) => {
      throw new Error(`compose schema code asks for ${id}`);
    });
    fn = (module.exports.default ?? module.exports) as ValidateFunction;
    if (typeof fn !== 'function') throw new Error('not a validator');
  } catch {
    // Missing or damaged: compiled again, and kept for the next command.
    const f = fresh();
    fn = f.fn;
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      writeFileAtomic(file, standalone(f.ajv, f.fn), { mode: 0o600 });
    } catch {}
  }
  loaded.set(file, fn);
  return fn;
}

const loaded = new Map<string, ValidateFunction>();

function fresh(): { ajv: AjvInstance; fn: ValidateFunction } {
  if (compiled) return compiled;
  const ajv = new Ajv(OPTIONS);
  return (compiled = { ajv, fn: ajv.compile(COMPOSE_SCHEMA) });
}

/** `/services/web/ports/0` as compose writes it: `services.web.ports[0]`. */
function dotted(pointer: string): string {
  let out = '';
  for (const seg of pointer.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out ? `.${key}` : key;
  }
  return out;
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

function describe(errors: ErrorObject[], path: string): string {
  const here = errors.filter((e) => e.instancePath === path);
  const extra = here.find((e) => e.keyword === 'additionalProperties');
  const where = dotted(path) || '(top level)';
  if (extra) return `${where}: additional property ${(extra.params as { additionalProperty: string }).additionalProperty} is not allowed`;
  const required = here.find((e) => e.keyword === 'required');
  if (required) return `${where}: ${(required.params as { missingProperty: string }).missingProperty} is required`;
  const en = here.find((e) => e.keyword === 'enum');
  if (en) return `${where} must be one of ${(en.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  const pattern = here.find((e) => e.keyword === 'pattern');
  if (pattern) return `${where} does not match ${(pattern.params as { pattern: string }).pattern}`;
  const types = new Set<string>();
  for (const e of here) if (e.keyword === 'type') for (const t of ([] as string[]).concat((e.params as { type: string | string[] }).type)) types.add(t === 'integer' ? 'number' : t === 'object' ? 'mapping' : t === 'array' ? 'list' : t);
  if (types.size) {
    const list = [...types].map(article);
    return `${where} must be ${list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list.at(-1)}` : list[0]}`;
  }
  const e = here[0] ?? errors[0];
  return `${where} ${e.message ?? 'is invalid'}`;
}

export function validate(model: unknown, file: string, cacheDir?: string): void {
  const check = validator(cacheDir);
  if (check(model)) return;
  const errors = check.errors ?? [];
  // The deepest path is the most precise (a oneOf's branches all fail at the value itself).
  const depth = (p: string) => p.split('/').length;
  let best = errors[0];
  for (const e of errors) if (depth(e.instancePath) > depth(best.instancePath)) best = e;
  throw invalid(`${file}: ${describe(errors, best.instancePath)}`);
}
