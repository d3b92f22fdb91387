// Fuzz targets for the text formats a user (or an attacker) writes: Dockerfiles (with the
// variable rules their words follow), compose files (YAML, interpolation, merging, the schema,
// normalisation), and `--format` templates. Inputs are token soups of each format's own words,
// so most of them get past the first line; the rule is the one of targets.ts: a refusal is a
// BerthError with a message (a template's TemplateError is one), nothing else, and quickly.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseDockerfile } from '../src/build/dockerfile/parse.ts';
import { expandWord, expandWords } from '../src/build/dockerfile/words.ts';
import { loadProject } from '../src/compose/load.ts';
import { compile, run } from '../src/cli/template.ts';
import { goStruct } from '../src/cli/template/values.ts';
import { clean, type Target } from './targets.ts';

/** Lines of a format's words: each line a few tokens joined by one of the separators. */
function soup(words: string[], seps: string[], lines = 12): fc.Arbitrary<string> {
  const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...words) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  const line = fc.tuple(fc.array(token, { maxLength: 7 }), fc.constantFrom(...seps)).map(([t, sep]) => t.join(sep));
  return fc.array(line, { maxLength: lines }).map((ls) => ls.join('\n'));
}

const DOCKERFILE_WORDS = [
  'FROM', 'AS', 'RUN', 'CMD', 'ENTRYPOINT', 'ENV', 'ARG', 'LABEL', 'EXPOSE', 'VOLUME', 'USER', 'WORKDIR', 'SHELL', 'STOPSIGNAL',
  'HEALTHCHECK', 'NONE', 'ONBUILD', 'ADD', 'COPY', 'MAINTAINER', 'busybox', 'scratch', 'base', '${v}', '${v:-w}', '${v:+w}', '$v',
  '${', '}', '\\', '`', '"', "'", '[', ']', '["sh", "-c"]', '[]', '=', 'a=b', 'k="x y"', '<<EOT', '<<-EOF', '<<"Q"', 'EOT', 'EOF',
  '--from=base', '--chown=1:1', '--chmod=755', '--link', '--parents', '--exclude=*.md', '--mount=type=cache,target=/c',
  '--mount=type=secret,id=s', '--mount=type=bind,from=base,source=/a,target=/b', '--network=none', '--platform=linux/amd64',
  '--interval=1s', '--retries=-1', '--keep-git-dir', '--checksum=sha256:00', '# syntax=docker/dockerfile:1', '# escape=`',
  '# escape=\\', '#', '/', '.', '..', '*', '**', '?', '80/tcp', '1-65536', 'https://example.invalid/x', 'git@example.invalid:x.git',
];

