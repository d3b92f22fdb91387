// Go text/template's parser: tokens to a tree, with Go's checks (defined functions and variables,
// {{end}} and {{else}} placement, pipeline shape) and Go's error messages.
import { TemplateError } from './errors.ts';
import { lex, parseGoNumber, type Token } from './lexer.ts';
import { GoFloat } from './values.ts';

export interface Pos {
  pos: number; // byte offset in the template
  line: number;
}

export type Arg =
  | ({ kind: 'field'; idents: string[] } & Pos)
  | ({ kind: 'variable'; idents: string[] } & Pos) // idents[0] is the name with its `$`
  | ({ kind: 'identifier'; name: string } & Pos)
  | ({ kind: 'dot' } & Pos)
  | ({ kind: 'nil' } & Pos)
  | ({ kind: 'bool'; value: boolean } & Pos)
  | ({ kind: 'number'; value: number | GoFloat; text: string } & Pos)
  | ({ kind: 'string'; value: string; text: string } & Pos)
  | ({ kind: 'chain'; node: Arg; fields: string[] } & Pos)
  | ({ kind: 'pipe'; pipe: Pipe } & Pos);

export interface Command extends Pos {
  args: Arg[];
}

export interface Pipe extends Pos {
  isAssign: boolean;
  decl: string[];
  cmds: Command[];
}

export type Node =
  | ({ kind: 'text'; text: string } & Pos)
  | ({ kind: 'action'; pipe: Pipe } & Pos)
  | ({ kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] } & Pos)
  | ({ kind: 'template'; name: string; pipe?: Pipe } & Pos)
  | ({ kind: 'break' | 'continue' } & Pos);

const MAX_NESTING = 1000;

type Item = Node | ({ kind: 'end' | 'else' } & Pos);

/** The main template and those {{define}} and {{block}} name. */
export interface Parsed {
  name: string; // the template's name in messages ("template: version:1: ...")
  root: Node[];
  defs: Map<string, Node[]>;
}

/** Parses a template; `funcs` are the function names it may call (Go checks them at parse time). */
export function parse(text: string, funcs: ReadonlySet<string>, name = ''): Parsed {
  return new Parser(lex(text, name), funcs, name).parse();
}

