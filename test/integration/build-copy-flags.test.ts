// COPY --parents and COPY/ADD --exclude through `berth build`, checked on the files the build
// writes out (--output type=local) and on the cache: BuildKit's own test layout for --exclude, the
// reference's examples for --parents, a stage as the source, and paths that try to leave.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

/** Every path under dir (directories with a trailing "/"), sorted; symlinks as "name -> target". */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out.push(r + '/');
        walk(r);
      } else out.push(st.isSymbolicLink() ? `${r} -> ${fs.readlinkSync(path.join(dir, r))}` : r);
    }
  };
  walk('');
  return out.sort();
}

describe('build: COPY --parents and --exclude', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  const dirs: string[] = [];
  const ctx = (files: Record<string, string>, links: Record<string, string> = {}) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
    dirs.push(dir);
    for (const [name, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), data);
    }
    for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
    return dir;
  };
  /** Builds the Dockerfile in dir and returns what the image holds (written out with --output). */
  const files = async (dir: string, args: string[] = []) => {
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-out-'));
    dirs.push(dest);
    const r = await root.run(['build', '--progress', 'plain', '-o', `type=local,dest=${dest}`, ...args, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    return { tree: tree(dest), dest, stderr: r.stderr };
  };
  const layout = {
    'dir1/file-101.png': '2',
    'dir1/file-102.txt': '3',
    'dir1/file-103.jpeg': '4',
    'dir2/file-201.pdf': '6',
    'dir2/file-202.jpeg': '7',
    'dir2/file-203.png': '8',
    'dir3/file-301.mp3': '9',
    'dir3/file-302.mpeg': '10',
    'dir4/file-401.txt': '11',
    'home.txt': 'h',
    'homer.md': 'm',
    'homes.go': 'g',
  };

  before(async () => {
    root = await TestRoot.withBusybox();
  });
  after(async () => {
    await root.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('--exclude: patterns relative to each source, repeatable, on COPY and ADD, with wildcards and ! exceptions', async () => {
    const dir = ctx({ ...layout, Dockerfile: 'FROM scratch\nCOPY --exclude=*/*.png --exclude=*/*.jpeg . /1\nADD --exclude=*.mp3 dir3/ /3/\nCOPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/\nCOPY --exclude=* --exclude=!file-102.txt dir1 /5/\nCOPY --exclude=*.txt --exclude=*.md hom* /6/\n' }, { 'dir4/file-402.txt': 'file-401.txt' });
    const { tree: t } = await files(dir);
    const under = (p: string) => t.filter((f) => f.startsWith(p) && f !== p).map((f) => f.slice(p.length));
    assert.deepEqual(under('1/dir'), ['1/', '1/file-102.txt', '2/', '2/file-201.pdf', '3/', '3/file-301.mp3', '3/file-302.mpeg', '4/', '4/file-401.txt', '4/file-402.txt -> file-401.txt']);
    assert.deepEqual(under('3/'), ['file-302.mpeg']);
    assert.deepEqual(under('4/'), ['file-302.mpeg']); // dir4's files are excluded by *.txt: its symlink too
    assert.deepEqual(under('5/'), ['file-102.txt']);
    assert.deepEqual(under('6/'), ['homes.go']); // the reference's example: hom* without .txt and .md
  });

  test('--parents: the reference examples, a pivot, ** and a stage as the source', async () => {
    const dir = ctx({
      'x/a.txt': 'xa',
      'y/a.txt': 'ya',
      'x/y/a.txt': 'xya',
      'x/y/b.txt': 'xyb',
      'x/y/c.md': 'xyc',
      'src/a.txt': 'sa',
      'src/x/b.txt': 'sb',
      'src/x/y/c.txt': 'sc',
      'src/x/y/d.go': 'sd',
      'src/empty/.keep': '',
      Dockerfile: [
        'FROM busybox AS stage',
        'RUN mkdir -p /opt/app/bin /opt/app/lib && echo b > /opt/app/bin/tool && echo l > /opt/app/lib/x.so',
        'FROM scratch',
        'COPY ./x/a.txt ./y/a.txt /no_parents/',
        'COPY --parents ./x/a.txt ./y/a.txt /parents/',
        'COPY --parents ./x/./y/*.txt /pivot/',
        'COPY --parents ./src/**/*.txt /deep/',
        'COPY --parents --exclude=**/b.txt src /whole/',
        'COPY --from=stage --parents /opt/./app/bin /fromstage/',
        '',
      ].join('\n'),
    });
    fs.chmodSync(path.join(dir, 'x'), 0o700);
    const { tree: t, dest } = await files(dir);
    const under = (p: string) => t.filter((f) => f.startsWith(p) && f !== p).map((f) => f.slice(p.length));
    assert.deepEqual(under('no_parents/'), ['a.txt']);
    assert.equal(fs.readFileSync(path.join(dest, 'no_parents/a.txt'), 'utf8'), 'ya'); // the last one wins
    assert.deepEqual(under('parents/'), ['x/', 'x/a.txt', 'y/', 'y/a.txt']);
    assert.equal(fs.statSync(path.join(dest, 'parents/x')).mode & 0o777, 0o700); // the source directory's mode
    assert.deepEqual(under('pivot/'), ['y/', 'y/a.txt', 'y/b.txt']);
    assert.deepEqual(under('deep/'), ['src/', 'src/a.txt', 'src/x/', 'src/x/b.txt', 'src/x/y/', 'src/x/y/c.txt']);
    assert.deepEqual(under('whole/'), ['src/', 'src/a.txt', 'src/empty/', 'src/empty/.keep', 'src/x/', 'src/x/y/', 'src/x/y/c.txt', 'src/x/y/d.go']);
    assert.deepEqual(under('fromstage/'), ['app/', 'app/bin/', 'app/bin/tool']);
  });

  test('cache: an excluded file changing keeps the step cached; a new pattern or flag runs it', async () => {
    const dir = ctx({ 'a.txt': 'a', 'b.log': 'b1', Dockerfile: 'FROM busybox\nCOPY --exclude=*.log . /c/\nRUN ls /c > /list\n' });
    const built = async (tag: string) => {
      const r = await root.run(['build', '--progress', 'plain', '-t', tag, dir], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      return (r.stderr.match(/CACHED/g) ?? []).length;
    };
    await built('excl:1');
    fs.writeFileSync(path.join(dir, 'b.log'), 'b2');
    assert.equal(await built('excl:2'), 2); // COPY and RUN both cached
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY --exclude=*.log --exclude=Dockerfile . /c/\nRUN ls /c > /list\n');
    assert.equal(await built('excl:3'), 0);
    const r = await root.run(['run', '--rm', 'excl:3', 'cat', '/list']);
    assert.equal(r.stdout, 'a.txt\n');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY --parents --exclude=*.log --exclude=Dockerfile . /c/\nRUN ls /c > /list\n');
    assert.equal(await built('excl:4'), 0);
  });

  test('no escape: ../ in a --parents source or pivot, a symlink out of the context, a missing plain path', async () => {
    const outside = ctx({ 'secret.txt': 'outside' });
    const dir = ctx({ 'in/a.txt': 'a' }, { 'in/out': outside });
    for (const [line, message] of [
      ['COPY --parents ../x /p/', /outside the build context/],
      ['COPY --parents in/./../../x /p/', /outside the build context/],
      ['COPY --parents in/nothing.txt /p/', /not found/],
      ['COPY --parents --exclude=[ in /p/', /--exclude/],
    ] as const) {
      fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM scratch\n${line}\n`);
      const r = await root.run(['build', '--progress', 'plain', dir], { timeoutMs: 60_000 });
      assert.notEqual(r.code, 0, line);
      assert.match(r.stderr, message, line);
    }
    // The symlink is copied as a link (into the image), never followed out of the context.
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY --parents in/out/secret.txt in/a.txt /p/\n');
    const r = await root.run(['build', '--progress', 'plain', dir], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found/);
    const { tree: t } = await files(ctx({ 'in/a.txt': 'a', Dockerfile: 'FROM scratch\nCOPY --parents in /p/\n' }, { 'in/out': outside }));
    assert.deepEqual(t, ['p/', 'p/in/', 'p/in/a.txt', `p/in/out -> ${outside}`]);
  });
});
