// --format as docker's Go templates. Expected outputs are docker's own: test/fixtures/template/
// inspect-cases.json holds what the docker CLI 28.2.2 printed for `docker inspect --format T c1`
// (c1 made by `docker create --name c1 -l a=b -l com.x=y busybox sleep 100`; container.json is
// the part of its inspect data those templates read), and the ps/volume/network tables below are
// docker's output for the same containers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { checkContainerFormat, CONTAINER_LIST, containerContext, HISTORY_LIST, historyContext, NETWORK_LIST, networkContext, VOLUME_LIST, volumeContext, type ContainerRow } from '../../src/cli/contexts.ts';
import { compile, formatInspect, formatList, goStruct, renderTemplate, run, TemplateError } from '../../src/cli/template.ts';
import { formatPrec } from '../../src/cli/template/float.ts';
import { sprintf } from '../../src/cli/template/printf.ts';
import { tabwrite } from '../../src/cli/template/tabwriter.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/template');
const C1 = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'container.json'), 'utf8'));
const CASES: { t: string; out: string; err?: string; code?: number }[] = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'inspect-cases.json'), 'utf8'));

/** What `docker inspect --format t` prints and exits with, through our formatInspect. */
function inspect(t: string): { out: string; err?: string; code?: number } {
  try {
    const r = formatInspect(t, [C1]);
    return r.errors.length ? { out: r.out, err: r.errors.join('\n'), code: 1 } : { out: r.out };
  } catch (err) {
    assert.ok(err instanceof TemplateError, `${t}: ${err}`);
    return { out: '', err: err.message, code: err.exitStatus };
  }
}

test('docker inspect --format: the same output, message and status as the docker CLI', () => {
  assert.ok(CASES.length > 300);
  for (const { t, ...want } of CASES) assert.deepEqual(inspect(t), want, t);
});

