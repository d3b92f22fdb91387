// The Dockerfile parser: text in, stages out. Pure: no I/O, no variable expansion (the builder
// expands words when it dispatches, once ARG and ENV values are known).

import { BerthError } from '../../core/errors.ts';
import type { Dockerfile, From, Heredoc, Instruction, Stage } from '../types.ts';
import { trimSpace } from './chars.ts';
import { atLine, parseError } from './errors.ts';
import { markersOf } from './heredoc.ts';
import { parseFrom, parseInstruction, takesHeredocs, type Request } from './instructions.ts';
import { LineReader } from './lexer.ts';
import { splitCommand } from './split.ts';

export { expandWord, expandWords } from './words.ts';
export { heredocFile, heredocText } from './heredoc.ts';

/** Reads the instructions of `text` one by one, heredoc bodies included. */
function* requests(reader: LineReader, file: string): Generator<Request> {
  for (let ll = reader.next(); ll; ll = reader.next()) {
    const line = ll.line;
    try {
      const split = splitCommand(ll.text, reader.escape);
      const heredocs: Heredoc[] = [];
      if (ll.text.includes('<<') && takesHeredocs(split.keyword, split.args, reader.escape)) {
        for (const marker of markersOf(ll.text)) {
          const content = reader.heredoc(marker.name, marker.chomp);
          if (content === undefined) throw new Error(`unterminated heredoc <<${marker.name} (no line "${marker.name}" after it)`);
          heredocs.push({ ...marker, content });
        }
      }
      const source = { file, line, endLine: reader.lineNumber, text: trimSpace(ll.text) };
      yield { ...split, source, heredocs, escape: reader.escape };
    } catch (err) {
      throw positioned(err, file, line);
    }
  }
}

function positioned(err: unknown, file: string, line: number): unknown {
  if (err instanceof BerthError && err.message.startsWith(`${file}:`)) return err;
  if (err instanceof Error) return atLine(file, line, err);
  return err;
}

/**
 * Parses a Dockerfile. Throws a BerthError (InvalidArgument) with `file:line: message` for
 * anything docker would refuse at parse time.
 */
export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const reader = new LineReader(text, file);
  const globalArgs: Extract<Instruction, { kind: 'ARG' }>[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  let last = 0;
  for (const r of requests(reader, file)) {
    last = r.source.line;
    try {
      if (r.keyword.toUpperCase() === 'FROM') {
        const from: From = parseFrom(r);
        if (from.name !== undefined) {
          const prev = names.get(from.name);
          if (prev !== undefined) throw new Error(`duplicate stage name "${from.name}" (also on line ${prev})`);
          names.set(from.name, r.source.line);
        }
        stages.push({ index: stages.length, from, instructions: [] });
        continue;
      }
      const instr = parseInstruction(r);
      const stage = stages[stages.length - 1];
      if (stage) stage.instructions.push(instr);
      else if (instr.kind === 'ARG') globalArgs.push(instr);
      else throw new Error(`${instr.kind} before the first FROM: only ARG may come before FROM`);
    } catch (err) {
      throw positioned(err, file, r.source.line);
    }
  }
  if (!last) throw parseError(file, Math.max(1, reader.lineNumber), 'file with no instructions');
  if (!stages.length) throw parseError(file, last, 'no FROM instruction: a Dockerfile needs at least one build stage');
  return { directives: { ...reader.directives.directives }, escape: reader.escape, globalArgs, stages };
}

/**
 * Parses the ONBUILD triggers inherited from a base image (its config's OnBuild list), for a child
 * build to run right after its FROM. Each expression must be one instruction (its heredoc bodies
 * after it), read with the default escape character, as BuildKit does.
 */
export function parseTriggers(expressions: string[], file: string): Instruction[] {
  const out: Instruction[] = [];
  for (const [i, expr] of expressions.entries()) {
    const name = `${file} (ONBUILD trigger ${i + 1})`;
    const found: Instruction[] = [];
    for (const r of requests(new LineReader(expr, name), name)) {
      const kw = r.keyword.toUpperCase();
      try {
        if (kw === 'ONBUILD' || kw === 'FROM' || kw === 'MAINTAINER') throw new Error(`${kw} isn't allowed as an ONBUILD trigger`);
        found.push(parseInstruction(r));
      } catch (err) {
        throw positioned(err, name, r.source.line);
      }
    }
    if (found.length !== 1) throw parseError(name, 1, 'onbuild trigger should be a single expression');
    out.push(found[0]);
  }
  return out;
}
