// The streaming server's pure parts: SPDY frames and header blocks, the SPDY dictionary, WebSocket
// frame parsing, tokens, resize messages, protocol negotiation, listen addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import {
  DICTIONARY, FLAG_FIN, SpdyProtocolError, TYPE, controlFrame, dataFrame, decodeHeaders, encodeHeaders, rstStream, settings, splitFrames, streamIdOf,
} from '../../src/cri/streaming/spdy-frames.ts';
import { parseFrame } from '../../src/cri/streaming/websocket.ts';
import { TokenCache } from '../../src/cri/streaming/tokens.ts';
import { exitStatus, sizes } from '../../src/cri/streaming/status.ts';
import { SPDY_PROTOCOLS, negotiate, versionOf } from '../../src/cri/streaming/channels.ts';
import { parseAddress } from '../../src/cri/streaming/server.ts';
import { parsePort } from '../../src/cri/streaming/portforward.ts';

test('the SPDY/3 dictionary is the spec\'s 1423 bytes', () => {
  assert.equal(DICTIONARY.length, 1423);
  assert.equal(createHash('sha256').update(DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
});

test('frames split from bytes cut anywhere come out whole and in order', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.integer({ min: 1, max: 50 }), (bodies, cut) => {
    const wire = Buffer.concat(bodies.map((b, i) => (i % 2 ? dataFrame(2 * i + 1, i % 3 ? 0 : FLAG_FIN, Buffer.from(b)) : controlFrame(TYPE.PING, 0, Buffer.from(b)))));
    const got: Array<{ control: boolean; body: Buffer }> = [];
    let rest: Buffer = Buffer.alloc(0);
    for (let at = 0; at < wire.length; at += cut) {
      const r = splitFrames(Buffer.concat([rest, wire.subarray(at, at + cut)]));
      rest = r.rest;
      for (const f of r.frames) got.push({ control: f.control, body: f.control ? f.payload : f.data });
    }
    assert.equal(rest.length, 0);
    assert.deepEqual(got.map((g) => [g.control, [...g.body]]), bodies.map((b, i) => [i % 2 === 0, [...b]]));
  }));
});

test('a control frame of another SPDY version is a protocol error', () => {
  const f = controlFrame(TYPE.PING, 0, Buffer.alloc(4));
  f.writeUInt16BE(0x8002, 0);
  assert.throws(() => splitFrames(f), SpdyProtocolError);
});

test('header blocks round-trip through the dictionary-primed zlib streams, names lowercased, values split on NUL', () => {
  const block = encodeHeaders({ StreamType: 'stdout', port: ['80', '81'] });
  const z = zlib.deflateSync(block, { dictionary: DICTIONARY });
  const back = decodeHeaders(zlib.inflateSync(z, { dictionary: DICTIONARY }));
  assert.deepEqual(back, { streamtype: ['stdout'], port: ['80', '81'] });
  assert.throws(() => decodeHeaders(block.subarray(0, block.length - 2)), SpdyProtocolError);
});

test('fixed frames carry their fields where the draft puts them', () => {
  const r = rstStream(7, 5);
  assert.equal(r.readUInt16BE(0), 0x8003);
  assert.equal(r.readUInt16BE(2), TYPE.RST_STREAM);
  assert.equal(streamIdOf(r.subarray(8)), 7);
  assert.equal(r.readUInt32BE(12), 5);
  const s = Buffer.alloc(12);
  s.writeUInt32BE(1, 0);
  s.writeUInt32BE(0x01000007, 4); // flags 1, id 7
  s.writeUInt32BE(4096, 8);
  assert.equal(settings(s).get(7), 4096);
});

test('WebSocket frames: masked client frames unmask; unmasked ones are refused; lengths 7, 16 and 64 bits', () => {
  for (const len of [5, 300, 70_000]) {
    const payload = Buffer.alloc(len, 0x41);
    const mask = Buffer.from([1, 2, 3, 4]);
    const hdr = len < 126 ? Buffer.from([0x82, 0x80 | len]) : len < 65536 ? Buffer.from([0x82, 0x80 | 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x82, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
    const frame = Buffer.concat([hdr, mask, masked]);
    assert.equal(parseFrame(frame.subarray(0, frame.length - 1)), null);
    const f = parseFrame(frame);
    assert.ok(f && typeof f === 'object');
    assert.equal(f.op, 2);
    assert.deepEqual(f.payload, payload);
  }
  assert.equal(parseFrame(Buffer.from([0x82, 0x01, 0x41])), 'bad');
});

test('tokens are one-time, expire after their minute, and are bounded in number', () => {
  let now = 0;
  const t = new TokenCache<string>({ now: () => now, max: 3 });
  const a = t.insert('a');
  assert.ok(a.length >= 20);
  assert.equal(t.consume(a), 'a');
  assert.equal(t.consume(a), undefined);
  const b = t.insert('b');
  now = 60_000;
  assert.equal(t.has(b), false);
  assert.equal(t.consume(b), undefined);
  const ks = ['1', '2', '3', '4'].map((v) => t.insert(v));
  assert.equal(t.consume(ks[0]), undefined); // the oldest went
  assert.equal(t.consume(ks[3]), '4');
});

test('resize messages are read however they are cut; bad ones are skipped', async () => {
  const got = [];
  for await (const s of sizes(Readable.from(['{"Width":80,"He', 'ight":24}\n{"Width":0,"Height":1}', 'junk{"Width":100,"Height":50}']))) got.push(s);
  assert.deepEqual(got, [{ width: 80, height: 24 }, { width: 100, height: 50 }]);
});

test('exit statuses: v4 JSON with the code as a cause, plain text before v4', () => {
  assert.deepEqual(JSON.parse(exitStatus(4, 0, ['true'])!.toString()), { metadata: {}, status: 'Success' });
  assert.equal(exitStatus(3, 0, ['true']), null);
  const f = JSON.parse(exitStatus(4, 3, ['false'])!.toString());
  assert.equal(f.reason, 'NonZeroExitCode');
  assert.deepEqual(f.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.match(exitStatus(2, 3, ['false'])!.toString(), /^command terminated with non-zero exit code/);
});

test('negotiation follows the client\'s order; addresses and ports parse', () => {
  assert.equal(negotiate(['v9.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io'], SPDY_PROTOCOLS), 'v3.channel.k8s.io');
  assert.equal(negotiate(['x'], SPDY_PROTOCOLS), undefined);
  assert.equal(versionOf('v5.channel.k8s.io'), 5);
  assert.equal(versionOf('channel.k8s.io'), 1);
  assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseAddress('[::1]:10010'), { host: '::1', port: 10010 });
  assert.deepEqual(parseAddress(':8080'), { host: '', port: 8080 });
  assert.equal(parsePort('8080'), 8080);
  for (const bad of ['0', '65536', '-1', '80a', '', undefined]) assert.equal(parsePort(bad), undefined);
});
