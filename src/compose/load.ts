// From command-line options to a project: which files, the environment for interpolation,
// each file read (YAML, interpolation, schema, normalisation, include, extends), the files
// merged, then project-wide defaults and checks (finalize.ts). Reads files; decides nothing
// about containers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../core/errors.ts';
import { parseDotenv } from './dotenv.ts';
import { finalize } from './finalize.ts';
import { interpolateTree, type Lookup } from './interpolate.ts';
import { mergeValue, stripTags } from './merge.ts';
import { normalizeService } from './normalize.ts';
import type { Project, Service } from './types.ts';
import { validate } from './validate.ts';
import { parseYaml, Tagged } from './yaml.ts';

type Json = Record<string, unknown>;

export interface LoadOptions {
  /** -f, in order; none: COMPOSE_FILE, else compose.yaml (and its override) found from cwd up. */
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  /** Services named on the command line: enabled whatever their profiles. */
  targets?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Where the schema's compiled validator may be kept between commands. */
  cacheDir?: string;
}

const CANDIDATES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** compose.yaml (or its older names) in `dir` or the nearest parent, with its override file. */
export function findFiles(dir: string): string[] {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const found = CANDIDATES.find((c) => fs.existsSync(path.join(d, c)));
    if (found) {
      const override = found.replace(/\.(ya?ml)$/, '.override.$1');
      const alt = override.endsWith('.yaml') ? override.replace(/\.yaml$/, '.yml') : override.replace(/\.yml$/, '.yaml');
      const extra = [override, alt].find((o) => fs.existsSync(path.join(d, o)));
      return [path.join(d, found), ...(extra ? [path.join(d, extra)] : [])];
    }
    if (path.dirname(d) === d) throw invalid('no configuration file provided: not found');
  }
}

/** docker compose's project name rule: lower case, [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

interface FileCtx {
  lookup: Lookup;
  unset: Set<string>;
  warnings: string[];
  /** Files being read (include and extends chains), to refuse cycles. */
  stack: string[];
  cacheDir?: string;
}

