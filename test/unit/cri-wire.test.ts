// The CRI server's wire-level pieces: HPACK decoding (RFC 7541's examples), the rewrite that lets
// Go clients of kubelet <1.27 (authority = the socket's path) through Node's HTTP/2, the error
// mapping to gRPC statuses, and src/cri/types.ts being current with the proto.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BerthError, conflict, invalid, notFound } from '../../src/core/errors.ts';
import { CriStatusError, toStatus } from '../../src/cri/errors.ts';
import { encodeLiterals, HpackDecoder, HpackError, huffmanDecode } from '../../src/cri/hpack.ts';
import { fixAuthority, RequestRewriter } from '../../src/cri/uds-authority.ts';
import { REPO } from '../helpers/berth.ts';

test('HPACK: RFC 7541 C.3 (plain literals) and C.4 (Huffman), with the dynamic table carried between blocks', () => {
  const plain = new HpackDecoder();
  assert.deepEqual(plain.decode(Buffer.from('828684410f7777772e6578616d706c652e636f6d', 'hex')), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
  assert.deepEqual(plain.decode(Buffer.from('828684be58086e6f2d6361636865', 'hex')).at(-1), ['cache-control', 'no-cache']);
  const huff = new HpackDecoder();
  huff.decode(Buffer.from('828684418cf1e3c2e5f23a6ba0ab90f4ff', 'hex'));
  huff.decode(Buffer.from('828684be5886a8eb10649cbf', 'hex'));
  assert.deepEqual(huff.decode(Buffer.from('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', 'hex')), [
    [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
  ]);
});

test('HPACK: bad input is an error, not a wrong header', () => {
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0xff, 0x80])), HpackError); // index beyond any table
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x41, 0x05, 0x61])), HpackError); // truncated string
  assert.throws(() => huffmanDecode(Buffer.from([0x00])), HpackError); // zero padding
});

test('literals round-trip through the decoder, long values included', () => {
  const fields: Array<[string, string]> = [[':path', '/runtime.v1.RuntimeService/Version'], ['x', 'y'.repeat(300)]];
  assert.deepEqual(new HpackDecoder().decode(encodeLiterals(fields)), fields);
});

/** A client's HEADERS frame, as grpc-go writes one: the authority added to its table, then referred to. */
function headersFrame(stream: number, block: Buffer, flags = 0x4): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(block.length, 0, 3);
  h[3] = 1;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, block]);
}

test('the rewriter replaces a socket-path authority, keeps the client\'s table in step, and passes other frames as they are', () => {
  const path = '/run/berth/cri.sock';
  const lit = Buffer.concat([Buffer.from([0x41, path.length]), Buffer.from(path)]); // literal, indexed name 1, added to the table
  const first = headersFrame(1, Buffer.concat([Buffer.from([0x83, 0x86]), lit, Buffer.from([0x44, 0x03]), Buffer.from('/a/')]));
  const second = headersFrame(3, Buffer.from([0x83, 0x86, 0xbf, 0xbe]), 0x5); // 0xbf: index 63 (the authority), 0xbe: 62 (the path); END_STREAM
  const data = Buffer.from('000005000000000001' + '0000000000', 'hex'); // a DATA frame on stream 1
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const rw = new RequestRewriter();
  const all = Buffer.concat([preface, first, data, second]);
  // Fed in awkward pieces, as a socket may deliver it.
  const out = Buffer.concat([rw.push(all.subarray(0, 10)), rw.push(all.subarray(10, 40)), rw.push(all.subarray(40))]);
  assert.deepEqual(out.subarray(0, 24), preface);
  const frames: Array<{ type: number; flags: number; stream: number; payload: Buffer }> = [];
  for (let p = 24; p < out.length;) {
    const len = out.readUIntBE(p, 3);
    frames.push({ type: out[p + 3], flags: out[p + 4], stream: out.readUInt32BE(p + 5), payload: out.subarray(p + 9, p + 9 + len) });
    p += 9 + len;
  }
  assert.deepEqual(frames.map((f) => [f.type, f.flags, f.stream]), [[1, 4, 1], [0, 0, 1], [1, 5, 3]]);
  const server = new HpackDecoder();
  assert.deepEqual(server.decode(frames[0].payload), [[':method', 'POST'], [':scheme', 'http'], [':authority', 'localhost'], [':path', '/a/']]);
  assert.deepEqual(frames[1].payload, Buffer.alloc(5));
  assert.deepEqual(server.decode(frames[2].payload), [[':method', 'POST'], [':scheme', 'http'], [':authority', 'localhost'], [':path', '/a/']]);
});

