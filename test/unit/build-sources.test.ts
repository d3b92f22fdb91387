// The pure parts of the builder's remote contexts, --ssh specs and COPY --exclude/--parents
// selection: Git URL detection and splitting as docker's, agent specs, and pruning a source's
// items (a directory stays only for what is kept under it; a property over random trees).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isGitUrl, isRemoteContext, parseGitUrl, refCommit } from '../../src/build/remote.ts';
import { parseSshSpec } from '../../src/build/ssh.ts';
import { excludeFrom, excludeMatcher, prune } from '../../src/build/copy-select.ts';
import type { Item, Matched } from '../../src/build/context.ts';

test('Git URLs as docker tells them apart, and their #ref:subdir', () => {
  for (const u of ['git://h/r', 'git@github.com:o/r.git', 'github.com/o/r', 'https://h/o/r.git', 'https://h/o/r.git#main:sub', 'ssh://git@h/r']) assert.equal(isGitUrl(u), true, u);
  for (const u of ['https://h/ctx.tar.gz', 'http://h/Dockerfile', 'https://h/r.git/x', '.', 'ctx.git']) assert.equal(isGitUrl(u), false, u);
  assert.equal(isRemoteContext('https://h/ctx.tar.gz'), true);
  assert.equal(isRemoteContext('./dir'), false);
  assert.deepEqual(parseGitUrl('https://h/o/r.git#main:sub/dir'), { remote: 'https://h/o/r.git', ref: 'main', subdir: 'sub/dir' });
  assert.deepEqual(parseGitUrl('https://h/o/r.git#:sub'), { remote: 'https://h/o/r.git', subdir: 'sub' });
  assert.deepEqual(parseGitUrl('https://h/o/r.git'), { remote: 'https://h/o/r.git' });
  assert.deepEqual(parseGitUrl('github.com/o/r#v1'), { remote: 'https://github.com/o/r', ref: 'v1' });
  assert.deepEqual(parseGitUrl('git@github.com:o/r.git#dev:x'), { remote: 'git@github.com:o/r.git', ref: 'dev', subdir: 'x' });
  assert.throws(() => parseGitUrl('git://h/r#--upload-pack=touch /tmp/x'), /invalid refspec/);
});

test('the commit of a ref in git ls-remote\'s listing: git\'s lookup order, an annotated tag peeled', () => {
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => x.repeat(40));
  const listing = `warning: redirecting to https://h/r.git/\n${a}\tHEAD\n${b}\trefs/heads/v1\n${c}\trefs/tags/v1\n${d}\trefs/tags/v1^{}\n${e}\trefs/heads/feature/main\n${a}\trefs/heads/main\n`;
  assert.equal(refCommit(listing, 'HEAD'), a);
  assert.equal(refCommit(listing, 'v1'), d, 'a tag before a branch of the same name, peeled to its commit');
  assert.equal(refCommit(listing, 'refs/heads/v1'), b);
  assert.equal(refCommit(listing, 'heads/v1'), b);
  assert.equal(refCommit(listing, 'main'), a, 'not a longer ref that ends in the name');
  assert.equal(refCommit(listing, 'feature/main'), e);
  assert.equal(refCommit(listing, 'nope'), undefined);
  assert.equal(refCommit(`${'f'.repeat(64)}\trefs/heads/sha256\n`, 'sha256'), 'f'.repeat(64));
});

test('--ssh specs: default from SSH_AUTH_SOCK, <id>=<socket>, <id>=<key files>; mixed or missing refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ssh-unit-'));
  const sock = path.join(dir, 'agent.sock');
  const server = net.createServer().listen(sock);
  await new Promise((r) => server.once('listening', r));
  try {
    assert.deepEqual(parseSshSpec('default', { SSH_AUTH_SOCK: sock }), { id: 'default', socket: sock });
    assert.deepEqual(parseSshSpec(`work=${sock}`, {}), { id: 'work', socket: sock });
    assert.throws(() => parseSshSpec('default', {}), /SSH_AUTH_SOCK is not set/);
    fs.writeFileSync(path.join(dir, 'key'), 'x');
    fs.writeFileSync(path.join(dir, 'key2'), 'y');
    assert.deepEqual(parseSshSpec(`k=${dir}/key,${dir}/key2`, {}), { id: 'k', keys: [path.join(dir, 'key'), path.join(dir, 'key2')] });
    assert.throws(() => parseSshSpec(`k=${dir}/key,${sock}`, {}), /not both/);
    assert.throws(() => parseSshSpec(`k=${dir}/nothing`, {}), /does not exist/);
    assert.throws(() => parseSshSpec(`=${sock}`, {}), /an id is required/);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const stat = (dir: boolean) => ({ isDirectory: () => dir, isFile: () => !dir, isSymbolicLink: () => false }) as fs.Stats;
const items = (paths: string[]): Item[] => paths.map((p) => ({ rel: p.replace(/\/$/, ''), abs: `/ctx/${p}`, st: stat(p.endsWith('/')) }));

test('--exclude: relative to each source; a directory stays for an exception under it; a wildcard match by its name', () => {
  const m: Matched = { name: 'dir', path: 'dir', isDir: true, items: items(['a/', 'a/x.txt', 'a/keep.txt', 'b.txt', 'c.md']) };
  const rels = (ms: Matched[]) => ms.flatMap((x) => x.items.map((i) => i.rel));
  assert.deepEqual(rels(excludeFrom([m], excludeMatcher(['*.txt']), false)), ['a', 'a/x.txt', 'a/keep.txt', 'c.md']);
  assert.deepEqual(rels(excludeFrom([m], excludeMatcher(['**/*.txt']), false)), ['a', 'c.md']);
  assert.deepEqual(rels(excludeFrom([m], excludeMatcher(['a', '!a/keep.txt']), false)), ['a', 'a/keep.txt', 'b.txt', 'c.md']);
  const file: Matched = { name: 'home.txt', path: 'home.txt', isDir: false, items: items(['']) };
  assert.deepEqual(excludeFrom([file], excludeMatcher(['*.txt']), true), []);
  assert.deepEqual(excludeFrom([file], excludeMatcher(['*.txt']), false), [file]); // named, not matched by a wildcard
  assert.throws(() => excludeMatcher(['[']), /--exclude/);
});

test('prune keeps exactly the kept items and the directories above them, in order', () => {
  const tree = fc.uniqueArray(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }).map((p) => p.join('/')), { maxLength: 30 });
  fc.assert(
    fc.property(tree, fc.func(fc.boolean()), (files, dropFn) => {
      // Every prefix of a path is a directory; the paths themselves files unless a prefix of another.
      const all = new Set<string>();
      for (const f of files) f.split('/').forEach((_, i, parts) => all.add(parts.slice(0, i + 1).join('/')));
      const sorted = [...all].sort();
      const isDir = (p: string) => sorted.some((q) => q.startsWith(p + '/'));
      const input = sorted.map((p) => ({ rel: p, abs: p, st: stat(isDir(p)) }));
      const drop = (rel: string) => dropFn(rel);
      const out = prune(input, drop).map((i) => i.rel);
      const kept = sorted.filter((p) => !drop(p));
      const expected = sorted.filter((p) => kept.includes(p) || (isDir(p) && kept.some((k) => k.startsWith(p + '/'))));
      assert.deepEqual(out, expected);
    }),
  );
});