function tokenText(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'keyword' || t.type === 'dot' || t.type === 'nil') return `<${t.value}>`;
  if (t.type === 'right') return '"}}"';
  return t.value.length > 10 ? `${JSON.stringify(t.value.slice(0, 10))}...` : JSON.stringify(t.value);
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  private readonly defs = new Map<string, Node[]>();

  private readonly tokens: Token[];
  private readonly funcs: ReadonlySet<string>;
  private readonly name: string;

  constructor(tokens: Token[], funcs: ReadonlySet<string>, name: string) {
    this.tokens = tokens;
    this.funcs = funcs;
    this.name = name;
  }

  private fail(msg: string, line = this.tokens[Math.max(0, this.i - 1)].line): never {
    throw new TemplateError(`template: ${this.name}:${line}: ${msg}`, 'parse');
  }

  private next(): Token {
    return this.tokens[Math.min(this.i++, this.tokens.length - 1)];
  }

  private peek(): Token {
    return this.tokens[Math.min(this.i, this.tokens.length - 1)];
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.i--;
    return t;
  }

  private expect(type: Token['type'], context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Token, context: string): never {
    this.fail(`unexpected ${tokenText(t)} in ${context}`, t.line);
  }

  parse(): Parsed {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'left') {
        const save = this.i;
        this.next();
        const t = this.nextNonSpace();
        if (t.type === 'keyword' && t.value === 'define') {
          this.define();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n === undefined) continue;
      if (n.kind === 'end' || n.kind === 'else') this.fail(`unexpected {{${n.kind}}}`, n.line);
      root.push(n as Node);
    }
    return { name: this.name, root, defs: this.defs };
  }

  private define(): void {
    const name = this.templateName(this.nextNonSpace(), 'define clause');
    this.expect('right', 'define clause');
    const outer = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.fail(`unexpected {{${end.kind}}} in define clause`, end.line);
    this.vars = outer;
    this.defs.set(name, list);
  }

  private templateName(t: Token, context: string): string {
    if (t.type === 'string') return unquote(t, this);
    if (t.type === 'rawString') return t.value.slice(1, -1);
    this.unexpected(t, context);
  }

  private itemList(): [Node[], Item] {
    const list: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n === undefined) continue;
      if (n.kind === 'end' || n.kind === 'else') return [list, n];
      list.push(n as Node);
    }
    this.fail('unexpected EOF');
  }

  private textOrAction(): Item | undefined {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { kind: 'text', text: t.value, pos: t.pos, line: t.line };
    if (t.type === 'left') {
      if (this.peek().type === 'comment') {
        this.next();
        this.expect('right', 'comment');
        return undefined;
      }
      return this.action();
    }
    this.unexpected(t, 'input');
  }

  private action(): Item {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      const at = { pos: t.pos, line: t.line };
      switch (t.value) {
        case 'block': return this.block(at);
        case 'break': case 'continue':
          if (!this.rangeDepth) this.fail(`{{${t.value}}} outside {{range}}`, t.line);
          this.expect('right', `{{${t.value}}}`);
          return { kind: t.value, ...at };
        case 'else': {
          // `{{else if ...}}` and `{{else with ...}}` leave their keyword for the enclosing control.
          const p = this.peekNonSpace();
          if (!(p.type === 'keyword' && (p.value === 'if' || p.value === 'with'))) this.expect('right', 'else');
          return { kind: 'else', ...at };
        }
        case 'end':
          this.expect('right', 'end');
          return { kind: 'end', ...at };
        case 'if': case 'range': case 'with': return this.control(t.value, at);
        case 'template': return this.templateCall();
        case 'define': this.fail('unexpected <define> in command', t.line);
      }
    }
    this.i--;
    const p = this.peek();
    return { kind: 'action', pipe: this.pipeline('command', 'right'), pos: p.pos, line: p.line };
  }

  private control(kind: 'if' | 'range' | 'with', at: Pos): Node {
    if (++this.depth > MAX_NESTING) this.fail('max expression depth exceeded');
    try {
      return this.controlInner(kind, at);
    } finally {
      this.depth--;
    }
  }

  private controlInner(kind: 'if' | 'range' | 'with', at: Pos): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const [list, next] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (next.kind === 'else') {
      const p = this.peekNonSpace();
      if ((kind === 'if' || kind === 'with') && p.type === 'keyword' && p.value === kind) {
        // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing this control's {{end}}.
        this.nextNonSpace();
        elseList = [this.control(kind, { pos: p.pos, line: p.line })];
      } else {
        if (p.type === 'keyword' && (p.value === 'if' || p.value === 'with')) this.unexpected(p, kind);
        const [l, end] = this.itemList();
        if (end.kind !== 'end') this.fail(`expected end; found {{${end.kind}}}`, end.line);
        elseList = l;
      }
    } else if (next.kind !== 'end') this.fail(`unexpected {{${next.kind}}}`);
    this.vars.length = mark;
    return { kind, pipe, list, elseList, ...at };
  }

  private templateCall(): Node {
    // Go places a {{template}} node at its name.
    const t = this.nextNonSpace();
    const name = this.templateName(t, 'template clause');
    const at = { pos: t.pos, line: t.line };
    if (this.peekNonSpace().type === 'right') {
      this.nextNonSpace();
      return { kind: 'template', name, ...at };
    }
    return { kind: 'template', name, pipe: this.pipeline('template clause', 'right'), ...at };
  }

  private block(at: Pos): Node {
    const name = this.templateName(this.nextNonSpace(), 'block clause');
    const pipe = this.pipeline('block clause', 'right');
    const outer = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.fail(`unexpected {{${end.kind}}} in block clause`, end.line);
    this.vars = outer;
    this.defs.set(name, list);
    return { kind: 'template', name, pipe, ...at };
  }

  private pipeline(context: string, end: 'right' | 'rightParen'): Pipe {
    // Go bounds nesting too; here it also keeps the recursion off the JS stack limit.
    if (++this.depth > MAX_NESTING) this.fail('max expression depth exceeded');
    try {
      return this.pipelineInner(context, end);
    } finally {
      this.depth--;
    }
  }

  private pipelineInner(context: string, end: 'right' | 'rightParen'): Pipe {
    const first = this.peekNonSpace();
    const pipe: Pipe = { pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.nextNonSpace();
      const after = this.peekNonSpace();
      if (after.type === 'assign' || after.type === 'declare') {
        pipe.isAssign = after.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push(v.value);
        this.vars.push(v.value);
      } else if (after.type === 'comma') {
        this.nextNonSpace();
        pipe.decl.push(v.value);
        this.vars.push(v.value);
        if (context === 'range' && pipe.decl.length < 2) {
          const n = this.peekNonSpace();
          if (n.type === 'variable') continue;
          this.fail('range can only initialize variables', n.line);
        }
        this.fail(`too many declarations in ${context}`, after.line);
      } else this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context, t);
        return pipe;
      }
      if (['bool', 'char', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'].includes(t.type)) {
        this.i--;
        pipe.cmds.push(this.command());
      } else this.unexpected(t, context);
    }
  }

  private checkPipeline(pipe: Pipe, context: string, t: Token): void {
    if (!pipe.cmds.length) this.fail(`missing value for ${context}`, t.line);
    pipe.cmds.slice(1).forEach((c, i) => {
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0].kind)) this.fail(`non executable command in pipeline stage ${i + 2}`, t.line);
    });
  }

  private command(): Command {
    const p = this.peekNonSpace();
    const cmd: Command = { pos: p.pos, line: p.line, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'right' || t.type === 'rightParen') this.i--;
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (!cmd.args.length) this.fail('empty command');
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const at = { pos: this.peek().pos, line: this.peek().line };
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1));
    switch (node.kind) {
      case 'field': return { kind: 'field', idents: [...node.idents, ...fields], ...at };
      case 'variable': return { kind: 'variable', idents: [...node.idents, ...fields], ...at };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.fail(`unexpected . after term ${JSON.stringify(argText(node))}`, at.line);
      default: return { kind: 'chain', node, fields, ...at };
    }
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    const at = { pos: t.pos, line: t.line };
    switch (t.type) {
      case 'identifier':
        if (!this.funcs.has(t.value)) this.fail(`function ${JSON.stringify(t.value)} not defined`, t.line);
        return { kind: 'identifier', name: t.value, ...at };
      case 'dot': return { kind: 'dot', ...at };
      case 'nil': return { kind: 'nil', ...at };
      case 'variable':
        if (!this.vars.includes(t.value)) this.fail(`undefined variable ${JSON.stringify(t.value)}`, t.line);
        return { kind: 'variable', idents: [t.value], ...at };
      case 'field': return { kind: 'field', idents: [t.value.slice(1)], ...at };
      case 'bool': return { kind: 'bool', value: t.value === 'true', ...at };
      case 'char': return { kind: 'number', value: unquoteChar(t, this), text: t.value, ...at };
      case 'number': {
        const value = parseGoNumber(t.value);
        if (value === 'overflow') this.fail(`integer overflow: ${JSON.stringify(t.value)}`, t.line);
        if (value === 'illegal') this.fail(`illegal number syntax: ${JSON.stringify(t.value)}`, t.line);
        // A decimal point or an exponent makes a float64 constant.
        const float = /^[+-]?0[xX]/.test(t.value) ? /[pP]/.test(t.value) : /[.eE]/.test(t.value);
        return { kind: 'number', value: float ? new GoFloat(value) : value, text: t.value, ...at };
      }
      case 'leftParen': return { kind: 'pipe', pipe: this.pipeline('parenthesized pipeline', 'rightParen'), ...at };
      case 'string': return { kind: 'string', value: unquote(t, this), text: t.value, ...at };
      case 'rawString': return { kind: 'string', value: t.value.slice(1, -1).replace(/\r/g, ''), text: t.value, ...at };
    }
    this.i--;
    return undefined;
  }

  failAt(msg: string, line: number): never {
    this.fail(msg, line);
  }
}

