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
  | (Base & { kind: 'RUN'; command: Command; mounts: RunMount[]; network?: 'default' | 'none' | 'host'; security?: 'sandbox' | 'insecure'; heredocs: Heredoc[] })
  | (Base & { kind: 'CMD' | 'ENTRYPOINT'; command: Command })
  /** Values raw: the builder removes quotes and expands them (expandWord). */
  | (Base & { kind: 'ENV' | 'LABEL'; pairs: [string, string][] })
  | (Base & { kind: 'ARG'; args: { name: string; value?: string }[] })
  | (Base & { kind: 'EXPOSE' | 'VOLUME'; values: string[] })
  | (Base & { kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER'; value: string })
  | (Base & { kind: 'SHELL'; args: string[] })
  | (Base & {
      kind: 'HEALTHCHECK';
      /** Undefined for HEALTHCHECK NONE. Durations as written ("30s"), raw. */
      check?: { command: Command; interval?: string; timeout?: string; startPeriod?: string; startInterval?: string; retries?: string };
    })
  | (Base & { kind: 'ONBUILD'; trigger: Instruction })
  | (Base & {
      kind: 'COPY' | 'ADD';
      /** Raw, as written (wildcards and variables unexpanded); heredoc sources are named in `heredocs`. */
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
