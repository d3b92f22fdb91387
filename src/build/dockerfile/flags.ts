// Builder flags (`COPY --from=x --link`): each instruction declares the flags it takes; anything
// else is an error, as are repeats (except for list flags like --mount) and missing values.

type Kind = 'bool' | 'string' | 'strings';

export class Flags {
  private readonly kinds = new Map<string, Kind>();
  private readonly values = new Map<string, string[]>();

  private readonly args: string[];
  constructor(args: string[]) {
    this.args = args;
  }

  bool(name: string): this {
    this.kinds.set(name, 'bool');
    return this;
  }
  string(name: string): this {
    this.kinds.set(name, 'string');
    return this;
  }
  strings(name: string): this {
    this.kinds.set(name, 'strings');
    return this;
  }

  /** Checks the given flags against the declared ones; throws a plain Error with docker's wording. */
  parse(): this {
    for (const a of this.args) {
      if (a === '--') break;
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flag = eq < 0 ? a : a.slice(0, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      const name = flag.slice(2);
      const kind = this.kinds.get(name);
      if (!kind) throw new Error(`unknown flag: ${flag}${this.hint()}`);
      const seen = this.values.get(name);
      if (seen && kind !== 'strings') throw new Error(`duplicate flag specified: ${flag}`);
      if (kind === 'bool') {
        if (value === '') throw new Error(`missing a value on flag: ${flag}`);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${flag}, not: ${value}`);
        this.values.set(name, [v]);
      } else {
        if (value === undefined) throw new Error(`missing a value on flag: ${flag}`);
        this.values.set(name, [...(seen ?? []), value]);
      }
    }
    return this;
  }

  private hint(): string {
    const names = [...this.kinds.keys()].map((n) => '--' + n);
    return names.length ? ` (allowed here: ${names.join(', ')})` : ' (this instruction takes no flags)';
  }

  used(name: string): boolean {
    return this.values.has(name);
  }
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
  isTrue(name: string): boolean {
    return this.values.get(name)?.[0] === 'true';
  }
  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }
}
