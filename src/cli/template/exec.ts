// Executes a parsed template as text/template does: dot and variables, pipelines (the previous
// command's value becomes the last argument), if/with/range with their scopes, named templates,
// and Go's run-time messages ("template: :1:2: executing "" at <.Nope>: ...").
import { TemplateError } from './errors.ts';
import { CallError, type Func, type Param } from './funcs.ts';
import { argText, commandText, pipeText, type Arg, type Command, type Node, type Parsed, type Pipe, type Pos } from './parser.ts';
import { formatValue, GoFloat, isFormatterContext, isInt, isObject, typedNil, isStructLike, structType, truth, typeName, utf8, visitKeys } from './values.ts';

const NO_FINAL = Symbol('no final');
type Final = unknown | typeof NO_FINAL;

type Control = Extract<Node, { kind: 'if' | 'with' | 'range' }>;

class Break {}
class Continue {}

// Go stops at 100000 nested template calls; the step budget keeps a hostile template finite.
const MAX_DEPTH = 1_000;
const MAX_STEPS = 5_000_000;

export interface ExecOptions {
  /**
   * text/template's missingkey=error, over data that is all JSON (docker inspect's second try,
   * on the raw JSON, when its typed try failed): every missing key is an error and every value
   * is an interface {}.
   */
  missingKeyError?: boolean;
}

export function execute(parsed: Parsed, text: string, data: unknown, funcs: Record<string, Func>, opts: ExecOptions = {}): string {
  if (!opts.missingKeyError) {
    const fast = flatRender(parsed, data);
    if (fast !== undefined) return fast;
  }
  const state = new State(parsed, text, funcs, opts.missingKeyError === true);
  try {
    return state.run(data);
  } catch (err) {
    if (err instanceof TemplateError) err.partial = state.written();
    throw err;
  }
}

/**
 * The parts of a template made only of text and `{{.Field}}` actions (ps's and the other listings'
 * default tables), else null. Cached per parse: a listing runs one template per row.
 */
const flatParts = new WeakMap<Parsed, Array<string | { field: string }> | null>();

function flatOf(parsed: Parsed): Array<string | { field: string }> | null {
  let parts = flatParts.get(parsed);
  if (parts !== undefined) return parts;
  parts = [];
  for (const n of parsed.root) {
    if (n.kind === 'text') parts.push(n.text);
    else if (n.kind === 'action' && !n.pipe.decl.length && n.pipe.cmds.length === 1 && n.pipe.cmds[0].args.length === 1 && n.pipe.cmds[0].args[0].kind === 'field' && n.pipe.cmds[0].args[0].idents.length === 1) {
      parts.push({ field: n.pipe.cmds[0].args[0].idents[0] });
    } else {
      parts = null;
      break;
    }
  }
  flatParts.set(parsed, parts);
  return parts;
}

/**
 * A flat template over fields that are all strings: what walking it would print, without the
 * walk (over 1,000 rows the walk's generality was most of ps's formatting). Undefined whenever a
 * field is anything else (missing, a method, nil, a number...): the walk then decides, errors
 * and all.
 */
function flatRender(parsed: Parsed, data: unknown): string | undefined {
  const parts = flatOf(parsed);
  if (!parts || !isObject(data)) return undefined;
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = Object.hasOwn(data, p.field) ? data[p.field] : undefined;
    if (typeof v !== 'string') return undefined;
    out += v;
  }
  return out;
}

class State {
  private out = '';
  private vars: { name: string; value: unknown }[] = [];
  private name = '';
  private depth = 0;
  private steps = 0;

  private readonly parsed: Parsed;
  /** The template's text, whose UTF-8 bytes give an error's column (made only then: ps runs one template per row). */
  private readonly text: string;
  private readonly funcs: Record<string, Func>;
  private readonly raw: boolean;

  constructor(parsed: Parsed, text: string, funcs: Record<string, Func>, raw: boolean) {
    this.parsed = parsed;
    this.text = text;
    this.funcs = funcs;
    this.raw = raw;
  }

  /** A value's Go type: in raw JSON every composite is a map[string]interface {} or []interface {}. */
  private typeOf(v: unknown): string {
    if (this.raw && Array.isArray(v)) return '[]interface {}';
    if (this.raw && isObject(v)) return 'map[string]interface {}';
    return typeName(v);
  }