test('a valid authority is kept', () => {
  assert.deepEqual(fixAuthority([[':authority', 'localhost'], [':authority', '127.0.0.1:10010'], [':authority', '[::1]:1']]), [[':authority', 'localhost'], [':authority', '127.0.0.1:10010'], [':authority', '[::1]:1']]);
  assert.deepEqual(fixAuthority([[':authority', '/var/run/x.sock']]), [[':authority', 'localhost']]);
});

test('errors become gRPC statuses in one place', () => {
  assert.equal(toStatus(notFound('no such pod')).code, grpc.status.NOT_FOUND);
  assert.equal(toStatus(invalid('bad')).code, grpc.status.INVALID_ARGUMENT);
  assert.equal(toStatus(conflict('the name "x" is already in use by container y')).code, grpc.status.ALREADY_EXISTS);
  assert.equal(toStatus(conflict('container is running: stop it first')).code, grpc.status.FAILED_PRECONDITION);
  assert.equal(toStatus(new BerthError('Unimplemented', 'no')).code, grpc.status.UNIMPLEMENTED);
  assert.equal(toStatus(new BerthError('Internal', 'boom')).code, grpc.status.UNKNOWN);
  assert.deepEqual(toStatus(new Error('plain')), { code: grpc.status.UNKNOWN, details: 'plain' });
  assert.deepEqual(toStatus(new CriStatusError(grpc.status.DEADLINE_EXCEEDED, 'timeout')), { code: grpc.status.DEADLINE_EXCEEDED, details: 'timeout' });
});

test('src/cri/types.ts is generated from the proto as it is now', () => {
  execFileSync(process.execPath, ['scripts/cri-types.ts', '--check'], { cwd: REPO, stdio: 'pipe' });
});

test("images: the image's user as uid or username, credentials from every AuthConfig form, the chain id", async () => {
  const { imageUser, pullCredentials, chainId } = await import('../../src/cri/images.ts');
  assert.deepEqual(imageUser(''), { username: '' });
  assert.deepEqual(imageUser('0'), { uid: 0, username: '' });
  assert.deepEqual(imageUser('1003:1003'), { uid: 1003, username: '' });
  assert.deepEqual(imageUser('www-data:www-data'), { username: 'www-data' });
  assert.deepEqual(imageUser(':1000'), { username: '' });
  const empty = { username: '', password: '', auth: '', server_address: '', identity_token: '', registry_token: '' };
  assert.equal(pullCredentials(null), undefined);
  assert.equal(pullCredentials(empty), undefined);
  assert.deepEqual(pullCredentials({ ...empty, username: 'a', password: 'b' }), { username: 'a', password: 'b' });
  assert.deepEqual(pullCredentials({ ...empty, auth: Buffer.from('a:b:c').toString('base64') }), { username: 'a', password: 'b:c' });
  assert.throws(() => pullCredentials({ ...empty, auth: Buffer.from('abc').toString('base64') }), /AuthConfig.auth/);
  assert.equal(pullCredentials({ ...empty, identity_token: 't' })?.identityToken, 't');
  assert.equal(pullCredentials({ ...empty, registry_token: 'r' })?.registryToken, 'r');
  const a = 'sha256:' + 'a'.repeat(64);
  const b = 'sha256:' + 'b'.repeat(64);
  assert.equal(chainId([a]), a);
  assert.equal(chainId([a, b]), 'sha256:' + (await import('node:crypto')).createHash('sha256').update(`${a} ${b}`).digest('hex'));
});
