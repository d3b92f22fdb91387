// The Engine API's reference (moby's api/swagger.yaml, which setup.sh takes from Debian's Go
// sources of docker.io) as a checker of answers: for a request's method and path, the operation
// it documents, and whether an answer's status is one it lists and its body fits the schema.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';

export const SPEC = path.join(import.meta.dirname, '..', '..', '.cache', 'engine-api', 'swagger.yaml');

type Schema = Record<string, unknown>;
interface Operation { responses: Record<string, { schema?: Schema }> }

export class EngineApi {
  readonly version: string;
  private readonly routes: Array<{ template: string; re: RegExp; params: number; ops: Record<string, Operation> }>;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<Schema, ValidateFunction>();

  constructor(file = SPEC) {
    // One description in v1.41 continues a double-quoted string on a line indented like its key,
    // which YAML 1.2 parsers refuse: joined first.
    const text = fs.readFileSync(file, 'utf8').replace(/^(\s*[A-Za-z]+: "[^"\n]*)\n\s+([^"\n]*")$/gm, '$1 $2');
    const spec = errata(YAML.parse(text)) as { info: { version: string }; paths: Record<string, Record<string, Operation>>; definitions: Record<string, Schema> };
    this.version = spec.info.version;
    this.routes = Object.entries(spec.paths).map(([template, ops]) => ({
      template,
      ops,
      params: (template.match(/\{/g) ?? []).length,
      // {name} of an image may hold slashes (library/busybox): the last segments still anchor it.
      re: new RegExp(`^${template.replace(/\{name\}/g, '(.+)').replace(/\{[^}]+\}/g, '([^/]+)')}$`),
    })).sort((a, b) => a.params - b.params);
    // Go encodes nil slices and maps as null, and dockerd answers with them where the reference
    // names an array or an object: null is accepted wherever a type is.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    this.ajv.addSchema({ $id: 'engine', definitions: nullable(spec.definitions) });
  }

  /** The documented operation of METHOD PATH (query string ignored), or undefined. */
  operation(method: string, url: string): { template: string; op: Operation } | undefined {
    const p = url.split('?')[0].replace(/^\/v\d+\.\d+/, '');
    for (const r of this.routes) {
      const op = r.ops[method.toLowerCase()];
      if (op && r.re.test(p)) return { template: r.template, op };
    }
    return undefined;
  }

  /**
   * What is wrong with an answer, as messages (none: it is as documented). Only a JSON body is
   * checked against the schema (/_ping's text, a log stream's frames are not JSON).
   */
  check(method: string, url: string, status: number, body: string, contentType = 'application/json'): string[] {
    const found = this.operation(method, url);
    if (!found) return [`${method} ${url}: not in the Engine API ${this.version}`];
    const res = found.op.responses[String(status)] ?? found.op.responses.default;
    const where = `${method} ${found.template} -> ${status}`;
    if (!res) return [`${where}: status not documented (documented: ${Object.keys(found.op.responses).join(', ')})`];
    if (!res.schema || !contentType.includes('json')) return [];
    // A stream (events, progress) is one JSON document per line, each of the schema.
    const docs = /^\/events/.test(found.template) ? body.split('\n').filter(Boolean) : [body];
    const problems: string[] = [];
    for (const doc of docs) {
      let value: unknown;
      try {
        value = JSON.parse(doc);
      } catch {
        problems.push(`${where}: body is not JSON: ${doc.slice(0, 80)}`);
        continue;
      }
      const validate = this.validator(res.schema);
      if (!validate(value)) problems.push(...this.messages(where, validate));
    }
    return problems;
  }

  private messages(where: string, validate: ValidateFunction): string[] {
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
  }

  private validator(schema: Schema): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) this.compiled.set(schema, (v = this.ajv.compile(nullable(schema) as Schema)));
    return v;
  }
}

/**
 * Where the v1.41 reference disagrees with what dockerd 20.10 answers (each seen side by side
 * on this machine), the reference is corrected to dockerd's answer:
 * - `ContainerSummary` is the list /containers/json answers, while /system/df uses it as the
 *   type of one element: there an element is the list's element;
 * - a restart policy's Name is "no" when none is set (not in its enum);
 * - `Isolation` is "" on Linux (its enum lists Windows' kinds only).
 */
function errata(spec: any): unknown {
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    if (v.type === 'array' && v.items?.$ref === '#/definitions/ContainerSummary') return { $ref: '#/definitions/ContainerSummary' };
    const out: any = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x);
    if (Array.isArray(out.enum) && out.enum.includes('hyperv')) out.enum = ['', ...out.enum];
    return out;
  };
  const fixed = walk(spec);
  fixed.definitions.RestartPolicy.properties.Name.enum.push('no');
  return fixed;
}

/** The schema with null allowed beside every type, and its references into the `engine` schema. */
function nullable(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(nullable);
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/definitions\//, 'engine#/definitions/');
    else if (k === 'type' && typeof v === 'string') out[k] = [v, 'null'];
    else if (k === 'enum' && Array.isArray(v)) out[k] = [...v, null];
    else if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, x]) => [p, nullable(x)]));
    else if (k === 'example' || k === 'x-go-name') continue;
    else out[k] = nullable(v);
  }
  return out;
}
