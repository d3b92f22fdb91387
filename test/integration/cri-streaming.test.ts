// The CRI streaming server with real clients: our SPDY/3.1 test client (its own framing, as
// client-go's remotecommand/portforward use it) and Node's WebSocket, against real containers
// through the engine: exec (with and without a terminal), attach and port-forward.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import { CRI_DEFAULTS } from '../../src/cri/context.ts';
import { handlers } from '../../src/cri/streaming/handlers.ts';
import { EngineStreamRuntime } from '../../src/cri/streaming/runtime.ts';
import { StreamingServer } from '../../src/cri/streaming/server.ts';
import { TestRoot, isRoot } from '../helpers/berth.ts';
import { SpdyTestClient, type TestStream } from '../helpers/spdy-client.ts';

const V4 = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

describe('CRI streaming', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  let engine: Engine;
  let server: StreamingServer;
  let api: Record<'Exec' | 'Attach' | 'PortForward', (req: object) => Promise<object>>;
  let ctr: string; // a CRI container: sleeps
  let ticker: string; // a CRI container: prints a tick every 100 ms
  let pod: string; // a CRI sandbox: httpd on 8080, in its own network namespace

  const run = async (args: string[]) => {
    const r = await root.run(args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  before(async () => {
    root = await TestRoot.withBusybox();
    engine = new Engine(root.dir);
    server = new StreamingServer(new EngineStreamRuntime(engine), '127.0.0.1:0');
    await server.start();
    api = handlers({ engine, config: CRI_DEFAULTS, onClose: [], streaming: server }) as typeof api;
    ctr = await run(['run', '-d', '--label', 'io.berth.cri.kind=container', 'busybox', 'sleep', '1000']);
    ticker = await run(['run', '-d', '--label', 'io.berth.cri.kind=container', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    pod = await run(['run', '-d', '--network', 'none', '--label', 'io.berth.cri.kind=sandbox', 'busybox', 'sh', '-c', 'mkdir -p /www && echo hello from the pod > /www/index.html && exec httpd -f -p 8080 -h /www']);
  });

  after(async () => {
    await server?.close();
    await root?.cleanup();
  });

  const execUrl = async (cmd: string[], o: { tty?: boolean; stdin?: boolean; stderr?: boolean } = {}) =>
    ((await api.Exec({ container_id: ctr, cmd, tty: o.tty ?? false, stdin: o.stdin ?? false, stdout: true, stderr: o.stderr ?? !o.tty })) as { url: string }).url;

  /** Opens remotecommand's streams in client-go's order. */
  const streams = (c: SpdyTestClient, o: { stdin?: boolean; stderr?: boolean; resize?: boolean }) => {
    const s: Record<string, TestStream> = { error: c.open({ streamtype: 'error' }) };
    if (o.stdin) s.stdin = c.open({ streamtype: 'stdin' });
    s.stdout = c.open({ streamtype: 'stdout' });
    if (o.stderr) s.stderr = c.open({ streamtype: 'stderr' });
    if (o.resize) s.resize = c.open({ streamtype: 'resize' });
    return s;
  };

  test('the URL is on the real port, one-time: a second use and an unknown token are 404', async () => {
    const url = await execUrl(['true']);
    assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/exec\/[A-Za-z0-9_-]{20,}$/);
    const c = await SpdyTestClient.connect(url, V4);
    const s = streams(c, { stderr: true });
    await s.error.ended();
    await assert.rejects(SpdyTestClient.connect(url, V4), { status: 404 });
    await assert.rejects(SpdyTestClient.connect(url.replace(/[^/]+$/, 'nosuchtoken'), V4), { status: 404 });
    const plain = await fetch(await execUrl(['true']));
    assert.equal(plain.status, 400); // a known token without an upgrade
  });

  test('SPDY exec: stdin to the command, stdout and stderr apart, the exit code as a v4 status', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['sh', '-c', 'cat; echo oops >&2; exit 3'], { stdin: true }), V4);
    assert.equal(c.protocol, 'v4.channel.k8s.io');
    const s = streams(c, { stdin: true, stderr: true });
    await s.stdin.write('hello\n');
    await s.stdin.end();
    await s.error.ended();
    assert.equal(s.stdout.text(), 'hello\n');
    assert.equal(s.stderr.text(), 'oops\n');
    const status = JSON.parse(s.error.text());
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '3' }]);
    assert.ok(s.stdout.finished && s.stderr.finished, 'output streams end with a FIN');
    assert.ok(s.stdout.replied, 'each stream gets a SYN_REPLY');
  });

  test('SPDY exec: success is a v4 Success status; v2 says nothing on success and the message on failure', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['echo', 'ok']), V4);
    const s = streams(c, { stderr: true });
    await s.error.ended();
    assert.equal(s.stdout.text(), 'ok\n');
    assert.deepEqual(JSON.parse(s.error.text()), { metadata: {}, status: 'Success' });

    const c2 = await SpdyTestClient.connect(await execUrl(['sh', '-c', 'exit 5']), ['v2.channel.k8s.io']);
    assert.equal(c2.protocol, 'v2.channel.k8s.io');
    const s2 = streams(c2, { stderr: true });
    await s2.error.ended();
    assert.match(s2.error.text(), /non-zero exit code.*exit code 5/);
  });

  test('SPDY exec with a terminal: resize messages reach it', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['sh', '-c', 'read x; stty size'], { tty: true, stdin: true }), V4);
    const s = streams(c, { stdin: true, resize: true });
    await s.resize.write(JSON.stringify({ Width: 123, Height: 45 }) + '\n');
    await new Promise((r) => setTimeout(r, 300));
    await s.stdin.write('go\n');
    await s.error.ended();
    assert.match(s.stdout.text(), /45 123/);
    assert.equal(JSON.parse(s.error.text()).status, 'Success');
  });

  test('SPDY exec: a command that cannot run is a failure status, not a hang', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['/no/such/command']), V4);
    const s = streams(c, { stderr: true });
    await s.error.ended();
    const status = JSON.parse(s.error.text());
    assert.equal(status.status, 'Failure');
    assert.match(status.message, /no\/such\/command/);
  });

  test('SPDY: a client that keeps to flow control gets no more than its window until it gives more', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['sh', '-c', 'head -c 5000 /dev/zero']), V4);
    await c.initialWindow(1000);
    const s = streams(c, { stderr: true });
    await s.stdout.until(() => Buffer.concat(s.stdout.chunks).length >= 1000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(Buffer.concat(s.stdout.chunks).length, 1000);
    await c.windowUpdate(0, 10_000);
    await c.windowUpdate(s.stdout.id, 10_000);
    await s.error.ended();
    assert.equal(Buffer.concat(s.stdout.chunks).length, 5000);
    await c.ping(1);
    c.close();
  });

  test('SPDY exec: the client vanishing mid-command kills the command', async () => {
    const c = await SpdyTestClient.connect(await execUrl(['sleep', '777']), V4);
    streams(c, { stderr: true });
    const seen = async () => (await root.run(['exec', ctr, 'ps'])).stdout.includes('sleep 777');
    for (let i = 0; i < 50 && !(await seen()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await seen(), 'the command runs');
    c.close();
    for (let i = 0; i < 50 && (await seen()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!(await seen()), 'the command is gone once its client is');
  });

  test('SPDY attach with stdin: input reaches the container through its monitor, and its end closes a StdinOnce stdin', async () => {
    const id = await run(['create', '-i', '--label', 'io.berth.cri.kind=container', 'busybox', 'sh']);
    const rec = engine.containers.get(id).record;
    // Started detached, as the CRI starts a container with stdin and stdin_once (critest's
    // attach spec): its stdin is a pipe only attached clients feed, open until the first ends it.
    await engine.containers.start({ ...rec, Config: { ...rec.Config, OpenStdin: true, StdinOnce: true } });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(engine.containers.get(id).state.Status, 'running', 'sh waits for input');
    const { url } = (await api.Attach({ container_id: id, stdin: true, stdout: true, stderr: true, tty: false })) as { url: string };
    const c = await SpdyTestClient.connect(url, V4);
    const s = streams(c, { stdin: true, stderr: true });
    await s.stdin.write('echo hello\n');
    await s.stdout.until(() => s.stdout.text() === 'hello\n');
    await s.stdin.end();
    await s.error.ended();
    assert.deepEqual(JSON.parse(s.error.text()), { metadata: {}, status: 'Success' });
    assert.equal(s.stderr.text(), '');
    for (let i = 0; i < 50 && engine.containers.get(id).state.Status === 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(engine.containers.get(id).state.Status, 'exited', 'sh ends with its stdin');
  });

  test('SPDY port-forward: a connection to the pod\'s port, and a clear error for a closed one', async () => {
    const { url } = (await api.PortForward({ pod_sandbox_id: pod, port: [8080] })) as { url: string };
    const c = await SpdyTestClient.connect(url, ['portforward.k8s.io']);
    assert.equal(c.protocol, 'portforward.k8s.io');
    const err = c.open({ streamtype: 'error', port: '8080', requestid: '0' });
    const data = c.open({ streamtype: 'data', port: '8080', requestid: '0' });
    let body = '';
    for (let i = 0; i < 50 && !body.includes('hello from the pod'); i++) {
      await data.write('GET / HTTP/1.0\r\n\r\n');
      await data.ended();
      body = data.text();
      if (!body.includes('hello')) await new Promise((r) => setTimeout(r, 100)); // httpd still starting
    }
    assert.match(body, /^HTTP\/1\.[01] 200/);
    assert.match(body, /hello from the pod/);
    await err.ended();
    assert.equal(err.text(), '');
    const err2 = c.open({ streamtype: 'error', port: '9', requestid: '1' });
    c.open({ streamtype: 'data', port: '9', requestid: '1' });
    await err2.ended();
    assert.match(err2.text(), /error forwarding port 9 .*refused/i);
    c.close();
  });

  /** A WebSocket's messages, by channel. */
  const wsOpen = (url: string, protocols: string[]) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
    ws.binaryType = 'arraybuffer';
    const got: Record<number, Buffer[]> = {};
    const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
    ws.addEventListener('message', (e) => {
      const b = Buffer.from(e.data as ArrayBuffer);
      (got[b[0]] ??= []).push(b.subarray(1));
    });
    const opened = new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('websocket failed')));
    });
    const text = (ch: number) => Buffer.concat(got[ch] ?? []).toString();
    return { ws, got, closed, opened, text, send: (ch: number, data: string | Buffer) => ws.send(Buffer.concat([Buffer.from([ch]), Buffer.from(data)])) };
  };

  test('WebSocket exec (v5): stdin with its close signal, stdout, stderr, the exit status', async () => {
    const w = wsOpen(await execUrl(['sh', '-c', 'cat; echo bad >&2; exit 2'], { stdin: true }), ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    await w.opened;
    assert.equal(w.ws.protocol, 'v5.channel.k8s.io');
    w.send(0, 'over websocket\n');
    w.ws.send(Buffer.from([255, 0])); // v5: close stdin
    await w.closed;
    assert.equal(w.text(1), 'over websocket\n');
    assert.equal(w.text(2), 'bad\n');
    const status = JSON.parse(w.text(3));
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(status.details.causes[0].message, '2');
  });

  test('WebSocket exec (v4) with a terminal and a resize on channel 4', async () => {
    const w = wsOpen(await execUrl(['sh', '-c', 'read x; stty size'], { tty: true, stdin: true }), ['v4.channel.k8s.io']);
    await w.opened;
    w.send(4, JSON.stringify({ Width: 90, Height: 30 }));
    await new Promise((r) => setTimeout(r, 300));
    w.send(0, 'go\r');
    await w.closed;
    assert.match(w.text(1), /30 90/);
    assert.deepEqual(JSON.parse(w.text(3)), { metadata: {}, status: 'Success' });
  });

  test('WebSocket exec in base64.channel.k8s.io: text messages, the channel as a digit, the data in base64', async () => {
    const ws = new WebSocket((await execUrl(['sh', '-c', 'head -c 3; echo; echo e >&2'], { stdin: true })).replace(/^http/, 'ws'), ['base64.channel.k8s.io']);
    const got: Record<string, string> = {};
    ws.addEventListener('message', (e) => {
      const m = String(e.data);
      got[m[0]] = (got[m[0]] ?? '') + Buffer.from(m.slice(1), 'base64').toString();
    });
    await new Promise((resolve) => ws.addEventListener('open', resolve));
    assert.equal(ws.protocol, 'base64.channel.k8s.io');
    ws.send('0' + Buffer.from('abc').toString('base64'));
    await new Promise((resolve) => ws.addEventListener('close', resolve));
    assert.equal(got['1'], 'abc\n');
    assert.equal(got['2'], 'e\n');
    assert.equal(got['3'] ?? '', ''); // before v4, success says nothing
  });

  test('WebSocket attach follows a running container\'s output', async () => {
    const { url } = (await api.Attach({ container_id: ticker, stdout: true, stderr: true, tty: false, stdin: false })) as { url: string };
    const w = wsOpen(url, ['v4.channel.k8s.io']);
    await w.opened;
    for (let i = 0; i < 50 && !w.text(1).includes('tick\ntick'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(w.text(1), /tick\ntick/);
    w.ws.close();
    await w.closed;
  });

  test('WebSocket port-forward: the port first on both channels, then the pod\'s answer', async () => {
    const { url } = (await api.PortForward({ pod_sandbox_id: pod, port: [] })) as { url: string };
    const w = wsOpen(`${url}?port=8080`, ['v4.channel.k8s.io']);
    await w.opened;
    w.send(0, 'GET / HTTP/1.0\r\n\r\n');
    await w.closed;
    assert.deepEqual([...w.got[0][0]], [0x90, 0x1f]); // 8080, little endian
    assert.deepEqual([...w.got[1][0]], [0x90, 0x1f]);
    const body = Buffer.concat(w.got[0].slice(1)).toString();
    assert.match(body, /hello from the pod/);
  });

  test('the handlers check their requests', async () => {
    await assert.rejects(api.Exec({ container_id: ctr, cmd: [], stdout: true }), /cmd/);
    await assert.rejects(api.Exec({ container_id: ctr, cmd: ['ls'] }), /one of stdin, stdout, or stderr/);
    await assert.rejects(api.Exec({ container_id: ctr, cmd: ['ls'], tty: true, stdout: true, stderr: true }), /tty and stderr/);
    await assert.rejects(api.Exec({ container_id: 'f'.repeat(64), cmd: ['ls'], stdout: true }), { code: 'NotFound' });
    await assert.rejects(api.Exec({ container_id: pod, cmd: ['ls'], stdout: true }), { code: 'NotFound' }); // a sandbox is no container
    await assert.rejects(api.PortForward({ pod_sandbox_id: ctr, port: [80] }), { code: 'NotFound' });
    await assert.rejects(api.PortForward({ pod_sandbox_id: pod, port: [0] }), /invalid port/);
  });
});
