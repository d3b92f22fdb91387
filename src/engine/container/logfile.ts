// Where a container's log is, and the CRI's log driver: `LogConfig {Type: 'cri', Config: {path}}`
// puts the output, in the kubelet's format, in the file it names; the kubelet rotates it by
// renaming it and asking for a reopen (ReopenContainerLog), which `reopenLog` carries to the
// monitor over its attach socket and returns once the monitor has done it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord, HostConfig } from '../../core/container.ts';
import { BerthError, invalid } from '../../core/errors.ts';
import type { Ctx } from './context.ts';
import { get, initPid } from './reconcile.ts';

/** What the monitor reads as a request to reopen its log (native/monitor.h ATTACH_REOPEN_LOG). */
const REOPEN_REQUEST = Buffer.from('\0berth:reopen-log\n');

/** Refuses a log configuration that cannot work, at create. */
export function checkLogConfig(lc: HostConfig['LogConfig']): void {
  if (lc?.Type !== 'cri') return;
  const file = lc.Config?.path;
  if (!file || !path.isAbsolute(file)) throw invalid('log driver cri needs an absolute log file path (Config.path)');
  for (const k of Object.keys(lc.Config)) if (k !== 'path') throw invalid(`unknown log opt '${k}' for cri log driver`);
}

/** The file the container's output goes to (and logs read). */
export function logFile(ctx: Ctx, record: ContainerRecord): string {
  const lc = record.HostConfig.LogConfig;
  return lc?.Type === 'cri' && lc.Config.path ? lc.Config.path : ctx.store.logPath(record.Id);
}

/** The log file of a container, by id (its json-file path when the record cannot be read). */
export function logFileOf(ctx: Ctx, id: string): string {
  const rec = ctx.store.read(id)?.record;
  return rec ? logFile(ctx, rec) : ctx.store.logPath(id);
}

/** The log file for a start: a CRI log's directory is the kubelet's (/var/log/pods/...), made if missing as containerd does. */
export function prepareLogFile(ctx: Ctx, record: ContainerRecord): string {
  const file = logFile(ctx, record);
  if (record.HostConfig.LogConfig?.Type === 'cri') fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

/**
 * Makes the running container's monitor open its log file again at its path (after the kubelet
 * renamed it). Throws Conflict for a container that is not running.
 */
export async function reopenLog(ctx: Ctx, nameOrId: string, timeoutMs = 10_000): Promise<void> {
  const c = get(ctx, nameOrId);
  initPid(ctx, c);
  if (c.record.HostConfig.LogConfig?.Type === 'none') throw new BerthError('FailedPrecondition', `container ${c.record.Id} has no log file (log driver none)`);
  prepareLogFile(ctx, c.record);
  const { connect } = await import('node:net');
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(ctx.store.attachSocket(c.record.Id));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new BerthError('Unavailable', `the monitor of ${c.record.Id} did not answer the log reopen within ${timeoutMs} ms`));
    }, timeoutMs);
    let pending = Buffer.alloc(0);
    let found: string | undefined;
    sock.on('connect', () => sock.write(REOPEN_REQUEST));
    // Output frames may come first (the socket also serves attached clients): the answer is
    // the frame on stream 3, then the end of the stream.
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= 8 + pending.readUInt32BE(4)) {
        const len = pending.readUInt32BE(4);
        if (pending[0] === 3) found = pending.subarray(8, 8 + len).toString();
        pending = pending.subarray(8 + len);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new BerthError('Unavailable', `cannot reach the monitor of ${c.record.Id}: ${err.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      if (found !== undefined) resolve(found);
      else reject(new BerthError('Unavailable', `the monitor of ${c.record.Id} closed without answering the log reopen`));
    });
  });
  if (answer !== 'reopened') throw new BerthError('Internal', `reopening the log of ${c.record.Id}: ${answer.replace(/^error: /, '')}`);
}
