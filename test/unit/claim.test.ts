import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { claim, dropIf, holderDead, holderText, owner, release, selfHolder } from '../../src/kernel/claim.ts';
import { fnv64 } from '../../src/util/hash.ts';

const TAKER = path.join(import.meta.dirname, '..', 'helpers', 'claim-taker.ts');

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'berth-claim-'));
}

/** A holder that cannot be alive: this process's pid with a start time it does not have. */
const DEAD = holderText({ pid: process.pid, start: 1 });

/**
 * N child processes claim dir/<prefix>0..count-1 at once, in the same order; resolves to how many
 * takers won each name, once all have answered.
 */
async function race(dir: string, prefix: string, count: number, n: number): Promise<number[]> {
  const go = path.join(dir, `go-${Math.random()}`);
  const kids = Array.from({ length: n }, () => spawn(process.execPath, ['--disable-warning=ExperimentalWarning', TAKER, dir, prefix, String(count), go], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = kids.map((k) => {
    let out = '';
    const waiters: Array<() => void> = [];
    k.stdout.on('data', (d) => {
      out += d;
      for (const w of waiters.splice(0)) w();
    });
    /** Resolves to the child's nth line. */
    return (nth: number) => new Promise<string>((resolve, reject) => {
      const check = () => {
        const got = out.split('\n');
        if (got.length > nth + 1) resolve(got[nth]);
        else waiters.push(check);
      };
      k.once('exit', (code) => reject(new Error(`taker exited (${code}) before answering`)));
      check();
    });
  });
  await Promise.all(lines.map((line) => line(0))); // all loaded and waiting at the barrier
  const answers = lines.map((line) => line(1));
  fs.writeFileSync(go, '');
  try {
    const said = (await Promise.all(answers)).map((line) => JSON.parse(line) as number[]);
    const wins = Array.from({ length: count }, () => 0);
    for (const won of said) for (const i of won) wins[i]++;
    // Read while every taker still lives: each claim names one of them.
    const pids = new Set(kids.map((k) => k.pid));
    for (let i = 0; i < count; i++) assert.ok(pids.has(Number(owner(dir, `${prefix}${i}`)?.split(' ')[0])), `claim ${i} is a taker's`);
    return wins;
  } finally {
    const exits = kids.map((k) => new Promise((r) => k.once('exit', r)));
    for (const k of kids) k.stdin.end();
    await Promise.all(exits);
  }
}

test('claim: of concurrent takers in separate processes, exactly one wins', async () => {
  const dir = tmpdir();
  try {
    const wins = await race(dir, 'free-', 300, 8);
    assert.deepEqual(wins.filter((w) => w !== 1), [], 'every name has exactly one winner');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('claim: a dead holder is taken over by exactly one of the takers', async () => {
  const dir = tmpdir();
  try {
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, `stale-${i}`), DEAD);
    const wins = await race(dir, 'stale-', 300, 8);
    assert.deepEqual(wins.filter((w) => w !== 1), [], 'every name has exactly one winner');
    // Nothing is left behind but the claims themselves (no temp files, no guards).
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('claim: a live holder keeps its claim; release frees it; a release never removes another holder\'s claim', () => {
  const dir = tmpdir();
  try {
    const rel = claim(dir, 'n', 'id-a', () => false);
    assert.ok(rel);
    assert.equal(claim(dir, 'n', 'id-b', () => false), undefined, 'held: a second claim fails');
    assert.equal(claim(dir, 'n', 'id-a', () => true), undefined, 'claims do not nest, even when stale');
    release(dir, 'n', 'id-b');
    assert.equal(owner(dir, 'n'), 'id-a', 'not the releaser\'s: left alone');
    rel();
    assert.equal(owner(dir, 'n'), undefined);
    const again = claim(dir, 'n', 'id-b', () => false);
    assert.ok(again);
    rel(); // idempotent: the first release already ran, the new claim stays
    assert.equal(owner(dir, 'n'), 'id-b');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('claim: the takeover rule is the caller\'s (a claim whose record is gone), and dropIf sweeps by it', () => {
  const dir = tmpdir();
  try {
    const records = new Set(['c1']);
    const gone = (id: string) => !records.has(id);
    assert.ok(claim(dir, 'web', 'c1', gone));
    assert.equal(claim(dir, 'web', 'c2', gone), undefined);
    assert.equal(dropIf(dir, 'web', gone), true);
    assert.equal(owner(dir, 'web'), 'c1', 'its record exists: not swept');
    records.delete('c1');
    assert.ok(claim(dir, 'web', 'c2', gone), 'its record gone: taken over');
    assert.equal(owner(dir, 'web'), 'c2');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('claim: a guard left by a taker killed mid-takeover does not keep the name stuck', () => {
  const dir = tmpdir();
  try {
    fs.writeFileSync(path.join(dir, 'lock'), DEAD);
    // What a taker of that stale claim leaves if killed while holding the guard.
    fs.writeFileSync(path.join(dir, `.t-${fnv64(`lock\n${DEAD}`)}`), holderText({ pid: process.pid, start: 2 }));
    const rel = claim(dir, 'lock', selfHolder(), holderDead);
    assert.ok(rel);
    assert.equal(owner(dir, 'lock'), selfHolder());
    assert.equal(claim(dir, 'lock', 'someone else', holderDead), undefined, 'this live process holds it');
    rel();
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n !== `.t-${fnv64(`lock\n${DEAD}`)}`), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