/** One file read and made canonical; `baseDir` is where its relative paths start. */
function readFile(file: string, baseDir: string, ctx: FileCtx): Json {
  if (ctx.stack.includes(file)) throw invalid(`${file}: include or extends cycle: ${[...ctx.stack, file].join(' -> ')}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  const shown = path.basename(file);
  const parsed = parseYaml(text, shown) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed) || parsed instanceof Tagged) throw invalid(`${shown}: the top level must be a mapping`);
  const model = interpolateTree(parsed, ctx.lookup, ctx.unset) as Json;
  validate(stripTags(model), shown, ctx.cacheDir);
  if (model.version !== undefined) ctx.warnings.push(`${shown}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
  delete model.version;
  const inner = { ...ctx, stack: [...ctx.stack, file] };

  // A top-level key tagged `!reset` is dropped, `!override` is its value (in one file, both are
  // what the value says); the rest of this function reads plain values.
  for (const key of ['services', 'include'] as const) {
    const v = model[key];
    if (v instanceof Tagged) model[key] = v.tag === 'reset' ? undefined : v.value as Json;
  }
  const services: Record<string, Service> = {};
  for (const [name, raw] of Object.entries((model.services as Record<string, Json | Tagged | null>) ?? {})) {
    // A whole service may be tagged too: `!reset` drops it, `!override` replaces it.
    if (raw instanceof Tagged) services[name] = (raw.tag === 'reset' ? raw : new Tagged('override', normalizeTagged(name, (raw.value as Json) ?? {}, baseDir, ctx.lookup, shown))) as unknown as Service;
    else services[name] = normalizeTagged(name, raw ?? {}, baseDir, ctx.lookup, shown);
  }
  for (const name of Object.keys(services)) if (!(services[name] instanceof Tagged)) services[name] = resolveExtends(name, services, file, baseDir, inner, []);
  model.services = services;

  for (const entry of (model.include as Array<string | Json> | undefined) ?? []) {
    const e = typeof entry === 'string' ? { path: entry } : entry;
    const paths = ([] as string[]).concat(e.path as string | string[]).map((p) => path.resolve(path.dirname(file), p));
    const projectDir = e.project_directory ? path.resolve(path.dirname(file), String(e.project_directory)) : path.dirname(paths[0]);
    let lookup = ctx.lookup;
    if (e.env_file !== undefined) {
      const vars: Record<string, string> = {};
      for (const f of ([] as string[]).concat(e.env_file as string | string[])) {
        let text: string;
        try {
          text = fs.readFileSync(path.resolve(path.dirname(file), f), 'utf8');
        } catch (err) {
          throw invalid(`${shown}: include: couldn't read env file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        Object.assign(vars, parseDotenv(text, f, ctx.lookup));
      }
      lookup = (n) => ctx.lookup(n) ?? vars[n];
    }
    let included: Json = {};
    for (const p of paths) included = mergeValue(included, readFile(p, projectDir, { ...inner, lookup }), []) as Json;
    for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
      const mine = (model[kind] ??= {}) as Json;
      for (const [k, v] of Object.entries((included[kind] as Json) ?? {})) {
        if (k in mine) throw invalid(`${shown}: ${kind}.${k} conflicts with imported resource`);
        mine[k] = v;
      }
    }
  }
  delete model.include;
  return model;
}

/** A service's own keys normalised; a key tagged !reset / !override keeps its tag for the merge. */
function normalizeTagged(name: string, raw: Json, baseDir: string, lookup: Lookup, file: string): Service {
  const plain: Json = {};
  const tagged: Record<string, Tagged> = {};
  for (const [k, v] of Object.entries(raw)) (v instanceof Tagged ? (tagged[k] = v) : (plain[k] = v));
  const s = normalizeService(name, plain, baseDir, lookup, file);
  for (const [k, t] of Object.entries(tagged)) {
    const v = t.tag === 'reset' ? t.value : normalizeService(name, { [k]: stripTags(t.value) }, baseDir, lookup, file)[k === 'env_file' ? 'environment' : k];
    s[k === 'env_file' && t.tag !== 'reset' ? 'environment' : k] = new Tagged(t.tag, v);
  }
  return s;
}

/** `extends`: the base service (this file's or another's), then this one merged onto it. */
function resolveExtends(name: string, services: Record<string, Service>, file: string, baseDir: string, ctx: FileCtx, chain: string[]): Service {
  const s = services[name];
  const ext = s.extends;
  if (!ext) return s;
  if (chain.includes(name)) throw invalid(`${path.basename(file)}: services.${name}: extends cycle: ${[...chain, name].join(' -> ')}`);
  let base: Service;
  if (ext.file) {
    const other = path.resolve(baseDir, ext.file);
    const model = readFile(other, path.dirname(other), ctx);
    base = (model.services as Record<string, Service>)[ext.service];
    if (!base) throw invalid(`${path.basename(file)}: services.${name}.extends: no service "${ext.service}" in ${ext.file}`);
  } else {
    if (!services[ext.service]) throw invalid(`${path.basename(file)}: services.${name}.extends: no service "${ext.service}"`);
    base = resolveExtends(ext.service, services, file, baseDir, ctx, [...chain, name]);
  }
  const { extends: _drop, ...own } = s;
  const merged = mergeValue({ services: { [name]: base } }, { services: { [name]: own } }, []) as { services: Record<string, Service> };
  return merged.services[name];
}

export function loadProject(opts: LoadOptions = {}): Project {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  let files = opts.files?.length ? opts.files.map((f) => path.resolve(cwd, f)) : undefined;
  if (!files && env.COMPOSE_FILE) files = env.COMPOSE_FILE.split(env.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean).map((f) => path.resolve(cwd, f));
  files ??= findFiles(cwd);
  const projectDir = path.resolve(cwd, opts.projectDirectory ?? path.dirname(files[0]));

  // The environment wins over .env (or --env-file), which fills in what it lacks.
  const dotenv: Record<string, string> = {};
  const envFiles = opts.envFiles?.length ? opts.envFiles.map((f) => path.resolve(cwd, f)) : [path.join(projectDir, '.env')];
  for (const f of envFiles) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      if (!opts.envFiles?.length && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw invalid(`couldn't read env file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    Object.assign(dotenv, parseDotenv(text, f, (n) => env[n] ?? dotenv[n]));
  }
  const lookup: Lookup = (n) => env[n] ?? dotenv[n];
  const ctx: FileCtx = { lookup, unset: new Set(), warnings: [], stack: [], cacheDir: opts.cacheDir };

  let model: Json = {};
  for (const f of files) model = mergeValue(model, readFile(f, projectDir, ctx), []) as Json;
  model = stripTags(model) as Json;

  const given = opts.projectName ?? lookup('COMPOSE_PROJECT_NAME') ?? (model.name as string | undefined) ?? path.basename(projectDir);
  const name = normalizeProjectName(given);
  if (!name) throw invalid(`project name "${given}" must contain a lowercase letter or a digit (-p NAME)`);
  if (opts.projectName !== undefined && name !== opts.projectName) throw invalid(`invalid project name "${opts.projectName}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);

  const profiles = opts.profiles?.length ? opts.profiles : (lookup('COMPOSE_PROFILES') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const warnings = [...[...ctx.unset].map((v) => `The "${v}" variable is not set. Defaulting to a blank string.`), ...ctx.warnings];
  const environment = Object.fromEntries(Object.entries({ ...dotenv, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
  return finalize(model, { name, workingDir: projectDir, configFiles: files, profiles, targets: opts.targets ?? [], environment, warnings });
}
