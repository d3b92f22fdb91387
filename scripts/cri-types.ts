// Writes src/cri/types.ts from src/cri/runtime-v1.proto: one TS interface per message, one string
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

export function generate(): string {
  const pb = require('protobufjs');
  const root = new pb.Root().loadSync(PROTO, { keepCase: true }).resolveAll();
  const pkg = root.lookup('runtime.v1') as PbNamespace;
  const out: string[] = [
    '// The CRI\'s messages (gRPC runtime.v1) as handlers see them; generated from runtime-v1.proto by',
    '// scripts/cri-types.ts (do not edit: change the proto and run it). Requests arrive with every',
    '// field present (scalars at their zero value, lists empty, a missing message null); replies may',
    '// leave fields out (Reply<T>), which the client then reads as their zero value.',
    '',
    '/** A 64-bit integer: requests carry it as a decimal string; a reply may give a number. */',
    'export type Int64 = string | number;',
    '',
    '/** A reply: any field may be left out. */',
    'export type Reply<T> = T extends Buffer ? T : T extends Array<infer U> ? Array<Reply<U>> : T extends object ? { [K in keyof T]?: Reply<T[K]> | null } : T;',
    '',
  ];
  const nameOf = (t: PbNamespace): string => t.fullName.replace(/^\.runtime\.v1\./, '').replace(/\./g, '_');
  const walk = (ns: PbNamespace) => {
    for (const o of ns.nestedArray ?? []) {
      if (o.values) {
        out.push(`export type ${nameOf(o)} = ${Object.keys(o.values).map((k) => `'${k}'`).join(' | ')};`, '');
      } else if (o.fieldsArray) {
        out.push(`export interface ${nameOf(o)} {`);
        for (const f of o.fieldsArray) {
          const r = f.resolvedType;
          let t = r ? nameOf(r) : SCALARS[f.type];
          if (!t) throw new Error(`unknown type ${f.type} of ${o.fullName}.${f.name}`);
          if (f.map) t = `Record<string, ${t}>`;
          else if (f.repeated) t = `${t}[]`;
          else if (r && !r.values) t = `${t} | null`;
          out.push(`  ${f.name}: ${t};`);
        }
        out.push('}', '');
      }
      if (o.nestedArray && !o.methodsArray) walk(o);
    }
  };
  walk(pkg);
  // Each service's calls: request and reply types, and whether the reply is a stream.
  for (const svc of pkg.nestedArray ?? []) {
    if (!svc.methodsArray) continue;
    out.push(`export interface ${svc.name}Calls {`);
    for (const m of svc.methodsArray as Array<{ name: string; resolvedRequestType: PbNamespace; resolvedResponseType: PbNamespace; responseStream?: boolean }>)
      out.push(`  ${m.name}: { request: ${nameOf(m.resolvedRequestType)}; reply: ${nameOf(m.resolvedResponseType)}; stream: ${m.responseStream ? 'true' : 'false'} };`);
    out.push('}', '');
  }
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = generate();
  if (process.argv.includes('--check')) {
    if (fs.readFileSync(OUT, 'utf8') !== text) {
      console.error('src/cri/types.ts is out of date: node scripts/cri-types.ts');
      process.exit(1);
    }
  } else fs.writeFileSync(OUT, text);
}
