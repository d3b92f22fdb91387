// `--format` as the docker CLI reads it: Go templates (src/cli/template/), the `json` shortcut,
// and the `table` directive, which prints a header row and aligns the columns.
import { TemplateError } from './template/errors.ts';
import { execute } from './template/exec.ts';
import { FUNC_NAMES, FUNCS, HEADER_FUNCS } from './template/funcs.ts';
import { parse, type Parsed } from './template/parser.ts';
import { tabwrite } from './template/tabwriter.ts';
import { goMap, markMaps } from './template/values.ts';

export { TemplateError } from './template/errors.ts';
export { goStruct } from './template/values.ts';
export { tabwrite } from './template/tabwriter.ts';

export interface Template {
  text: string;
  parsed: Parsed;
}

/** Parses a Go template with docker's functions; throws TemplateError. */
export function compile(text: string, name = ''): Template {
  return { text, parsed: parse(text, FUNC_NAMES, name) };
}

export function run(t: Template, data: unknown): string {
  return execute(t.parsed, t.text, data, FUNCS);
}

/** One value through a template (system df -v with a format renders its whole usage object). */
export function renderTemplate(format: string, data: unknown): string {
  return run(compile(format === 'json' ? '{{json .}}' : format), data);
}

/** What a listing command's formatter knows: its default table and its column names. */
export interface ListSpec {
  table: string; // docker's default `table ...` format
  headers: Record<string, string>;
  quiet?: string; // the format -q selects
  /** `--format raw`: docker's "key: value" lines per object (and with -q). */
  raw?: { format: string; quiet: string };
  /** -q wins over a custom format too (ps); elsewhere it only replaces the table. */
  quietOverrides?: boolean;
}

const PREFIX = 'template parsing error: ';

/** Format.templateString: the `table` word off, spaces trimmed, `\t` and `\n` typed as escapes made real. */
function templateString(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  const body = format.startsWith('table') ? format.slice('table'.length) : format;
  return body.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function prefixed(err: unknown, prefix: string, exitStatus?: number): unknown {
  return err instanceof TemplateError ? new TemplateError(prefix + err.message, err.phase, exitStatus ?? err.exitStatus) : err;
}

/**
 * docker's formatter.Context.Write for a list: each row through the template, one per line;
 * with `table`, the same template run over the header names first (with HeaderFunctions), and
 * all of it through a tabwriter. The header is there even with no rows. Nothing is printed when
 * a row fails, as docker buffers until the end.
 */
export function formatList(format: string | undefined, rows: readonly object[], spec: ListSpec, opts: { quiet?: boolean } = {}): string {
  let source = format || 'table';
  const quiet = opts.quiet === true;
  if (source === 'raw' && spec.raw) source = quiet ? spec.raw.quiet : spec.raw.format;
  else if (quiet && (source === 'table' || spec.quietOverrides)) source = spec.quiet ?? '{{.ID}}';
  else if (source === 'table') source = spec.table;
  const text = templateString(source);
  let t: Template;
  try {
    t = compile(text);
  } catch (err) {
    throw prefixed(err, PREFIX);
  }
  let body = '';
  try {
    for (const row of rows) body += run(t, row) + '\n';
  } catch (err) {
    throw prefixed(err, PREFIX);
  }
  if (!source.startsWith('table')) return body;
  const header = goMap({ ...spec.headers, Label: (name: string) => headerLabel(name) });
  let head: string;
  try {
    head = execute(t.parsed, t.text, header, HEADER_FUNCS);
  } catch (err) {
    // docker ignores a header that fails to render, keeping what it wrote before the failure.
    if (!(err instanceof TemplateError)) throw err;
    head = err.partial;
  }
  return tabwrite(`${head}\n${body}`);
}

/** docker ps's first check: the format as typed, run on an empty context, with its own prefixes. */
export function validateFormat(format: string, empty: object): void {
  let t: Template;
  try {
    t = compile(format);
  } catch (err) {
    throw prefixed(err, 'failed to parse template: ');
  }
  try {
    run(t, empty);
  } catch (err) {
    throw prefixed(err, 'failed to execute template: ');
  }
}

/** SubHeaderContext.Label: `.Label "com.example.vendor"` is headed "vendor"... as docker does. */
function headerLabel(name: string): string {
  const last = name.split('.').pop() ?? '';
  return last.replace(/[-_]/g, ' ');
}

/**
 * docker inspect's --format: each object through the template (a failing object is reported and
 * the others still print); `json` prints one compact array. Returns what to print and the errors.
 */
export function formatInspect(format: string | undefined, objects: readonly unknown[]): { out: string; errors: string[] } {
  if (!format) return { out: JSON.stringify(objects, null, 4) + '\n', errors: [] };
  if (format === 'json') return { out: `[${objects.map((o) => JSON.stringify(o)).join(',')}]\n`, errors: [] };
  let t: Template;
  try {
    t = compile(format);
  } catch (err) {
    throw prefixed(err, 'template parsing error: ', 64);
  }
  let out = '';
  const errors: string[] = [];
  for (const o of objects) {
    markMaps(o);
    try {
      out += run(t, o) + '\n';
    } catch {
      // docker's TemplateInspector: the typed try failed, so again on the raw JSON with
      // missingkey=error; its error (or output) is what the user sees.
      try {
        out += execute(t.parsed, t.text, o, FUNCS, { missingKeyError: true }) + '\n';
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        errors.push(`template parsing error: ${err.message}`);
      }
    }
  }
  return { out: out || '\n', errors };
}
