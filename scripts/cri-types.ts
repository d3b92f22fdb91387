// Writes src/cri/types.ts and src/cri/types/*.ts (by concern) from src/cri/runtime-v1.proto: one TS interface per message, one string
// union per enum, shaped as @grpc/proto-loader hands them over with the CRI's options (snake_case
// names, enums as their names, 64-bit integers as decimal strings, maps as plain objects, a
// missing message as null). The proto is the source; a unit test checks the file is current.
// Usage: node scripts/cri-types.ts [--check]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROTO = path.join(REPO, 'src/cri/runtime-v1.proto');
const OUT = path.join(REPO, 'src/cri/types.ts');

// protobufjs comes with @grpc/proto-loader (it parses the proto there too).
const require = createRequire(path.join(REPO, 'node_modules/@grpc/proto-loader/package.json'));

interface PbField { name: string; type: string; repeated: boolean; map?: boolean; keyType?: string; resolvedType: PbNamespace | null }
interface PbNamespace { name: string; fullName: string; nestedArray?: PbNamespace[]; fieldsArray?: PbField[]; values?: Record<string, number>; methodsArray?: unknown[] }

const SCALARS: Record<string, string> = {
  string: 'string', bool: 'boolean', bytes: 'Buffer', double: 'number', float: 'number',
  int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number', sfixed32: 'number',
  int64: 'Int64', uint64: 'Int64', sint64: 'Int64', fixed64: 'Int64', sfixed64: 'Int64',
};

/**
 * The files by concern: a message goes with the first group (in this order) whose calls reach it,
 * so a group's messages refer only to its own and earlier groups' (no import cycles).
 */
const GROUPS: Array<{ file: string; about: string; calls: (service: string, method: string) => boolean }> = [
  { file: 'images', about: 'the ImageService: images, their specs and pulls\' credentials', calls: (svc) => svc === 'ImageService' },
  { file: 'runtime', about: 'the runtime itself: version, status, configuration, events', calls: (_, m) => /^(Version|Status|UpdateRuntimeConfig|RuntimeConfig|GetContainerEvents)$/.test(m) },
  { file: 'pods', about: 'pod sandboxes: their configuration, status and port forwarding', calls: (_, m) => /PodSandbox|PortForward/.test(m) && !/Stats|Metric/.test(m) },
  { file: 'containers', about: 'containers: configuration, status, resources, exec and attach', calls: (_, m) => !/Stats|Metric/.test(m) },
  { file: 'stats', about: 'statistics and metrics of containers and pods', calls: () => true },
];
const DIR = path.join(REPO, 'src/cri/types');

