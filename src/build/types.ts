// The parsed Dockerfile: what the parser (build/dockerfile/) produces and the builder consumes.
// Words stay raw (quotes and `$` intact) where Docker expands them at dispatch time, because
// their values depend on build args and the environment built up by the stages before them.

/** Where an instruction came from, for errors ("Dockerfile:12: ...") and history. */
export interface Source {
  file: string;
  /** First and last line (1-based) of the instruction, continuations included. */
  line: number;
  endLine: number;
  /** The instruction as written, continuations joined: what `docker history` shows. */
  text: string;
}

/** A command in exec form (JSON array) or shell form (run through the stage's SHELL). */
export type Command = { form: 'exec'; args: string[] } | { form: 'shell'; text: string };

/** A here-document (`<<EOT`, `<<-EOT`, `<<"EOT"`). */
export interface Heredoc {
  name: string;
  /** The body as written, every line with its newline; `<<-` tabs NOT yet stripped (heredocText()). */
  content: string;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
  /** False when the delimiter was quoted: no variable expansion in the content. */
  expand: boolean;
}

/** `RUN --mount=...`, parsed from its comma-separated key=value list; values still raw. */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target?: string;
  source?: string;
  from?: string;
  id?: string;
  readonly?: boolean;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: string;
  uid?: string;
  gid?: string;
  required?: boolean;
  size?: string;
  env?: string;
}

interface Base {
  source: Source;
}

export type Instruction =
  /**
   * RUN with heredocs (shell form only; the command text keeps its `<<EOF` markers). BuildKit runs
   * them thus, and the builder should too:
   * - when the command is exactly one marker (`RUN <<EOF`), the first heredoc is the script: if its
   *   text (heredocText()) starts with `#!` it is written to a file (mode 0755) and executed
   *   directly; otherwise the text is run as the shell-form command (`sh -c <text>`);
   * - otherwise (`RUN python3 <<EOF`, several heredocs, `RUN <<A <<B`), the command text, then for
   *   each heredoc "\n" + content + name, is passed to the shell, which feeds the bodies itself.
   * Expansion (`expand`) is left to the shell in both cases, as BuildKit does.
   */
  | (Base & { kind: 'RUN'; command: Command; mounts: RunMount[]; network?: 'default' | 'none' | 'host'; security?: 'sandbox' | 'insecure'; heredocs: Heredoc[] })
  | (Base & { kind: 'CMD' | 'ENTRYPOINT'; command: Command })
  /** Keys and values raw: the builder removes quotes and expands both (expandWord). */
  | (Base & { kind: 'ENV' | 'LABEL'; pairs: [string, string][] })
  /** Names and defaults raw, like ENV's. */
  | (Base & { kind: 'ARG'; args: { name: string; value?: string }[] })
  | (Base & { kind: 'EXPOSE' | 'VOLUME'; values: string[] })
  | (Base & { kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER'; value: string })
  | (Base & { kind: 'SHELL'; args: string[] })
  | (Base & {
      kind: 'HEALTHCHECK';
      /** Undefined for HEALTHCHECK NONE. Durations as written ("30s"), raw. */
      check?: { command: Command; interval?: string; timeout?: string; startPeriod?: string; startInterval?: string; retries?: string };
    })
  /**
   * `expression` is the trigger's text as docker stores it in the image config's OnBuild list (the
   * instruction without `ONBUILD`, heredoc bodies written out after it); a child build parses those
   * with parseTriggers().
   */
  | (Base & { kind: 'ONBUILD'; trigger: Instruction; expression: string })
  | (Base & {
      kind: 'COPY' | 'ADD';
      /**
       * Raw, as written (wildcards and variables unexpanded). Heredoc sources (`COPY <<EOF /dst`)
       * are not in this list but in `heredocs`, in order: each becomes a file named after its
       * delimiter, its content given by heredocFile() (tabs stripped for `<<-`, variables expanded
       * unless the delimiter was quoted).
       */
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      parents: boolean;
      exclude: string[];
      /** ADD only. */
      checksum?: string;
      keepGitDir?: boolean;
      /** ADD only: `--unpack` (whether to extract a local or remote archive), when given. */
      unpack?: boolean;
      heredocs: Heredoc[];
    });

export interface From {
  source: Source;
  /** Raw: may use the ARGs declared before the first FROM. */
  image: string;
  /** `AS name`, lower-cased as Docker does. */
  name?: string;
  platform?: string;
}

export interface Stage {
  index: number;
  from: From;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives at the top (`# syntax=`, `# escape=`, `# check=`). */
  directives: Record<string, string>;
  /** The escape character (`\` unless `# escape=` says otherwise). */
  escape: string;
  /** ARGs before the first FROM: usable in FROM lines only. */
  globalArgs: Extract<Instruction, { kind: 'ARG' }>[];
  stages: Stage[];
}
