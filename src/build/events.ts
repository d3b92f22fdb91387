// What a build reports while it runs, and what it is asked to do. The builder emits these events;
// the CLI renders them (a live display or plain lines) and the API turns them into docker's
// JSON stream. Nothing here writes to a terminal.

/** One step: a stage's FROM or one of its instructions, numbered over the whole build. */
export interface StepInfo {
  /** "1/5": position among all steps of the stages this build needs. */
  index: number;
  total: number;
  stage: string;
  /** The instruction as written (docker's "Step 1/5 : FROM busybox"). */
  text: string;
}

export type BuildEvent =
  | { type: 'step'; step: StepInfo }
  | { type: 'cached'; step: StepInfo; stateId: string }
  | { type: 'container'; step: StepInfo; id: string }
  | { type: 'log'; step: StepInfo; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'done'; step: StepInfo; ms: number; stateId: string; layer: boolean }
  | { type: 'warning'; message: string }
  /** The build's outcome: the image id, the tags it got, and where the time went (ms). */
  | { type: 'result'; id: string; tags: string[]; timings: Timings };

import type { SshAgent } from './ssh.ts';

export interface Timings {
  context: number;
  cacheLookup: number;
  run: number;
  commit: number;
  total: number;
}

export interface Secret {
  id: string;
  /** A host file (the CLI's --secret id=..,src=..) or the bytes themselves. */
  src?: string;
  data?: Buffer;
}

export type Output = { type: 'local'; dest: string } | { type: 'tar'; dest: string } | { type: 'image' };

export interface BuildOptions {
  /**
   * The context: a directory, a tar stream (plain or compressed) unpacked into a scratch directory,
   * or a remote one (a Git URL, or a URL to an archive or a Dockerfile: build/remote.ts).
   */
  context: { dir: string } | { tar: AsyncIterable<Buffer> } | { remote: string };
  /** The Dockerfile's path inside the context (default "Dockerfile"), or its text (-f -). */
  dockerfile?: string;
  dockerfileText?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  /** RUN's network: default (the bridge), none or host. */
  network?: string;
  platform?: string;
  cacheFrom?: string[];
  secrets?: Secret[];
  /** SSH agents for RUN --mount=type=ssh; undefined: no client session to carry any (the Engine API). */
  ssh?: SshAgent[];
  outputs?: Output[];
  signal?: AbortSignal;
  onEvent?: (e: BuildEvent) => void;
}

export interface BuildResult {
  /** The image's id; for an --output without an image, the id it would have had. */
  id: string;
  tags: string[];
  timings: Timings;
}