  written(): string {
    return this.out;
  }

  run(data: unknown): string {
    this.vars = [{ name: '$', value: data }];
    this.name = this.parsed.name;
    this.walkList(data, this.parsed.root);
    return this.out;
  }

  private fail(at: Pos, context: string, msg: string): never {
    const lineStart = utf8(this.text).lastIndexOf(0x0a, at.pos - 1) + 1;
    const col = at.pos - (at.pos === 0 ? 0 : lineStart);
    throw new TemplateError(`template: ${this.parsed.name}:${at.line}:${col}: executing ${JSON.stringify(this.name)} at <${context}>: ${msg}`, 'exec');
  }

  private walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  private walk(dot: unknown, node: Node): void {
    if (++this.steps > MAX_STEPS) this.fail(node, node.kind, 'template too expensive to execute');
    switch (node.kind) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (!node.pipe.decl.length) {
          if (typeof v === 'function') this.fail(node, `{{${argText(node.pipe.cmds[0].args[0])}}}`, "can't print method value");
          this.out += formatValue(v);
        }
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (truth(v)) this.walkList(node.kind === 'with' ? v : dot, node.list);
        else if (node.elseList) this.walkList(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.walkRange(dot, node as Control);
      case 'template': {
        const def = this.parsed.defs.get(node.name);
        const text = `{{template ${JSON.stringify(node.name)}${node.pipe ? ` ${pipeText(node.pipe)}` : ''}}}`;
        if (!def) this.fail(node, text, `template ${JSON.stringify(node.name)} not defined`);
        if (++this.depth > MAX_DEPTH) this.fail(node, text, `exceeded maximum template depth (${MAX_DEPTH})`);
        const v = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
        const [vars, name] = [this.vars, this.name];
        this.vars = [{ name: '$', value: v }];
        this.name = node.name;
        try {
          this.walkList(v, def);
        } finally {
          [this.vars, this.name] = [vars, name];
          this.depth--;
        }
        return;
      }
      case 'break': throw new Break();
      case 'continue': throw new Continue();
    }
  }

  private walkRange(dot: unknown, node: Control): void {
    const mark = this.vars.length;
    const v = this.evalPipeline(dot, node.pipe);
    const decl = node.pipe.decl;
    let items: Iterable<[unknown, unknown]> = [];
    if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (isObject(v) && structType(v) === undefined) items = visitKeys(v).sort().map((k) => [k, v[k]]);
    else if (isInt(v)) {
      // Go 1.22 ranges over an int: 0..n-1, one variable only.
      if (decl.length > 1) this.fail(node.pipe, `range ${argText(node.pipe.cmds[0].args[0])}`, `can't use ${v} to iterate over more than one variable`);
      items = (function* count(): Generator<[number, number]> {
        for (let i = 0; i < v; i++) yield [i, i];
      })();
    } else if (v !== undefined && v !== null) {
      // Go names the node it evaluated last: the last argument of the last command.
      const last = node.pipe.cmds[node.pipe.cmds.length - 1].args.at(-1)!;
      this.fail(last, argText(last), `range can't iterate over ${formatValue(v)}`);
    }
    let any = false;
    for (const [key, elem] of items) {
      any = true;
      if (++this.steps > MAX_STEPS) this.fail(node, 'range', 'template too expensive to execute');
      const inner = this.vars.length;
      // One variable is the element; two are the index (or key) and the element.
      if (decl.length === 1) this.setVar(decl[0], elem, node.pipe);
      if (decl.length === 2) {
        this.setVar(decl[0], key, node.pipe);
        this.setVar(decl[1], elem, node.pipe);
      }
      try {
        this.walkList(elem, node.list);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = inner;
      }
    }
    if (!any && node.elseList) this.walkList(dot, node.elseList);
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown, at: Pipe): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.fail(at, name, `undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    // A variable declared in a pipeline lives until the end of the enclosing control.
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value, pipe);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.kind) {
      case 'field': return this.evalFieldChain(dot, dot, first, first.idents, cmd, final);
      case 'chain': return this.evalChain(dot, first, cmd, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, final);
      case 'variable': return this.evalVariable(dot, first, cmd, final);
      case 'pipe':
        this.notAFunction(cmd, final, first.pipe);
        return this.evalPipeline(dot, first.pipe);
    }
    this.notAFunction(cmd, final);
    if (first.kind === 'nil') this.fail(first, 'nil', 'nil is not a command');
    return this.evalArg(dot, first);
  }

  /** Go names the first word, or for a parenthesized one the pipeline it is in. */
  private notAFunction(cmd: Command, final: Final, pipe?: Pipe): void {
    if (cmd.args.length <= 1 && final === NO_FINAL) return;
    const first = cmd.args[0];
    if (pipe) this.fail(cmd, commandText(cmd), `can't give argument to non-function ${pipeText(pipe)}`);
    this.fail(first, argText(first), `can't give argument to non-function ${argText(first)}`);
  }

