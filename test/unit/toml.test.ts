// The TOML subset reader: what hosts.toml files hold parses to plain objects; everything outside
// the subset, and every malformed line, fails with its line number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseToml, TomlError } from '../../src/util/toml.ts';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

test('containerd hosts.toml examples parse', () => {
  const doc = parseToml(`# mirrors for docker.io
server = "https://registry-1.docker.io"   # upstream

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = '/etc/certs/ca.pem'
  override_path = false

[host."https://mirror.example.com/v2/cache".header]
  x-custom-1 = "a"
  x-custom-2 = ["b", "c",]

[host."https://other"]
  client = [["/c.cert", "/c.key"], ['/d.pem']]
  capabilities = [
    "pull",   # comment inside an array
    "resolve"
  ]
`);
  assert.deepEqual(plain(doc), {
    server: 'https://registry-1.docker.io',
    host: {
      'http://127.0.0.1:5000': { capabilities: ['pull', 'resolve'], skip_verify: true, ca: '/etc/certs/ca.pem', override_path: false },
      'https://mirror.example.com/v2/cache': { header: { 'x-custom-1': 'a', 'x-custom-2': ['b', 'c'] } },
      'https://other': { client: [['/c.cert', '/c.key'], ['/d.pem']], capabilities: ['pull', 'resolve'] },
    },
  });
});

test('strings, escapes, dotted keys, integers, CRLF and an empty file', () => {
  assert.deepEqual(plain(parseToml('')), {});
  assert.deepEqual(plain(parseToml('a = "t\\tq\\"\\\\ \\u00e9\\U0001F600"\r\nb.c = 1_000\r\n"d.e" = -3\n\'lit\' = \'C:\\\\x\'\n')), {
    a: 't\tq"\\ é😀',
    b: { c: 1000 },
    'd.e': -3,
    lit: 'C:\\\\x',
  });
  assert.deepEqual(plain(parseToml('[a]\nx = 1\n[a.b]\ny = 2\n[c]\n')), { a: { x: 1, b: { y: 2 } }, c: {} });
});

test('malformed or unsupported TOML fails with its line', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['a = 1\na = 2', 2, /defined twice/],
    ['[x]\n[x]', 2, /defined twice/],
    ['a = 1\n[a]', 2, /already a value|defined twice/],
    ['a.b = 1\n[a]', 2, /dotted key/],
    ['a = "unterminated\n', 1, /unterminated string/],
    ['a = """x"""', 1, /multi-line strings/],
    ['a = {b = 1}', 1, /inline tables/],
    ['[[a]]', 1, /arrays of tables/],
    ['a = 1.5', 1, /unsupported value/],
    ['a = 1979-05-27', 1, /unsupported value/],
    ['a = yes', 1, /unsupported value "yes"/],
    ['\n\na = [1, 2', 3, /unterminated array/],
    ['a = [1 2]', 1, /expected "," or "\]"/],
    ['a = 1 b = 2', 1, /after a value/],
    ['= 1', 1, /where a key belongs/],
    ['a 1', 1, /expected "="/],
    ['a =', 1, /a value is missing/],
    ['a = "\\q"', 1, /invalid escape/],
    ['[a', 1, /close the table header/],
    ['a = 99999999999999999999', 1, /too large/],
  ];
  for (const [text, line, msg] of cases) {
    assert.throws(() => parseToml(text), (err: unknown) => {
      assert.ok(err instanceof TomlError, `${JSON.stringify(text)}: ${err}`);
      assert.equal(err.line, line, `${JSON.stringify(text)}: ${err.message}`);
      assert.match(err.message, msg, JSON.stringify(text));
      assert.match(err.message, new RegExp(`^line ${line}: `));
      return true;
    });
  }
});
