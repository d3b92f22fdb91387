// The berth command line: global flags, then a docker-style verb. Commands are loaded on demand
// so that each invocation loads only the code it runs.
import * as fs from 'node:fs';
import { BerthError, fromSystemError } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import type { Context } from './context.ts';
import { mark } from '../util/trace.ts';
import { VERSION } from '../core/version.ts';
import { DEFAULT_SOCKET } from '../util/paths.ts';


type Command = (ctx: Context, argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.ts')).run,
  import: async () => (await import('./commands/images.ts')).importCmd,
  images: async () => (await import('./commands/images.ts')).images,
  pull: async () => (await import('./commands/pull.ts')).pull,
  push: async () => (await import('./commands/push.ts')).push,
  save: async () => (await import('./commands/archive.ts')).save,
  load: async () => (await import('./commands/archive.ts')).load,
  system: async () => (await import('./commands/system.ts')).system,
  login: async () => (await import('./commands/pull.ts')).login,
  logout: async () => (await import('./commands/pull.ts')).logout,
  rmi: async () => (await import('./commands/images.ts')).rmi,
  tag: async () => (await import('./commands/images.ts')).tag,
  image: async () => (await import('./commands/images.ts')).image,
  ps: async () => (await import('./commands/containers.ts')).ps,
  rm: async () => (await import('./commands/containers.ts')).rm,
  container: async () => (await import('./commands/containers.ts')).container,
  create: async () => (await import('./commands/lifecycle.ts')).create,
  start: async () => (await import('./commands/lifecycle.ts')).start,
  stop: async () => (await import('./commands/lifecycle.ts')).stop,
  restart: async () => (await import('./commands/lifecycle.ts')).restart,
  kill: async () => (await import('./commands/lifecycle.ts')).kill,
  wait: async () => (await import('./commands/lifecycle.ts')).wait,
  logs: async () => (await import('./commands/lifecycle.ts')).logs,
  inspect: async () => (await import('./commands/lifecycle.ts')).inspect,
  rename: async () => (await import('./commands/lifecycle.ts')).rename,
  update: async () => (await import('./commands/update.ts')).update,
  exec: async () => (await import('./commands/lifecycle.ts')).exec,
  volume: async () => (await import('./commands/volumes.ts')).volume,
  network: async () => (await import('./commands/network.ts')).network,
  port: async () => (await import('./commands/network.ts')).port,
  pause: async () => (await import('./commands/lifecycle.ts')).pause,
  unpause: async () => (await import('./commands/lifecycle.ts')).unpause,
  top: async () => (await import('./commands/lifecycle.ts')).top,
  stats: async () => (await import('./commands/lifecycle.ts')).stats,
  diff: async () => (await import('./commands/changes.ts')).diff,
  commit: async () => (await import('./commands/changes.ts')).commit,
  export: async () => (await import('./commands/changes.ts')).exportCmd,
  cp: async () => (await import('./commands/changes.ts')).cp,
  attach: async () => (await import('./commands/lifecycle.ts')).attach,
  events: async () => (await import('./commands/events.ts')).events,
  daemon: async () => (await import('./commands/daemon.ts')).daemon,
  build: async () => (await import('./commands/build.ts')).build,
  history: async () => (await import('./commands/build.ts')).history,
  search: async () => (await import('./commands/search.ts')).search,
  builder: async () => (await import('./commands/build.ts')).builder,
  compose: async () => (await import('./commands/compose.ts')).compose,
  version: async () => (await import('./commands/version.ts')).version,
  info: async () => (await import('./commands/info.ts')).info,
};

export { VERSION } from '../core/version.ts';

const USAGE = `Usage:  berth [--root DIR] COMMAND

A container engine: images, namespaces, cgroups.

Commands:
  run       Create and run a new container from an image
  create    Create a new container
  start     Start one or more stopped containers
  stop      Stop one or more running containers
  restart   Restart one or more containers
  kill      Kill one or more running containers
  wait      Block until one or more containers stop, then print their exit codes
  logs      Fetch the logs of a container
  inspect   Return low-level information on containers or images
  rename    Rename a container
  update    Update configuration (resource limits, restart policy) of one or more containers
  exec      Execute a command in a running container
  volume    Manage volumes
  network   Manage networks
  port      List port mappings of a container
  pause     Pause all processes within one or more containers
  unpause   Unpause all processes within one or more containers
  top       Display the running processes of a container
  stats     Display a live stream of container resource usage statistics
  diff      Inspect changes to files or directories on a container's filesystem
  commit    Create a new image from a container's changes
  export    Export a container's filesystem as a tar archive
  cp        Copy files/folders between a container and the local filesystem
  attach    Attach to a running container's output
  ps        List containers
  rm        Remove one or more containers
  import    Import the contents from a tarball to create a filesystem image
  images    List images
  pull      Download an image from a registry
  push      Upload an image to a registry
  save      Save one or more images to a tar archive (docker-archive and OCI layout)
  load      Load images from a tar archive or STDIN
  login     Log in to a registry
  logout    Log out from a registry
  image     Manage images (ls, inspect, rm, import, tag, prune, push, save, load)
  system    Manage berth (df)
  rmi       Remove one or more images
  build     Build an image from a Dockerfile
  history   Show the history of an image
  search    Search Docker Hub (or the registry in the term) for images
  builder   Manage the build cache (prune)
  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  events    Get real time events from the engine
  compose   Define and run multi-container applications (compose.yaml)
  daemon    Serve the Docker Engine API on a unix socket
  info      Display system-wide information
  version   Show the berth version

Global options:
  --root DIR   State directory (default /var/lib/berth, or $BERTH_ROOT)
  -H, --host ADDRESS   Run the command through a berth daemon (unix:///path or tcp://HOST:PORT, or
               $BERTH_HOST); a user who is not root goes through unix:///run/berth/berth.sock when it is there
`;