test('a few of those by name, for the reader', () => {
  assert.equal(inspect('{{.Name}} {{.State.Status}} {{.Config.Cmd}} {{.Config.Labels}}').out, '/c1 created [sleep 100] map[a:b com.x:y]\n');
  assert.equal(inspect('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}').out, 'a=b;com.x=y;\n');
  assert.equal(inspect('{{json .Config.Labels}}').out, '{"a":"b","com.x":"y"}\n');
  assert.equal(inspect('{{.Config.Labels.nope}}').out, '<no value>\n');
  // A null where docker has a nil slice, a nil map or a nil pointer prints as Go prints each.
  assert.equal(inspect('{{.HostConfig.Binds}} {{.NetworkSettings.Networks.bridge.DriverOpts}} {{.HostConfig.MemorySwappiness}} {{json .HostConfig.Binds}}').out, '[] map[] <nil> null\n');
  assert.deepEqual(inspect('{{.Nope}}'), { out: '\n', err: 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"', code: 1 });
  assert.deepEqual(inspect('{{if}}'), { out: '', err: 'template parsing error: template: :1: missing value for if', code: 64 });
  assert.equal(inspect('{{printf "%5.2f|%-6s|%q|%x" 3.14159 "ab" "q" 255}}').out, ' 3.14|ab    |"q"|ff\n');
});

test('formatInspect: a map is a map by where it sits, whatever its keys look like', () => {
  const obj = () => ({ Config: { Labels: { Vendor: 'x', License: 'y' }, Image: 'i' }, HostConfig: { LogConfig: { Type: 'json-file', Config: { Mode: 'blocking' } } } });
  assert.equal(formatInspect('{{.Config.Labels}} {{.Config.Labels.Nope}} {{json .Config.Labels}} {{.HostConfig.LogConfig.Config}}', [obj()]).out,
    'map[License:y Vendor:x] <no value> {"License":"y","Vendor":"x"} map[Mode:blocking]\n');
  // Config itself is a struct: a missing field is docker's error.
  assert.match(formatInspect('{{.Config.Nope}}', [obj()]).errors[0], /map has no entry for key "Nope"/);
});

test('formatInspect: json is one array; no format is indented JSON', () => {
  assert.equal(formatInspect('json', [{ A: 1 }, { A: 2 }]).out, '[{"A":1},{"A":2}]\n');
  assert.equal(formatInspect(undefined, []).out, '[]\n');
  assert.equal(formatInspect('{{.A}}', []).out, '\n');
});

const ROWS: ContainerRow[] = [
  { id: '88df6e0ef051', names: ['c2'], image: 'busybox', command: 'echo hello world and more words here', created: '2026-12-07T16:03:18Z', runningFor: '16 seconds ago', ports: '', state: 'created', status: 'Created', labels: {}, mounts: [], networks: ['bridge'] },
  { id: 'f969daa7cdf2', names: ['c1'], image: 'busybox', command: 'sleep 100', created: '2026-12-07T16:03:18Z', runningFor: '16 seconds ago', ports: '', state: 'created', status: 'Created', labels: { a: 'b', 'com.x': 'y' }, mounts: [], networks: ['bridge'] },
];
/** berth ps: the check docker makes of the format as typed, then the formatter. */
function ps(format: string | undefined, rows = ROWS): string {
  if (format) checkContainerFormat(format);
  return formatList(format, rows.map((r) => containerContext(r, true)), CONTAINER_LIST);
}

test('docker ps: the default table and table formats, as docker prints them', () => {
  assert.equal(ps(undefined), [
    'CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS    PORTS     NAMES',
    '88df6e0ef051   busybox   "echo hello world an…"   16 seconds ago   Created             c2',
    'f969daa7cdf2   busybox   "sleep 100"              16 seconds ago   Created             c1',
    ''].join('\n'));
  assert.equal(ps('table'), ps(undefined));
  assert.equal(ps('table {{.ID}}\\t{{.Names}}'), 'CONTAINER ID   NAMES\n88df6e0ef051   c2\nf969daa7cdf2   c1\n');
  assert.equal(ps('table {{.Names}}\t{{.Labels}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}\t{{.State}}'), [
    'NAMES     LABELS        MOUNTS    NETWORKS   LOCAL VOLUMES   STATE',
    'c2                                bridge     0               created',
    'c1        a=b,com.x=y             bridge     0               created',
    ''].join('\n'));
  assert.equal(ps('table {{.ID}}\\t{{.Names | upper}}\\t{{json .Labels}}\\t{{.Label "com.x"}}\\t{{pad .State 2 2}}|\\t{{truncate .Image 3}}\\t{{printf "%.4s" .ID}}'), [
    'CONTAINER ID   NAMES     LABELS          x           STATE  |     IMAGE     CONT',
    '88df6e0ef051   C2        ""                          created  |   bus       88df',
    'f969daa7cdf2   C1        "a=b,com.x=y"   y           created  |   bus       f969',
    ''].join('\n'));
  assert.equal(ps('table {{.Names | printf "%-3.1s"}}\\t{{pad .ID 1 1}}\\t{{split .Names "1"}}\\t{{title .State}}'), [
    'N          CONTAINER ID    NAMES     STATE',
    'c          88df6e0ef051    [c2]      Created',
    'c          f969daa7cdf2    [c ]      Created',
    ''].join('\n'));
  // No tab, or a newline in the format: the tabwriter has nothing to align.
  assert.equal(ps('table {{.ID}} {{.Names}}'), 'CONTAINER ID NAMES\n88df6e0ef051 c2\nf969daa7cdf2 c1\n');
  assert.equal(ps('table {{.ID}}\\n{{.Names}}'), 'CONTAINER ID\nNAMES\n88df6e0ef051\nc2\nf969daa7cdf2\nc1\n');
});

test('docker ps: the header is printed with no rows; a custom format prints nothing then', () => {
  assert.equal(ps('table {{.ID}}\\t{{.Names}}', []), 'CONTAINER ID   NAMES\n');
  assert.equal(ps(undefined, []), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  assert.equal(ps('{{.ID}}', []), '');
});

test('docker ps: custom formats, json, quiet, and the spaces docker trims', () => {
  assert.equal(ps('{{.Names}}{{if .Label "a"}} has a={{.Label "a"}}{{end}}'), 'c2\nc1 has a=b\n');
  assert.equal(ps('{{json .Names}} {{.Platform}}'), '"c2" <nil>\n"c1" <nil>\n');
  assert.equal(ps('  {{.Names}}\\t{{.ID}}  '), 'c2\t88df6e0ef051\nc1\tf969daa7cdf2\n');
  assert.equal(ps('json').split('\n')[1],
    '{"Command":"\\"sleep 100\\"","CreatedAt":"2026-12-07 16:03:18 +0000 UTC","ID":"f969daa7cdf2","Image":"busybox","Labels":"a=b,com.x=y","LocalVolumes":"0","Mounts":"","Names":"c1","Networks":"bridge","Platform":null,"Ports":"","RunningFor":"16 seconds ago","Size":"0B","State":"created","Status":"Created"}');
});

test('docker ps: errors say what docker says (positions in the format as typed), exit 1, and print nothing', () => {
  const err = (format: string) => {
    try {
      ps(format);
    } catch (e) {
      assert.ok(e instanceof TemplateError);
      return [e.message, e.exitStatus];
    }
    assert.fail(`no error for ${format}`);
  };
  assert.deepEqual(err('{{.Foo'), ['failed to parse template: template: :1: unclosed action', 1]);
  assert.deepEqual(err('{{.Nope}}'), ['failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext', 1]);
  assert.deepEqual(err('table {{.Names}}\\t{{.Nope}}'), ['failed to execute template: template: :1:20: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext', 1]);
  assert.deepEqual(err('{{.Label}}'), ['failed to execute template: template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0', 1]);
  assert.deepEqual(err('{{.Names "x"}}'), ['failed to execute template: template: :1:2: executing "" at <.Names>: wrong number of args for Names: want 0 got 1', 1]);
  assert.deepEqual(err('{{if}}'), ['failed to parse template: template: :1: missing value for if', 1]);
  assert.deepEqual(err('{{end}}'), ['failed to parse template: template: :1: unexpected {{end}}', 1]);
  assert.deepEqual(err('{{range .Names}}x'), ['failed to parse template: template: :1: unexpected EOF', 1]);
});

test('docker ps: a format that reads .Size asks for sizes, as docker decides it', () => {
  assert.equal(checkContainerFormat('{{.Names}}'), false);
  assert.equal(checkContainerFormat('table {{.Names}}\\t{{.Size}}'), true);
  assert.equal(checkContainerFormat('{{json .}}'), true);
  assert.equal(checkContainerFormat('json'), false); // the shortcut is not looked into
  assert.equal(checkContainerFormat('{{if false}}{{.Size}}{{end}}'), false);
});

test('--format raw, and -q with a format: per command, as docker', () => {
  assert.equal(ps('raw').split('\n\n')[1], 'container_id: f969daa7cdf2\nimage: busybox\ncommand: "sleep 100"\ncreated_at: 2026-12-07 16:03:18 +0000 UTC\nstate: created\nstatus: Created\nnames: c1\nlabels: a=b,com.x=y\nports:');
  const vols = [volumeContext({ Name: 'vol1', Driver: 'local', Scope: 'local', Mountpoint: '/v', Labels: null })];
  assert.equal(formatList('raw', vols, VOLUME_LIST), 'name: vol1\ndriver: local\n\n');
  assert.equal(formatList('raw', vols, VOLUME_LIST, { quiet: true }), 'name: vol1\n');
  // A custom format wins over -q for volumes, networks and images; for ps, -q wins.
  assert.equal(formatList('{{.Driver}}', vols, VOLUME_LIST, { quiet: true }), 'local\n');
  assert.equal(formatList('{{.Names}}', ROWS.map((r) => containerContext(r, true)), CONTAINER_LIST, { quiet: true }), '88df6e0ef051\nf969daa7cdf2\n');
});

test('volume ls and network ls: their headers and .Label header names', () => {
  const vols = [volumeContext({ Name: 'vol1', Driver: 'local', Scope: 'local', Mountpoint: 'ROOT/volumes/vol1/_data', Labels: { k: 'v' } })];
  assert.equal(formatList('table {{.Name}}\\t{{.Driver}}\\t{{.Scope}}\\t{{.Mountpoint}}', vols, VOLUME_LIST),
    'VOLUME NAME   DRIVER    SCOPE     MOUNTPOINT\nvol1          local     local     ROOT/volumes/vol1/_data\n');
  assert.equal(formatList('table {{.Name}}\\t{{.Label "k"}}\\t{{.Links}}\\t{{.Label "com.example.foo-bar_baz"}}', vols, VOLUME_LIST),
    'VOLUME NAME   k         LINKS     foo bar baz\nvol1          v         N/A       \n');
  assert.equal(formatList('json', vols, VOLUME_LIST),
    '{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"k=v","Links":"N/A","Mountpoint":"ROOT/volumes/vol1/_data","Name":"vol1","Scope":"local","Size":"N/A","Status":"N/A"}\n');
  const none = networkContext({ Id: 'none'.padEnd(64, '0'), Name: 'none', Driver: 'null', Created: '2026-12-07T16:03:11.876451657Z', Labels: {} }, true);
  assert.equal(formatList('table {{.Name}}\\t{{.IPv6}}\\t{{.Internal}}\\t{{.Labels}}\\t{{.CreatedAt}}', [none], NETWORK_LIST),
    'NAME      IPV6      INTERNAL   LABELS    CREATED AT\nnone      false     false                2026-12-07 16:03:11.876451657 +0000 UTC\n');
});

test('history: docker\'s historyContext (truncation, -H=false, <missing>, json keys)', () => {
  const rows = [
    { id: 'sha256:0123456789abcdef0123', created: 1796660000, createdBy: 'RUN /bin/sh -c\techo a very long command line that goes on and on', size: 1234567, comment: 'buildkit' },
    { id: '<missing>', created: 0, createdBy: 'CMD ["sh"]', size: 0, comment: '' },
  ];
  const out = formatList('table {{.ID}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.CreatedSince}}', rows.map((r) => historyContext(r, { trunc: true, human: true })), HISTORY_LIST);
  assert.equal(out.split('\n')[0], 'IMAGE          CREATED BY                                      SIZE      CREATED');
  // CreatedBy: tabs made spaces, cut to 45 runes with docker's ellipsis.
  assert.match(out, /^0123456789ab   RUN \/bin\/sh -c echo a very long command line…   1\.23MB    [\w ]+ ago\n<missing>      CMD \["sh"\] +0B        N\/A\n$/m);
  const raw = formatList('{{.Size}} {{.CreatedAt}}', [historyContext(rows[1], { trunc: false, human: false })], HISTORY_LIST);
  assert.match(raw, /^0 1970-01-01T\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\n$/);
  assert.deepEqual(Object.keys(JSON.parse(formatList('json', [historyContext(rows[1], { trunc: true, human: true })], HISTORY_LIST))),
    ['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size']);
});

test('tabwriter: Go text/tabwriter cells, columns and blocks', () => {
  assert.equal(tabwrite('a\tb\tc\naaaaaaaaaaaa\tb\n'), 'a              b         c\naaaaaaaaaaaa   b\n');
  // A line with fewer cells ends the column block above it.
  assert.equal(tabwrite('x\ty\nlong-long-long\nz\tw\n'), 'x         y\nlong-long-long\nz         w\n');
  assert.equal(tabwrite('no tabs\n'), 'no tabs\n');
  assert.equal(tabwrite(''), '');
});

test('fmt: Go verbs, flags and marks', () => {
  const cases: [string, unknown[], string][] = [
    ['%5.2f|%-6s|%q|%x|%v', [3.14159, 'ab', 'q', 255, true], ' 3.14|ab    |"q"|ff|true'],
    ['%d %s', ['x', 3], '%!d(string=x) %!s(int=3)'],
    ['%d', [], '%!d(MISSING)'],
    ['%d', [1, 2], '1%!(EXTRA int=2)'],
    ['%08.3f|%+d|% d', [-3.14159, 5, 5], '-003.142|+5| 5'],
    ['%v %v', [[1, 'a'], { b: 1, a: [2] }], '[1 a] map[a:[2] b:1]'],
    ['%q', ['a\tb\u00e9\u0007'], '"a\\tbé\\a"'],
    ['%6.2f%%', [12.3456], ' 12.35%'],
    ['%.1f %.2f %.0f', [-1.25, 1.005, 2.5], '-1.2 1.00 2'],
    ['%e %g %g', [1234.5678, 0.00001, 1234567.8], '1.234568e+03 1e-05 1.2345678e+06'],
    ['%5.1f|%.2f', [3, 0], '%!f(int=    3)|%!f(int=00)'], // whole numbers are Go ints
    ['%x %X', [1.5, -0.1], '0x1.8p+00 -0X1.999999999999AP-04'],
  ];
  for (const [f, args, want] of cases) assert.equal(sprintf(f, args), want, f);
  assert.equal(formatPrec(0.125, 'f', 2), '0.12');
  assert.equal(formatPrec(0.375, 'f', 2), '0.38');
  assert.equal(formatPrec(9.995, 'f', 2), '9.99'); // 9.995 is 9.99499... as a double
  assert.equal(formatPrec(99.5, 'e', 1), '1.0e+02'); // half to even: 9.95 -> 10
});

test('renderTemplate: one value, json shortcut, no escapes typed into inspect-style formats', () => {
  assert.equal(renderTemplate('json', { a: '<b>' }), '{"a":"<b>"}');
  assert.equal(renderTemplate('{{.a}}\\t', { a: 1 }), '1\\t');
});

// Property tests: seeded so that a failure reproduces.
const PIECES = ['{{', '}}', '{{-', '-}}', ' ', '.', '.A', '.B.C', '$', '$x', ':=', '=', '|', '(', ')', '"s"', '`r`', "'c'", '1', '-2', '3.5', 'if', 'else', 'end',
  'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'len', 'index', 'printf', '"%d"', 'json', 'and', 'or', 'eq', 'slice', ',', '/*', '*/', 'x', '\n', '\\'];
const templateish = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((p) => p.join(''));
const data = { A: [1, 'two', null], B: { C: { d: true } }, E: {} };

test('property: parsing and running never throws anything but TemplateError, and ends', () => {
  const check = (t: string) => {
    try {
      run(compile(t), data);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 60 }), check), { seed: 42, numRuns: 500 });
  fc.assert(fc.property(templateish, check), { seed: 42, numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => check(`{{${s}}}`)), { seed: 7, numRuns: 500 });
});

test('property: text without {{ comes out unchanged', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !s.includes('{{')), (s) => {
    assert.equal(run(compile(s), data), s);
  }), { seed: 42, numRuns: 500 });
});