  private evalArg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': case 'number': case 'string': return a.value;
      case 'field': return this.evalFieldChain(dot, dot, a, a.idents, undefined, NO_FINAL);
      case 'variable': return this.evalVariable(dot, a, undefined, NO_FINAL);
      case 'pipe': return this.evalPipeline(dot, a.pipe);
      case 'identifier': return this.evalFunction(dot, a, { ...a, args: [a] }, NO_FINAL);
      case 'chain': return this.evalChain(dot, a, undefined, NO_FINAL);
    }
  }

  private lookupVar(name: string, at: Pos): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return this.fail(at, name, `undefined variable: ${name}`);
  }

  private evalVariable(dot: unknown, v: Extract<Arg, { kind: 'variable' }>, cmd: Command | undefined, final: Final): unknown {
    const value = this.lookupVar(v.idents[0], v);
    if (v.idents.length === 1) {
      if (cmd) this.notAFunction(cmd, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), cmd, final);
  }

  private evalChain(dot: unknown, c: Extract<Arg, { kind: 'chain' }>, cmd: Command | undefined, final: Final): unknown {
    const receiver = this.evalArg(dot, c.node);
    return this.evalFieldChain(dot, receiver, c, c.fields, cmd, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Arg, idents: string[], cmd: Command | undefined, final: Final): unknown {
    for (let i = 0; i < idents.length - 1; i++) receiver = this.evalField(dot, idents[i], node, undefined, NO_FINAL, receiver);
    return this.evalField(dot, idents[idents.length - 1], node, cmd, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: Arg, cmd: Command | undefined, final: Final, receiver: unknown): unknown {
    if (receiver === undefined) {
      if (this.raw) this.fail(node, argText(node), `nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === null) this.fail(node, argText(node), `nil pointer evaluating interface {}.${name}`);
    const hasArgs = (cmd !== undefined && cmd.args.length > 1) || final !== NO_FINAL;
    if (!isObject(receiver)) return this.fail(node, argText(node), `can't evaluate field ${name} in type ${this.raw ? 'interface {}' : typeName(receiver)}`);
    const v = Object.hasOwn(receiver, name) ? receiver[name] : undefined;
    if (typeof v === 'function') {
      const method: Func = { params: new Array<Param>(v.length).fill('string'), fn: v as Func['fn'] };
      return this.evalCall(dot, method, name, node, cmd ?? { ...node, args: [node] }, final);
    }
    const struct = structType(receiver);
    if (Object.hasOwn(receiver, name)) {
      if (hasArgs && isFormatterContext(receiver)) {
        this.fail(node, argText(node), `wrong number of args for ${name}: want 0 got ${(cmd?.args.length ?? 1) - 1 + (final === NO_FINAL ? 0 : 1)}`);
      }
      if (hasArgs) this.fail(node, argText(node), struct ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`);
      return v === null && !struct && !this.raw ? typedNil(name) : v;
    }
    if (struct) this.fail(node, argText(node), `can't evaluate field ${name} in type ${struct}`);
    if (this.raw || isStructLike(receiver)) this.fail(node, argText(node), `map has no entry for key ${JSON.stringify(name)}`);
    if (hasArgs) this.fail(node, argText(node), `${name} is not a method but has arguments`);
    return undefined;
  }

  private evalFunction(dot: unknown, ident: Extract<Arg, { kind: 'identifier' }>, cmd: Command, final: Final): unknown {
    const fn = this.funcs[ident.name];
    if (!fn) this.fail(ident, ident.name, `${JSON.stringify(ident.name)} is not a defined function`);
    if (ident.name === 'and' || ident.name === 'or') return this.andOr(dot, ident, cmd, final);
    // Go's call names the argument that is not a function; data here holds no function values.
    const target = cmd.args[1];
    if (ident.name === 'call' && target) {
      const f = this.evalArg(dot, target);
      if (typeof f !== 'function') {
        this.fail(cmd, commandText(cmd), `error calling call: ${f === null || f === undefined ? 'call of nil' : `non-function ${argText(target)} of type ${this.typeOf(f)}`}`);
      }
    }
    return this.evalCall(dot, fn, ident.name, ident, cmd, final);
  }

  private checkArity(fn: Func, name: string, at: Arg, n: number): void {
    const min = fn.params.length;
    if (fn.variadic ? n < min : n !== min) this.fail(at, argText(at), `wrong number of args for ${name}: want ${fn.variadic ? 'at least ' : ''}${min} got ${n}`);
  }

  /** and/or evaluate their arguments only as far as the answer needs (Go 1.18). */
  private andOr(dot: unknown, ident: Extract<Arg, { kind: 'identifier' }>, cmd: Command, final: Final): unknown {
    const nodes = cmd.args.slice(1);
    this.checkArity(this.funcs[ident.name], ident.name, ident, nodes.length + (final === NO_FINAL ? 0 : 1));
    let v: unknown;
    for (let i = 0; i < nodes.length + (final === NO_FINAL ? 0 : 1); i++) {
      v = i < nodes.length ? this.evalArg(dot, nodes[i]) : final;
      if (truth(v) === (ident.name === 'or')) return v;
    }
    return v;
  }

  private evalCall(dot: unknown, fn: Func, name: string, at: Arg, cmd: Command, final: Final): unknown {
    const nodes = cmd.args.slice(1);
    const n = nodes.length + (final === NO_FINAL ? 0 : 1);
    this.checkArity(fn, name, at, n);
    const args: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const param = fn.params[i] ?? fn.variadic ?? 'any';
      const node = nodes[i];
      const v = node ? this.evalArg(dot, node) : final;
      args.push(this.checkArg(param, v, node, at));
    }
    try {
      return fn.fn(...args);
    } catch (e) {
      if (e instanceof CallError) this.fail(cmd, commandText(cmd), `error calling ${name}: ${e.message}`);
      throw e;
    }
  }

  /** Go converts each argument to the parameter's type or fails with these messages. */
  private checkArg(param: Param, v: unknown, node: Arg | undefined, at: Arg): unknown {
    if (param === 'any') return v === undefined ? null : v;
    const where = node ?? at;
    const literal = node && (node.kind === 'number' || node.kind === 'string' || node.kind === 'bool');
    if (param === 'strings') {
      if (v === undefined || v === null) return [];
      if (literal) this.fail(where, argText(where), `can't handle ${argText(node)} for arg of type []string`);
      if (Array.isArray(v) && !this.raw && v.every((x) => typeof x === 'string')) return v;
      return this.fail(where, argText(where), `wrong type for value; expected []string; got ${this.typeOf(v)}`);
    }
    const ok = param === 'string' ? typeof v === 'string' : isInt(v);
    if (ok) return v;
    // A float constant with an integral value is an int where one is wanted (Go's constants).
    if (param === 'int' && node?.kind === 'number' && v instanceof GoFloat && Number.isInteger(v.value)) return v.value;
    const goType = param === 'string' ? 'string' : 'int';
    if (literal) this.fail(where, argText(where), `expected ${param === 'string' ? 'string' : 'integer'}; found ${argText(node)}`);
    if (node?.kind === 'nil') this.fail(where, argText(where), `cannot assign nil to ${goType}`);
    if (v === undefined) this.fail(where, argText(where), `invalid value; expected ${goType}`);
    return this.fail(where, argText(where), `wrong type for value; expected ${goType}; got ${v === null ? 'interface {}' : this.typeOf(v)}`);
  }
}
