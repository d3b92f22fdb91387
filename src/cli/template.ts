// The part of docker's Go templates that scripts use: {{.A.B}}, {{json .A}}, {{.}} and plain text.
// `--format json` is docker's shortcut for one JSON object per line.
import { invalid } from '../core/errors.ts';

function lookup(data: unknown, dotted: string): unknown {
  if (dotted === '.') return data;
  let v: unknown = data;
  for (const key of dotted.slice(1).split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as object).map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

export function renderTemplate(format: string, data: unknown): string {
  if (format === 'json') return JSON.stringify(data);
  // Escapes belong to the format the user typed, never to the values substituted into it.
  const typed = format.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return typed.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    const json = /^json\s+(\.\S*)$/.exec(expr);
    if (json) return JSON.stringify(lookup(data, json[1]) ?? null);
    if (/^\.[\w.]*$/.test(expr)) return show(lookup(data, expr));
    throw invalid(`template: unsupported expression "{{${expr}}}"`);
  });
}
