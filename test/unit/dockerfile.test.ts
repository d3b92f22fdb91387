import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heredocFile, heredocText, parseDockerfile, parseTriggers } from '../../src/build/dockerfile/parse.ts';
import type { Instruction } from '../../src/build/types.ts';

/** The instructions of the first stage. */
function steps(text: string): Instruction[] {
  return parseDockerfile(text).stages[0].instructions;
}
function one<K extends Instruction['kind']>(text: string, kind: K): Instruction & { kind: K } {
  const [i] = steps('FROM scratch\n' + text);
  assert.equal(i.kind, kind);
  return i as Instruction & { kind: K };
}
function fails(text: string, message: string | RegExp, file?: string) {
  assert.throws(
    () => parseDockerfile(text, file),
    (err: any) => {
      assert.equal(err.name, 'BerthError');
      assert.equal(err.code, 'InvalidArgument');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('stages, names, global ARGs, platform', () => {
  const df = parseDockerfile(
    'ARG BASE=alpine:3.20\nARG TAG\nFROM ${BASE} AS Build\nRUN make\nfrom --platform=$BUILDPLATFORM busybox as final\nCOPY --from=build /out /out\n',
  );
  assert.deepEqual(df.globalArgs.map((a) => a.args), [[{ name: 'BASE', value: 'alpine:3.20' }], [{ name: 'TAG' }]]);
  assert.equal(df.stages.length, 2);
  assert.deepEqual(df.stages[0].from, { source: { file: 'Dockerfile', line: 3, endLine: 3, text: 'FROM ${BASE} AS Build' }, image: '${BASE}', name: 'build' });
  assert.equal(df.stages[1].from.platform, '$BUILDPLATFORM');
  assert.equal(df.stages[1].from.name, 'final');
  assert.equal(df.stages[1].index, 1);
  assert.equal(df.escape, '\\');
  assert.deepEqual(df.directives, {});
});

test('parser directives: only at the top, case-insensitive, first non-directive ends them', () => {
  let df = parseDockerfile('# syntax=docker/dockerfile:1\n#  ESCAPE = `\n# check=skip=all\nFROM x\n');
  assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
  assert.equal(df.escape, '`');
  // After a comment, a blank line or an unknown directive, they are plain comments.
  for (const text of ['# About my dockerfile\n# escape=`\nFROM x\n', '\n# escape=`\nFROM x\n', '# unknowndirective=value\n# escape=`\nFROM x\n', 'FROM x\n# escape=`\n']) {
    df = parseDockerfile(text);
    assert.equal(df.escape, '\\', text);
    assert.deepEqual(df.directives, {});
  }
  fails('# escape=\\\n# escape=`\nFROM x\n', 'Dockerfile:2: only one escape parser directive can be used');
  fails('# escape=x\nFROM x\n', /^Dockerfile:1: invalid escape token 'x' does not match ` or \\$/);
  // Line continuation is not a directive's: a directive line is a comment.
  assert.deepEqual(parseDockerfile('# syntax=a \\\nFROM x\n').directives, { syntax: 'a \\' });
});

test('the escape directive: the reference\'s Windows example', () => {
  // With the default escape, `c:\` at the end of a line joins it with the next one.
  const joined = steps('FROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n');
  assert.equal(joined.length, 1);
  assert.equal(joined[0].source.text, 'COPY testfile.txt c:RUN dir c:');
  assert.deepEqual(joined[0].kind === 'COPY' && [joined[0].sources, joined[0].dest], [['testfile.txt', 'c:RUN', 'dir'], 'c:']);
  const df = parseDockerfile('# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\nRUN echo a `\n  b\n');
  const [copy, run, run2] = df.stages[0].instructions;
  assert.deepEqual(copy.kind === 'COPY' && [copy.sources, copy.dest], [['testfile.txt'], 'c:\\']);
  assert.deepEqual(run.kind === 'RUN' && run.command, { form: 'shell', text: 'dir c:\\' });
  assert.deepEqual(run2.kind === 'RUN' && run2.command, { form: 'shell', text: 'echo a   b' });
  assert.deepEqual([run2.source.line, run2.source.endLine], [6, 7]);
});

test('continuations: comments and empty lines inside, blanks after the escape, CRLF, escaped escape', () => {
  const [run] = steps('FROM x\nRUN apt-get update && \\  \r\n# comment inside\n    # indented comment\n\n   \n  apt-get install -y curl\r\n');
  assert.deepEqual(run.kind === 'RUN' && run.command, { form: 'shell', text: 'apt-get update &&   apt-get install -y curl' });
  assert.deepEqual([run.source.line, run.source.endLine], [2, 7]);
  // `\\` at the end is an escaped escape, not a continuation.
  const [a, b] = steps('FROM x\nRUN echo \\\\\nRUN b\n');
  assert.deepEqual(a.kind === 'RUN' && a.command, { form: 'shell', text: 'echo \\\\' });
  assert.equal(b.source.line, 3);
  // A continuation at the end of the file ends the instruction; a lone escape line continues.
  assert.deepEqual(one('RUN echo hi \\', 'RUN').command, { form: 'shell', text: 'echo hi' });
  assert.deepEqual(one('RUN a\\\n\\\nb', 'RUN').command, { form: 'shell', text: 'ab' });
  // Comment lines are dropped before anything else, indented or not, and a BOM is ignored.
  const df = parseDockerfile('\ufeff  # comment\n\tFROM   x  \n   run   echo  hi\n');
  assert.equal(df.stages[0].from.image, 'x');
  assert.deepEqual(df.stages[0].instructions[0].kind === 'RUN' && df.stages[0].instructions[0].command, { form: 'shell', text: 'echo  hi' });
});

test('exec form and shell form; invalid JSON falls back to shell form except for SHELL', () => {
  assert.deepEqual(one('CMD ["echo", "a b"]', 'CMD').command, { form: 'exec', args: ['echo', 'a b'] });
  assert.deepEqual(one('ENTRYPOINT ["/bin/sh", "-c"]', 'ENTRYPOINT').command, { form: 'exec', args: ['/bin/sh', '-c'] });
  assert.deepEqual(one('RUN ["a", "b\\"c", "\\u00e9"]', 'RUN').command, { form: 'exec', args: ['a', 'b"c', 'é'] });
  assert.deepEqual(one('CMD []', 'CMD').command, { form: 'exec', args: [] });
  // Not JSON (single quotes, trailing garbage): shell form, as docker does.
  assert.deepEqual(one("CMD ['echo', 'hi']", 'CMD').command, { form: 'shell', text: "['echo', 'hi']" });
  assert.deepEqual(one('RUN ["a"] && b', 'RUN').command, { form: 'shell', text: '["a"] && b' });
  assert.deepEqual(one('CMD echo "$HOME"', 'CMD').command, { form: 'shell', text: 'echo "$HOME"' });
  assert.deepEqual(one('SHELL ["powershell", "-command"]', 'SHELL').args, ['powershell', '-command']);
  fails('FROM x\nSHELL /bin/bash -c\n', 'Dockerfile:2: SHELL requires the arguments to be in JSON form');
  fails('FROM x\nSHELL []\n', 'Dockerfile:2: SHELL requires at least one argument');
  fails('FROM x\nCMD ["a", 1]\n', 'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only');
  fails('FROM x\nRUN\n', 'Dockerfile:2: RUN requires at least one argument');
});

test('ENV and LABEL: key=value pairs with quotes, and the legacy form', () => {
  assert.deepEqual(one('ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog \\\n    MY_CAT=fluffy', 'ENV').pairs, [
    ['MY_NAME', '"John Doe"'],
    ['MY_DOG', 'Rex\\ The\\ Dog'],
    ['MY_CAT', 'fluffy'],
  ]);
  assert.deepEqual(one('ENV MY_VAR my-value with  spaces', 'ENV').pairs, [['MY_VAR', 'my-value with  spaces']]);
  assert.deepEqual(one('ENV A= B=""', 'ENV').pairs, [['A', ''], ['B', '""']]);
  assert.deepEqual(one('LABEL "com.example.vendor"="ACME Incorporated" version=1.0 description="This text\\\nillustrates"', 'LABEL').pairs, [
    ['"com.example.vendor"', '"ACME Incorporated"'],
    ['version', '1.0'],
    ['description', '"This textillustrates"'],
  ]);
  assert.deepEqual(one("LABEL multi.label1='v 1' other=x", 'LABEL').pairs, [['multi.label1', "'v 1'"], ['other', 'x']]);
  fails('FROM x\nENV A=1 B\n', 'Dockerfile:2: Syntax error - can\'t find = in "B". Must be of the form: name=value');
  fails('FROM x\nENV ONLYKEY\n', 'Dockerfile:2: ENV must have two arguments');
  fails('FROM x\nENV =x\n', 'Dockerfile:2: ENV names can not be blank');
  fails('FROM x\nLABEL\n', 'Dockerfile:2: LABEL requires at least one argument');
});

test('ARG, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
  assert.deepEqual(one('ARG user1=someuser buildno=1 "q"="a b" plain', 'ARG').args, [
    { name: 'user1', value: 'someuser' },
    { name: 'buildno', value: '1' },
    { name: '"q"', value: '"a b"' },
    { name: 'plain' },
  ]);
  assert.deepEqual(one('EXPOSE 80/tcp  80/udp $PORT', 'EXPOSE').values, ['80/tcp', '80/udp', '$PORT']);
  assert.deepEqual(one('VOLUME ["/data", "/var/log x"]', 'VOLUME').values, ['/data', '/var/log x']);
  assert.deepEqual(one('VOLUME /myvol /other', 'VOLUME').values, ['/myvol', '/other']);
  assert.equal(one('USER app:app', 'USER').value, 'app:app');
  assert.equal(one('WORKDIR /path/to $DIR', 'WORKDIR').value, '/path/to $DIR');
  assert.equal(one('STOPSIGNAL SIGKILL', 'STOPSIGNAL').value, 'SIGKILL');
  assert.equal(one('MAINTAINER A <a@b.c>', 'MAINTAINER').value, 'A <a@b.c>');
  fails('FROM x\nVOLUME [" "]\n', 'Dockerfile:2: VOLUME specified can not be an empty string');
  fails('FROM x\nUSER\n', 'Dockerfile:2: USER requires exactly one argument');
  fails('FROM x\nEXPOSE\n', 'Dockerfile:2: EXPOSE requires at least one argument');
  fails('FROM x\nARG =v\n', 'Dockerfile:2: ARG names can not be blank');
});

test('HEALTHCHECK', () => {
  assert.deepEqual(one('HEALTHCHECK --interval=5m --timeout=3s --start-period=0 --start-interval=1s --retries=3 \\\n  CMD curl -f http://localhost/ || exit 1', 'HEALTHCHECK').check, {
    command: { form: 'shell', text: 'curl -f http://localhost/ || exit 1' },
    interval: '5m',
    timeout: '3s',
    startPeriod: '0',
    startInterval: '1s',
    retries: '3',
  });
  assert.deepEqual(one('healthcheck cmd ["/bin/check", "-q"]', 'HEALTHCHECK').check, { command: { form: 'exec', args: ['/bin/check', '-q'] } });
  assert.equal(one('HEALTHCHECK NONE', 'HEALTHCHECK').check, undefined);
  fails('FROM x\nHEALTHCHECK NONE x\n', 'Dockerfile:2: HEALTHCHECK NONE takes no arguments');
  fails('FROM x\nHEALTHCHECK CMD\n', 'Dockerfile:2: Missing command after HEALTHCHECK CMD');
  fails('FROM x\nHEALTHCHECK RUN x\n', 'Dockerfile:2: Unknown type "RUN" in HEALTHCHECK (try CMD)');
  fails('FROM x\nHEALTHCHECK --interval=10us CMD x\n', 'Dockerfile:2: Interval "interval" cannot be less than 1ms');
  fails('FROM x\nHEALTHCHECK --timeout=soon CMD x\n', /^Dockerfile:2: time: invalid duration "soon"/);
  fails('FROM x\nHEALTHCHECK --retries=-1 CMD x\n', 'Dockerfile:2: --retries cannot be negative (-1)');
  fails('FROM x\nHEALTHCHECK --command=x CMD x\n', /^Dockerfile:2: unknown flag: --command/);
});

test('COPY and ADD: flags, JSON form, heredoc sources', () => {
  const c = one('COPY --from=build --chown=55:mygroup --chmod=644 --link --parents --exclude=*.md --exclude=x files* /somedir/', 'COPY');
  assert.deepEqual(
    { ...c, source: undefined },
    { kind: 'COPY', source: undefined, sources: ['files*'], dest: '/somedir/', from: 'build', chown: '55:mygroup', chmod: '644', link: true, parents: true, exclude: ['*.md', 'x'], heredocs: [] },
  );
  assert.deepEqual(one('COPY ["a b", "c", "/dest dir/"]', 'COPY').sources, ['a b', 'c']);
  assert.equal(one('COPY --link=false a b', 'COPY').link, false);
  const add = one('ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --keep-git-dir=true --unpack=false https://x/y.tar.gz /', 'ADD');
  assert.equal(add.checksum, 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d');
  assert.equal(add.keepGitDir, true);
  assert.equal(add.unpack, false);
  assert.equal(add.from, undefined);
  const h = one('COPY <<-EOT <<"RAW" file.txt /app/\n\techo "hello world"\n\tEOT\n$NOT_EXPANDED\nRAW', 'COPY');
  assert.deepEqual(h.sources, ['file.txt']);
  assert.deepEqual(h.heredocs, [
    { name: 'EOT', chomp: true, expand: true, content: '\techo "hello world"\n' },
    { name: 'RAW', chomp: false, expand: false, content: '$NOT_EXPANDED\n' },
  ]);
  assert.equal(heredocText(h.heredocs[0]), 'echo "hello world"\n');
  // The files they become: expanded (quotes kept literal, escapes removed) unless quoted.
  const env = { NOT_EXPANDED: 'x', WHO: 'world' };
  assert.equal(heredocFile(h.heredocs[0], env), 'echo "hello world"\n');
  assert.equal(heredocFile(h.heredocs[1], env), '$NOT_EXPANDED\n');
  assert.equal(heredocFile({ name: 'E', chomp: false, expand: true, content: `say "hi $WHO" 'and $WHO' \\$WHO\n` }, env), `say "hi world" 'and world' $WHO\n`);
  assert.deepEqual([h.source.line, h.source.endLine], [2, 6]);
  fails('FROM x\nCOPY onlyone\n', 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  fails('FROM x\nCOPY a <<EOF\nx\nEOF\n', 'Dockerfile:2: COPY cannot accept a heredoc as a destination');
  fails('FROM x\nADD --from=x a b\n', /^Dockerfile:2: unknown flag: --from/);
  fails('FROM x\nCOPY --link=maybe a b\n', 'Dockerfile:2: expecting boolean value for flag --link, not: maybe');
  fails('FROM x\nCOPY --from a b\n', 'Dockerfile:2: missing a value on flag: --from');
  fails('FROM x\nCOPY --from=a --from=b a b\n', 'Dockerfile:2: duplicate flag specified: --from');
});

test('RUN flags: --mount, --network, --security', () => {
  const r = one(
    'RUN --mount=type=cache,target=/root/.cache,sharing=locked,id=pip,uid=1000,mode=0755 \\\n    --mount=type=secret,id=npmrc,dst=/root/.npmrc,required \\\n    --mount=from=build,src=/out,target=/in,rw \\\n    --mount=type=tmpfs,dst=/tmp,size=64m --mount=type=ssh --network=none --security=insecure pip install -r req.txt',
    'RUN',
  );
  assert.deepEqual(r.mounts, [
    { type: 'cache', target: '/root/.cache', sharing: 'locked', id: 'pip', uid: '1000', mode: '0755', readonly: false },
    { type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: true, readonly: true },
    { type: 'bind', from: 'build', source: '/out', target: '/in', readonly: false },
    { type: 'tmpfs', target: '/tmp', size: '64m', readonly: false },
    { type: 'ssh', readonly: true },
  ]);
  assert.equal(r.network, 'none');
  assert.equal(r.security, 'insecure');
  assert.deepEqual(r.command, { form: 'shell', text: 'pip install -r req.txt' });
  assert.deepEqual(one('RUN --mount="type=bind,source=a b,target=/x" ls', 'RUN').mounts, [{ type: 'bind', source: 'a b', target: '/x', readonly: true }]);
  // `--` ends the flags.
  assert.deepEqual(one('RUN -- --network=x', 'RUN').command, { form: 'shell', text: '--network=x' });
  const bad: [string, string | RegExp][] = [
    ['--mount=type=nfs', /unsupported mount type "nfs"/],
    ['--mount=target=/x,sharing=locked', 'invalid cache sharing set for bind mount'],
    ['--mount=type=cache,sharing=sometimes', /unsupported sharing value "sometimes"/],
    ['--mount=type=bind,mode=0700', 'mode not allowed for "bind" type mounts'],
    ['--mount=type=secret', 'invalid secret mount. one of source, target required'],
    ['--mount=type=bind,required', "unexpected key 'required' for mount type 'bind'"],
    ['--mount=type=cache,foo=bar', /unexpected key 'foo' in 'foo=bar'/],
    ['--mount=type=cache,ro=maybe', 'invalid value for ro: maybe'],
    ['--mount=type=cache,target', "invalid field 'target' must be a key=value pair"],
    ['--mount=from=$STAGE', "'from' doesn't support variable expansion, define alias stage instead"],
    ['--network=bridge', /invalid network mode "bridge"/],
    ['--security=lax', /security "lax" is not valid/],
    ['--chown=1:1', /unknown flag: --chown/],
  ];
  for (const [flag, msg] of bad) fails(`FROM x\nRUN ${flag} true\n`, typeof msg === 'string' ? `Dockerfile:2: ${msg}` : new RegExp('^Dockerfile:2: .*' + msg.source), undefined);
});

test('RUN heredocs: the reference\'s examples', () => {
  let r = one('RUN <<EOF\napt-get update\napt-get install -y curl\nEOF', 'RUN');
  assert.deepEqual(r.command, { form: 'shell', text: '<<EOF' });
  assert.deepEqual(r.heredocs, [{ name: 'EOF', chomp: false, expand: true, content: 'apt-get update\napt-get install -y curl\n' }]);
  r = one('RUN <<EOT bash\n  set -ex\n  apt-get install -y vim\nEOT\nRUN next', 'RUN');
  assert.deepEqual(r.command, { form: 'shell', text: '<<EOT bash' });
  assert.equal(r.heredocs[0].content, '  set -ex\n  apt-get install -y vim\n');
  r = one('RUN python3 <<EOF\n#!/usr/bin/env python\nprint("hello world")\nEOF', 'RUN');
  assert.deepEqual(r.command, { form: 'shell', text: 'python3 <<EOF' });
  // Several heredocs on one line, read in order; a terminator must be alone on its line.
  r = one('RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst FILE1\nFILE1\nI am\nsecond\nFILE2\n', 'RUN');
  assert.deepEqual(r.heredocs.map((h) => [h.name, h.content]), [['FILE1', 'I am\nfirst FILE1\n'], ['FILE2', 'I am\nsecond\n']]);
  // Quoted delimiters disable expansion; `<< EOF` and `3<<EOF` are markers too; `<<-` strips tabs.
  assert.deepEqual(one("RUN cat <<'EOT'\n$X\nEOT", 'RUN').heredocs[0], { name: 'EOT', chomp: false, expand: false, content: '$X\n' });
  assert.deepEqual(one('RUN cat << EOF 3<<"X"Y\na\nEOF\nb\nXY', 'RUN').heredocs.map((h) => [h.name, h.expand]), [['EOF', true], ['XY', false]]);
  r = one('RUN <<-EOT\n\t\techo hi\n\t\tEOT\nRUN x', 'RUN');
  assert.equal(r.heredocs[0].content, '\t\techo hi\n');
  assert.equal(heredocText(r.heredocs[0]), 'echo hi\n');
  // Not heredocs: exec form, a `<<` inside a word, other instructions.
  assert.deepEqual(one('RUN ["cat", "<<EOF"]', 'RUN').heredocs, []);
  assert.deepEqual(one('RUN echo $((1<<2))', 'RUN').heredocs, []);
  assert.deepEqual(one('ENV A=<<EOF', 'ENV').pairs, [['A', '<<EOF']]);
  fails('FROM x\nRUN <<EOF\nno end\n', /^Dockerfile:2: unterminated heredoc/);
  fails('FROM x\nRUN <<A <<B\nx\nA\n', /^Dockerfile:2: unterminated heredoc <<B/);
});

test('ONBUILD: the trigger parsed now, its expression kept for the image config', () => {
  const o = one('ONBUILD RUN --mount=type=cache,target=/c /usr/local/bin/python-build --dir /app/src', 'ONBUILD');
  assert.equal(o.expression, 'RUN --mount=type=cache,target=/c /usr/local/bin/python-build --dir /app/src');
  assert.equal(o.trigger.kind, 'RUN');
  assert.equal(o.trigger.kind === 'RUN' && o.trigger.mounts[0].type, 'cache');
  const h = one('onbuild COPY <<EOF /x\nhello\nEOF', 'ONBUILD');
  assert.equal(h.expression, 'COPY <<EOF /x\nhello\nEOF');
  assert.equal(h.trigger.kind === 'COPY' && h.trigger.heredocs[0].content, 'hello\n');
  // The child build reads the expressions back.
  const triggers = parseTriggers([o.expression, h.expression, 'ADD . /app/src'], 'base:1');
  assert.deepEqual(triggers.map((t) => t.kind), ['RUN', 'COPY', 'ADD']);
  assert.equal(triggers[1].kind === 'COPY' && triggers[1].heredocs[0].content, 'hello\n');
  assert.throws(() => parseTriggers(['RUN a', 'FROM x'], 'base:1'), { code: 'InvalidArgument', message: "base:1 (ONBUILD trigger 2):1: FROM isn't allowed as an ONBUILD trigger" });
  assert.throws(() => parseTriggers(['RUN a\nRUN b'], 'base:1'), { message: 'base:1 (ONBUILD trigger 1):1: onbuild trigger should be a single expression' });
  assert.throws(() => parseTriggers([''], 'base:1'), { message: 'base:1 (ONBUILD trigger 1):1: onbuild trigger should be a single expression' });
  fails('FROM x\nONBUILD ONBUILD RUN x\n', 'Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  fails('FROM x\nONBUILD FROM y\n', "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
  fails('FROM x\nONBUILD MAINTAINER y\n', "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
  fails('FROM x\nONBUILD\n', 'Dockerfile:2: ONBUILD requires at least one argument');
});

test('errors name the file and the instruction\'s first line', () => {
  fails('FROM x\n\nRUN a \\\n  b\nFOO bar\n', 'Dockerfile:5: unknown instruction: FOO');
  fails('FROM x\nCOPPY a b\n', 'Dockerfile:2: unknown instruction: COPPY (did you mean COPY?)');
  fails('FROM x\nexpsoe 80\n', 'Dockerfile:2: unknown instruction: expsoe (did you mean EXPOSE?)');
  fails('FROM x\nRUN a \\\n  --b \\\n  c\nCMD ["x", 2]\n', 'Dockerfile:5: when using JSON array syntax, arrays must be comprised of strings only', undefined);
  fails('FROM x\nCOPY --chown=1 \\\n  a\n', 'docker/Dockerfile.prod:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined', 'docker/Dockerfile.prod');
  fails('RUN make\nFROM x\n', 'Dockerfile:1: RUN before the first FROM: only ARG may come before FROM');
  fails('ARG A\n', 'Dockerfile:1: no FROM instruction: a Dockerfile needs at least one build stage');
  fails('', 'Dockerfile:1: file with no instructions');
  fails('# only a comment\n\n', 'Dockerfile:2: file with no instructions');
  fails('FROM a b\n', 'Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])');
  fails('FROM\n', 'Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])');
  fails('FROM a AS 1st\n', 'Dockerfile:1: invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
  fails('FROM a AS x\nFROM b AS X\n', 'Dockerfile:2: duplicate stage name "x" (also on line 1)');
  fails('FROM --platform a\n', 'Dockerfile:1: missing a value on flag: --platform');
  fails('FROM x\nWORKDIR --x=1 /a\n', 'Dockerfile:2: unknown flag: --x (this instruction takes no flags)');
});

test('Source.text: the instruction as written, continuations joined', () => {
  const [a, b] = steps('FROM x\nRUN set -e; \\\n    echo "a  b" \\\n  # note\n    && true\nLABEL  a=b   \n');
  assert.equal(a.source.text, 'RUN set -e;     echo "a  b"     && true');
  assert.equal(b.source.text, 'LABEL  a=b');
});

test('heredoc delimiters: quoting parts, escapes, blanks after <<, variables, several in one COPY', () => {
  const text = [
    'FROM alpine',
    'RUN 3<<EMPTY2', 'EMPTY2',
    'RUN "<<NOHEREDOC"',
    'COPY <<X <<Y /dest', 'Y', 'X', 'X', 'Y',
    "RUN <<eo'f'", 'echo foo', 'eof',
    "RUN <<eo\\'f", 'echo foo', "eo'f",
    "RUN <<'e'o\\'f", 'echo foo', "eo'f",
    "RUN <<'one two'", 'echo bar', 'one two',
    'RUN <<$EOF', '$EOF',
    'RUN <<  EOF  > foo', 'EOF',
    'RUN --mount=type=cache,target=/foo <<MOUNT', 'echo hello', 'MOUNT',
  ].join('\n');
  const got = parseDockerfile(text).stages[0].instructions.map((i) => (i.kind === 'RUN' || i.kind === 'COPY' ? i.heredocs : []).map((h) => [h.name, h.expand, h.content]));
  assert.deepEqual(got, [
    [['EMPTY2', true, '']],
    [],
    [['X', true, 'Y\n'], ['Y', true, 'X\n']],
    [['eof', false, 'echo foo\n']],
    [["eo'f", true, 'echo foo\n']],
    [["eo'f", false, 'echo foo\n']],
    [['one two', false, 'echo bar\n']],
    [['$EOF', true, '']],
    [['EOF', true, '']],
    [['MOUNT', true, 'echo hello\n']],
  ]);
});
