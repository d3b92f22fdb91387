// Reading the json-file log while it is written: a follower keeps what the monitor wrote when
// the file goes (a removed container), follows a rotation, and never cuts a character in two.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readLog, type LogEntry } from '../../src/engine/logs.ts';

const line = (log: string, stream = 'stdout') => JSON.stringify({ log, stream, time: new Date().toISOString() }) + '\n';

function tmpLog(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
  return path.join(dir, 'c-json.log');
}

/** Follows the log for `polls` polls; `step` runs at each poll (with its number, from 1) before the read. */
async function follow(file: string, step: (n: number) => void, polls: number): Promise<string[]> {
  let n = 0;
  const got: string[] = [];
  const it: AsyncGenerator<LogEntry> = readLog(file, { follow: () => (step(++n), n < polls) });
  for await (const e of it) got.push(e.log);
  return got;
}

test('a follower reads what was written before the file was removed', async () => {
  const file = tmpLog();
  fs.writeFileSync(file, line('first\n'));
  const got: string[] = [];
  let polls = 0;
  for await (const e of readLog(file, {
    follow: () => {
      // The container writes its last line and is removed before the next read, as a client
      // that has its exit removes it while its follow stream is still being read.
      if (polls++ === 0) {
        fs.appendFileSync(file, line('last\n'));
        fs.rmSync(path.dirname(file), { recursive: true });
      }
      return false;
    },
  })) got.push(e.log);
  assert.deepEqual(got, ['first\n', 'last\n']);
});

test('a follower follows a rotation, reading the old file to its end first', async () => {
  const file = tmpLog();
  fs.writeFileSync(file, line('a\n'));
  const got = await follow(file, (n) => {
    if (n === 1) {
      fs.appendFileSync(file, line('b\n')); // written after our read, before the rotation
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, line('c\n'));
    }
  }, 3);
  assert.deepEqual(got, ['a\n', 'b\n', 'c\n']);
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('a log truncated in place (max-file 1) is read again from its start', async () => {
  const file = tmpLog();
  fs.writeFileSync(file, line('long line before the truncation\n'));
  const got = await follow(file, (n) => {
    if (n === 1) fs.writeFileSync(file, line('x\n'));
  }, 3);
  assert.deepEqual(got, ['long line before the truncation\n', 'x\n']);
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('a line written in two parts, split inside a character, is read whole', async () => {
  const file = tmpLog();
  const bytes = Buffer.from(line('é€\n'));
  const cut = bytes.indexOf(Buffer.from('€')) + 1;
  fs.writeFileSync(file, bytes.subarray(0, cut));
  const got: string[] = [];
  let polls = 0;
  for await (const e of readLog(file, {
    follow: () => {
      if (polls++ === 0) fs.appendFileSync(file, bytes.subarray(cut)); // the rest of the line
      return polls < 3;
    },
  })) got.push(e.log);
  assert.deepEqual(got, ['é€\n']);
  fs.rmSync(path.dirname(file), { recursive: true });
});