test('property: deep nesting and recursion fail as template errors, not as a JS stack overflow', () => {
  const deep = (n: number) => `${'{{if 1}}'.repeat(n)}x${'{{end}}'.repeat(n)}`;
  assert.equal(run(compile(deep(200)), null), 'x');
  assert.throws(() => compile(deep(5000)), TemplateError);
  assert.throws(() => compile(`{{${'('.repeat(5000)}1${')'.repeat(5000)}}}`), TemplateError);
  assert.throws(() => run(compile('{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}'), null), /exceeded maximum template depth/);
  assert.throws(() => run(compile('{{range 100000000}}{{end}}'), null), /too expensive/);
});

test('a flat template (text and {{.Field}} only) prints what the full walk prints, errors included', () => {
  // `{{if true}}{{end}}` prints nothing but makes a template not flat: the walk runs it.
  const names = ['A', 'B', 'C'];
  const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.constant(undefined), fc.array(fc.string(), { maxLength: 2 }), fc.constant(() => 'm'));
  const render = (t: string, data: unknown) => {
    try {
      return run(compile(t), data);
    } catch (err) {
      assert.ok(err instanceof TemplateError);
      return `error: ${err.message.replace('{{if true}}{{end}}', '')}`;
    }
  };
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constantFrom(...names).map((n) => `{{.${n}}}`), fc.string({ maxLength: 3 }).filter((s) => !s.includes('{{'))), { minLength: 1, maxLength: 6 }),
    fc.dictionary(fc.constantFrom(...names), value),
    (parts, fields) => {
      const t = parts.join('');
      for (const data of [fields, goStruct('*formatter.ContainerContext', { ...fields }), 'text', null]) {
        const flat = render(t, data);
        const walked = render(`{{if true}}{{end}}${t}`, data);
        // The walk's error positions count the prefix's 18 columns.
        assert.equal(flat, walked.replace(/:1:(\d+):/, (_, c) => `:1:${Number(c) - 18}:`));
      }
    },
  ), { seed: 7, numRuns: 300 });
});