/** Exit codes follow the docker CLI: 125 berth failed, 126 cannot invoke, 127 not found. */
export function exitCodeFor(err: unknown): number {
  // An error may carry the status docker gives for it (a template error: 1, or 64 for inspect).
  const status = (err as { exitStatus?: unknown } | undefined)?.exitStatus;
  if (err instanceof BerthError && typeof status === 'number') return status;
  if (err instanceof BerthError) return err.code === 'CommandNotFound' ? 127 : err.code === 'CannotInvoke' ? 126 : 125;
  return 125;
}

export async function main(argv: string[]): Promise<number> {
  let root = process.env.BERTH_ROOT || '/var/lib/berth';
  let rootGiven = !!process.env.BERTH_ROOT;
  let host = process.env.BERTH_HOST || '';
  let hostFlag = false;
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const a = argv[i];
    if (a === '--root' || a.startsWith('--root=')) {
      root = a === '--root' ? argv[++i] ?? '' : a.slice(7);
      rootGiven = true;
    } else if (a === '-H' || a === '--host' || a.startsWith('--host=')) {
      host = a.startsWith('--host=') ? a.slice(7) : argv[++i] ?? '';
      hostFlag = true;
      if (!host || host.startsWith('-')) {
        process.stderr.write('berth: -H/--host needs a daemon address (unix:///path or tcp://HOST:PORT)\n');
        return 125;
      }
    }
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a === '-v' || a === '--version') {
      // The command is `version`, at this index (the loop must not step past it).
      argv = [...argv.slice(0, i), 'version'];
      break;
    }
    else {
      process.stderr.write(`berth: unknown flag: ${a}\nSee 'berth --help'.\n`);
      return 125;
    }
  }
  if (!root) {
    process.stderr.write('berth: --root needs a directory\n');
    return 125;
  }
  const name = argv[i];
  if (!name) {
    process.stdout.write(USAGE);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`berth: '${name}' is not a berth command.\nSee 'berth --help'\n`);
    return 125;
  }
  if (name === 'daemon' && hostFlag) {
    process.stderr.write('berth: the daemon listens where its own -H says: berth daemon -H ADDRESS\n');
    return 125;
  }
  if (name !== 'daemon') {
    // A state root and a daemon are two answers to one question: only one may be given.
    if (host && rootGiven) {
      process.stderr.write('berth: --root and -H/--host (or BERTH_ROOT and BERTH_HOST) cannot be combined: the daemon uses its own state root\n');
      return 125;
    }
    // Through a daemon when told to, or when we cannot use the state root ourselves (not root,
    // no root of our own given) and a daemon listens where it does by default; as root on its
    // state root, in-process is the same engine without the round trips.
    if (!host && !rootGiven && process.getuid?.() !== 0 && fs.existsSync(DEFAULT_SOCKET.slice('unix://'.length))) host = DEFAULT_SOCKET;
    if (host) return (await import('./remote.ts')).remote(host, argv.slice(i));
  }
  let engine: Engine | undefined;
  let EngineClass: typeof Engine | undefined;
  const ctx: Context = {
    engine: () => {
      if (engine) return engine;
      engine = new EngineClass!(root);
      engine.events.onWarning((m) => process.stderr.write(`WARNING: ${m}\n`));
      return engine;
    },
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  };
  try {
    // Loaded here rather than at the top: `berth --help` and flag errors should not pay for it.
    EngineClass = (await import('../engine/engine.ts')).Engine;
    const cmd = await load();
    mark('modules loaded');
    return await cmd(ctx, argv.slice(i + 1));
  } catch (caught) {
    const err = fromSystemError(caught); // a full disk is "no space left on device", not a stack trace
    if (err instanceof BerthError) {
      process.stderr.write(`berth: ${err.message}${/[.!?]$/.test(err.message) ? '' : '.'}\n`);
      if (err.code === 'InvalidArgument' && /flag/.test(err.message)) process.stderr.write(`See 'berth ${name} --help'.\n`);
    } else {
      process.stderr.write(`berth: internal error: ${(err as Error)?.stack ?? err}\n`);
    }
    return exitCodeFor(err);
  }
}