const dockerfile: Target<{ text: string; env: Record<string, string> }> = {
  name: 'dockerfile',
  arb: fc.record({
    text: fc.oneof(soup(DOCKERFILE_WORDS, [' ', ' ', '\t', ' \\\n  ', '']), fc.string({ maxLength: 200 })),
    env: fc.dictionary(fc.constantFrom('v', 'w', 'HOME', 'PATH', ''), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  }),
  check({ text, env }) {
    clean('parseDockerfile', () => parseDockerfile(text));
    // The variable rules every instruction's words go through, on each line's words.
    for (const line of text.split('\n')) {
      clean('expandWord', () => expandWord(line, env));
      clean('expandWords', () => expandWords(line, env));
      clean('expandWord (escape `)', () => expandWord(line, env, { escape: '`' }));
    }
  },
};

const COMPOSE_WORDS = [
  'services:', 'web:', 'db:', '  ', '    ', '- ', 'image: busybox', 'build: .', 'build:', 'context: .', 'dockerfile: D', 'command: ["sh"]',
  'command: sh -c "x"', 'ports:', '"8080:80"', '80', '- "127.0.0.1::80/udp"', 'volumes:', 'data:', '- data:/d', '- ./x:/y:ro',
  'networks:', 'front:', 'default:', 'depends_on:', 'condition: service_healthy', 'environment:', 'A: ${A:-x}', '- B=$B', '$$',
  '${A?err}', '${A:?err}', '${', 'extends:', 'service: web', 'file: other.yaml', 'include:', 'profiles: [p]', 'deploy:',
  'resources:', 'limits:', 'cpus: "0.5"', 'memory: 64m', 'healthcheck:', 'test: ["CMD", "true"]', 'interval: 1s', 'x-common: &c',
  '<<: *c', '*c', '&a', '!reset', '!override', '[]', '{}', 'null', '~', 'true', '0x1f', '1e9', '"', "'", '#', 'name: p', 'version: "3"',
  'secrets:', 'configs:', 'file: /etc/passwd', 'external: true', 'ipam:', 'config:', '- subnet: 10.9.0.0/24', 'enable_ipv6: true',
  'restart: always', 'init: true', 'ulimits:', 'nofile: 1024', 'env_file: .env', 'labels:', 'k: v', '? complex', ': v', '---', '...',
];

// loadProject reads files: each input is written into one scratch directory, reused.
let work: string | undefined;
const compose: Target<{ text: string; env: Record<string, string> }> = {
  name: 'compose',
  arb: fc.record({
    text: fc.oneof(soup(COMPOSE_WORDS, [' ', '  ', ': ', '\n  ', ''], 16), fc.string({ maxLength: 200 })),
    env: fc.dictionary(fc.constantFrom('A', 'B', 'COMPOSE_PROFILES', 'COMPOSE_PROJECT_NAME'), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  }),
  check({ text, env }) {
    work ??= fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fuzz-compose-'));
    const file = path.join(work, 'compose.yaml');
    fs.writeFileSync(file, text);
    clean('loadProject', () => loadProject({ files: [file], cwd: work, env, envFiles: [], projectName: 'fuzz' }));
  },
};

const TEMPLATE_WORDS = [
  '{{', '}}', '{{-', '-}}', '.', '.ID', '.Names', '.Labels', '.Config.Env', '$', '$x', ':=', '=', '|', '(', ')', 'if', 'else', 'end',
  'range', 'with', 'define "t"', 'template "t"', 'block "b" .', 'break', 'continue', 'json', 'join', 'split', 'lower', 'upper',
  'title', 'pad', 'truncate', 'printf', '"%s"', '"%d %v %5.2f %q %x"', 'len', 'index', 'slice', 'eq', 'ne', 'lt', 'and', 'or', 'not',
  'print', 'println', 'call', 'nil', 'true', '1', '-1', '1e3', "'a'", '"x"', '`raw`', 'table', '\\t', '\\n', '/*', '*/',
];

const CONTEXT = goStruct('*formatter.ContainerContext', {
  Command: '"sh"', ID: 'abc', Image: 'busybox', Labels: 'a=b', Names: 'web', Ports: '', State: 'running', Status: 'Up',
  Label: (name: string) => (name === 'a' ? 'b' : ''),
});
const INSPECT = { Id: 'abc', Config: { Env: ['A=1', 'B=2'], Labels: { a: 'b' }, Cmd: null }, State: { Running: true, Pid: 1 }, Mounts: [], NetworkSettings: { Ports: null } };

const template: Target<string> = {
  name: 'template',
  arb: fc.oneof(
    fc.array(fc.constantFrom(...TEMPLATE_WORDS), { maxLength: 16 }).chain((t) => fc.constantFrom(t.join(' '), t.join(''))),
    fc.string({ maxLength: 60 }),
  ),
  check(text) {
    const t = clean('compile', () => compile(text));
    if (!t) return;
    clean('run (a formatter context)', () => run(t, CONTEXT));
    clean('run (inspect JSON)', () => run(t, INSPECT));
  },
};

export const TEXT_TARGETS: Target<any>[] = [dockerfile, compose, template];