const SIMPLE: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Go's strconv.Unquote for "..." (and the inside of '...'): the escapes Go knows, else an error. */
function unescape(body: string, quote: string, t: Token, p: Parser): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const hex = (n: number) => {
      const h = body.slice(i + 1, i + 1 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) p.failAt(`invalid syntax`, t.line);
      i += n;
      return parseInt(h, 16);
    };
    if (e in SIMPLE && (e !== "'" || quote === "'") && (e !== '"' || quote === '"')) out += SIMPLE[e];
    else if (e === 'x') out += String.fromCharCode(hex(2));
    else if (e === 'u') out += String.fromCodePoint(hex(4));
    else if (e === 'U') {
      const cp = hex(8);
      if (cp > 0x10ffff) p.failAt('invalid syntax', t.line);
      out += String.fromCodePoint(cp);
    } else if (e >= '0' && e <= '7') {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) p.failAt('invalid syntax', t.line);
      out += String.fromCharCode(parseInt(o, 8));
      i += 2;
    } else p.failAt('invalid syntax', t.line);
  }
  return out;
}

function unquote(t: Token, p: Parser): string {
  return unescape(t.value.slice(1, -1), '"', t, p);
}

function unquoteChar(t: Token, p: Parser): number {
  const s = unescape(t.value.slice(1, -1), "'", t, p);
  if ([...s].length !== 1) p.failAt(`malformed character constant: ${t.value}`, t.line);
  return s.codePointAt(0)!;
}

/** How Go prints a node in an error's context: `<.State.Nope>`, `<len 3>`. */
export function argText(a: Arg): string {
  switch (a.kind) {
    case 'field': return a.idents.map((i) => `.${i}`).join('');
    case 'variable': return a.idents.join('.');
    case 'identifier': return a.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(a.value);
    case 'number': case 'string': return a.text;
    case 'chain': return `${a.node.kind === 'pipe' ? `(${pipeText(a.node.pipe)})` : argText(a.node)}${a.fields.map((f) => `.${f}`).join('')}`;
    case 'pipe': return `(${pipeText(a.pipe)})`;
  }
}

export function commandText(c: Command): string {
  return c.args.map(argText).join(' ');
}

export function pipeText(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandText).join(' | ');
}