/** The generated files, by path: src/cri/types.ts (shared types, calls, re-exports) and one per group. */
export function generate(): Map<string, string> {
  const pb = require('protobufjs');
  const root = new pb.Root().loadSync(PROTO, { keepCase: true }).resolveAll();
  const pkg = root.lookup('runtime.v1') as PbNamespace;
  const nameOf = (t: PbNamespace): string => t.fullName.replace(/^\.runtime\.v1\./, '').replace(/\./g, '_');
  const header = (what: string) => [
    `// The CRI's messages (gRPC runtime.v1) as handlers see them${what}; generated from runtime-v1.proto by`,
    '// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every',
    '// field present (scalars at their zero value, lists empty, a missing message null); replies may',
    '// leave fields out (Reply<T>), which the client then reads as their zero value.',
    '',
  ];
  // Every message and enum, in the proto's order, with what it refers to.
  const types: PbNamespace[] = [];
  const collect = (ns: PbNamespace) => {
    for (const o of ns.nestedArray ?? []) {
      if (o.values || o.fieldsArray) types.push(o);
      if (o.nestedArray && !o.methodsArray) collect(o);
    }
  };
  collect(pkg);
  const group = new Map<string, string>();
  const assign = (t: PbNamespace, file: string) => {
    if (group.has(nameOf(t))) return;
    group.set(nameOf(t), file);
    for (const f of t.fieldsArray ?? []) if (f.resolvedType) assign(f.resolvedType, file);
  };
  type Method = { name: string; resolvedRequestType: PbNamespace; resolvedResponseType: PbNamespace; responseStream?: boolean };
  const services = (pkg.nestedArray ?? []).filter((o) => o.methodsArray);
  for (const g of GROUPS) {
    for (const svc of services) for (const m of svc.methodsArray as Method[]) if (g.calls(svc.name, m.name)) [m.resolvedRequestType, m.resolvedResponseType].forEach((t) => assign(t, g.file));
  }
  const files = new Map<string, string>();
  for (const g of GROUPS) {
    const out: string[] = [];
    const used = new Set<string>();
    for (const o of types.filter((t) => group.get(nameOf(t)) === g.file)) {
      if (o.values) {
        out.push(`export type ${nameOf(o)} = ${Object.keys(o.values).map((k) => `'${k}'`).join(' | ')};`, '');
        continue;
      }
      out.push(`export interface ${nameOf(o)} {`);
      for (const f of o.fieldsArray!) {
        const r = f.resolvedType;
        let t = r ? nameOf(r) : SCALARS[f.type];
        if (!t) throw new Error(`unknown type ${f.type} of ${o.fullName}.${f.name}`);
        if (r && group.get(t) !== g.file) used.add(t);
        if (t === 'Int64') used.add('Int64');
        if (f.map) t = `Record<string, ${t}>`;
        else if (f.repeated) t = `${t}[]`;
        else if (r && !r.values) t = `${t} | null`;
        out.push(`  ${f.name}: ${t};`);
      }
      out.push('}', '');
    }
    const imports: string[] = [];
    if (used.delete('Int64')) imports.push("import type { Int64 } from './int64.ts';");
    for (const other of GROUPS) {
      const names = [...used].filter((n) => group.get(n) === other.file).sort();
      if (names.length) imports.push(`import type { ${names.join(', ')} } from './${other.file}.ts';`);
    }
    files.set(path.join(DIR, `${g.file}.ts`), [...header(`: ${g.about}`), ...imports, ...(imports.length ? [''] : []), ...out].join('\n'));
  }
  files.set(path.join(DIR, 'int64.ts'), [
    '// Generated by scripts/cri-types.ts (do not edit).',
    '/** A 64-bit integer: requests carry it as a decimal string; a reply may give a number. */',
    'export type Int64 = string | number;',
    '',
  ].join('\n'));
  // src/cri/types.ts: the shared types, every group re-exported, and each service's calls.
  const main: string[] = [
    ...header(''),
    "export type { Int64 } from './types/int64.ts';",
    '',
    '/** A reply: any field may be left out. */',
    'export type Reply<T> = T extends Buffer ? T : T extends Array<infer U> ? Array<Reply<U>> : T extends object ? { [K in keyof T]?: Reply<T[K]> | null } : T;',
    '',
    ...GROUPS.map((g) => `export type * from './types/${g.file}.ts';`),
  ];
  const callTypes = new Set<string>();
  const calls: string[] = [];
  for (const svc of services) {
    calls.push(`export interface ${svc.name}Calls {`);
    for (const m of svc.methodsArray as Method[]) {
      const [req, res] = [nameOf(m.resolvedRequestType), nameOf(m.resolvedResponseType)];
      callTypes.add(req).add(res);
      calls.push(`  ${m.name}: { request: ${req}; reply: ${res}; stream: ${m.responseStream ? 'true' : 'false'} };`);
    }
    calls.push('}', '');
  }
  for (const g of GROUPS) {
    const names = [...callTypes].filter((n) => group.get(n) === g.file).sort();
    if (names.length) main.push(`import type { ${names.join(', ')} } from './types/${g.file}.ts';`);
  }
  files.set(OUT, [...main, '', ...calls].join('\n'));
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = generate();
  if (process.argv.includes('--check')) {
    const stale = [...files].filter(([f, text]) => !fs.existsSync(f) || fs.readFileSync(f, 'utf8') !== text).map(([f]) => path.relative(REPO, f));
    if (stale.length) {
      console.error(`${stale.join(', ')} out of date: node scripts/cri-types.ts`);
      process.exit(1);
    }
  } else {
    fs.mkdirSync(DIR, { recursive: true });
    for (const [f, text] of files) fs.writeFileSync(f, text);
  }
}
