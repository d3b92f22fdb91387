// berth's daemon against the Engine API's own reference: every answer of a walk over the
// documented endpoints (reads of each kind of object, creates, changes, errors) has a status
// the reference lists for its operation, and a body that fits the schema it gives for that
// status (test/helpers/engine-api.ts; null is accepted where Go would send it).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { describe, test } from 'node:test';
import type { TestRoot } from '../helpers/berth.ts';
import { daemonWithBusybox, skip as noDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { EngineApi, SPEC } from '../helpers/engine-api.ts';

const skip = noDaemon || (!fs.existsSync(SPEC) && 'needs the Engine API reference (./setup.sh fetches it)');

describe('the Engine API reference', { skip }, () => {
  let root: TestRoot;
  let d: TestDaemon;
  daemonWithBusybox((r, dd) => ((root = r), (d = dd)));
  const api = new EngineApi();
  const problems: string[] = [];

  /** One request, checked against the reference; returns the parsed body when it is JSON. */
  async function call(method: string, url: string, body?: unknown, expect?: number): Promise<any> {
    const r = await d.request(method, `/v1.41${url}`, body === undefined ? undefined : JSON.stringify(body));
    problems.push(...api.check(method, url, r.status, r.body, String(r.headers['content-type'] ?? '')));
    if (expect !== undefined) assert.equal(r.status, expect, `${method} ${url}: ${r.body}`);
    try {
      return JSON.parse(r.body);
    } catch {
      return r.body;
    }
  }

  test('the reference is the one the daemon speaks', async () => {
    assert.equal(api.version, '1.41');
    assert.ok(api.operation('GET', '/containers/abc/json'));
    assert.ok(api.operation('GET', '/images/library/busybox:latest/json'));
    assert.equal(api.operation('GET', '/nonsense'), undefined);
    // The checker itself finds what is wrong: a missing required field, a wrong type, an undocumented status.
    assert.match(api.check('POST', '/containers/create', 201, '{"Warnings":[]}').join(), /must have required property 'Id'/);
    assert.match(api.check('GET', '/containers/json', 200, '[{"Id":5}]').join(), /\/0\/Id must be string,null/);
    assert.match(api.check('GET', '/_ping', 418, 'x').join(), /status not documented/);
    const v = await call('GET', '/version', undefined, 200);
    assert.ok(Number(v.ApiVersion) >= 1.41);
  });

  test('reads of each kind of object', async () => {
    await call('POST', '/containers/create?name=walk', { Image: 'busybox', Cmd: ['sh', '-c', 'echo hi; sleep 60'], Labels: { k: 'v' }, Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 }, HostConfig: { NetworkMode: 'none' } }, 201);
    await call('POST', '/containers/walk/start', undefined, 204);
    await call('POST', '/containers/create?name=stopped', { Image: 'busybox', Cmd: ['true'] }, 201);
    await call('POST', '/volumes/create', { Name: 'walkvol', Labels: { a: 'b' } }, 201);
    const net = await call('POST', '/networks/create', { Name: 'walknet', Labels: { a: 'b' } }, 201);
    const exec = await call('POST', '/containers/walk/exec', { Cmd: ['echo', 'x'], AttachStdout: true }, 201);
    for (const url of ['/_ping', '/version', '/info', '/system/df', '/containers/json?all=1&size=1', '/containers/walk/json?size=1', '/containers/walk/top',
      '/containers/walk/top?ps_args=aux', '/containers/walk/changes', '/containers/walk/stats?stream=false', '/containers/stopped/json', '/images/json?all=1',
      '/images/busybox/json', '/images/busybox/history', '/networks', `/networks/${net.Id}`, '/networks/none', '/volumes', '/volumes/walkvol',
      `/exec/${exec.Id}/json`, '/containers/walk/logs?stdout=1', '/plugins', '/images/search?term=busybox&limit=1']) {
      await call('GET', url);
    }
    await call('HEAD', '/containers/walk/archive?path=/etc/hostname');
  });

  test('changes: update, rename, pause, kill, wait, commit, tag, prune, delete', async () => {
    await call('POST', '/containers/walk/update', { Memory: 64 << 20, MemorySwap: -1 }, 200);
    await call('POST', '/containers/walk/rename?name=walked', undefined, 204);
    await call('POST', '/containers/walked/pause', undefined, 204);
    await call('POST', '/containers/walked/unpause', undefined, 204);
    await call('POST', '/commit?container=walked&repo=walked&tag=1', {}, 201);
    await call('POST', '/images/walked:1/tag?repo=walked&tag=2', undefined, 201);
    // A container without a network cannot join one: dockerd's 400 (the reference lists no 400 here) and words.
    const none = await d.request('POST', '/v1.41/networks/walknet/connect', JSON.stringify({ Container: 'walked' }));
    assert.deepEqual([none.status, JSON.parse(none.body).message], [400, 'container cannot be connected to multiple networks with one of the networks in private (none) mode']);
    await call('POST', '/containers/create?name=netc', { Image: 'busybox', Cmd: ['true'] }, 201);
    await call('POST', '/networks/walknet/connect', { Container: 'netc', EndpointConfig: { Aliases: ['w'] } }, 200);
    await call('GET', '/networks/walknet');
    await call('GET', '/containers/netc/json');
    await call('POST', '/networks/walknet/disconnect', { Container: 'netc', Force: true }, 200);
    await call('DELETE', '/containers/netc', undefined, 204);
    await call('POST', '/containers/walked/resize?h=20&w=80');
    const ex = await call('POST', '/containers/walked/exec', { Cmd: ['true'] }, 201);
    await call('POST', `/exec/${ex.Id}/start`, { Detach: true });
    await call('POST', '/containers/walked/restart?t=1', undefined, 204);
    await call('POST', '/containers/walked/stop?t=1', undefined, 204);
    await call('POST', '/containers/walked/stop', undefined, 304);
    await call('POST', '/containers/walked/start', undefined, 204);
    await call('GET', '/containers/json?filters=' + encodeURIComponent('{"label":["k=v"],"status":["running"]}'));
    await call('GET', '/volumes?filters=' + encodeURIComponent('{"dangling":["true"]}'));
    await call('GET', '/system/df?type=container');
    await call('POST', '/containers/walked/kill', undefined, 204);
    await call('POST', '/containers/walked/wait', undefined, 200);
    await call('POST', '/containers/stopped/start', undefined, 204);
    await call('POST', '/containers/stopped/wait?condition=not-running', undefined, 200);
    await call('POST', '/containers/prune?filters=' + encodeURIComponent('{"label":["k=v"]}'), undefined, 200);
    await call('DELETE', '/images/walked:2', undefined, 200);
    await call('DELETE', '/images/walked:1', undefined, 200);
    await call('POST', '/networks/prune', undefined, 200);
    await call('DELETE', '/volumes/walkvol', undefined, 204);
    await call('POST', '/volumes/prune', undefined, 200);
    await call('POST', '/images/prune', undefined, 200);
    await call('POST', '/build/prune', undefined, 200);
  });

  test('errors: missing objects, bad input, conflicts, swarm outside a swarm', async () => {
    await call('GET', '/containers/nope/json', undefined, 404);
    await call('GET', '/images/nope:1/json', undefined, 404);
    await call('GET', '/networks/nope', undefined, 404);
    await call('GET', '/volumes/nope', undefined, 404);
    await call('GET', '/exec/nope/json', undefined, 404);
    await call('POST', '/containers/create', { Image: 'nope:1' }, 404);
    await call('POST', '/containers/create', { Image: 'busybox', HostConfig: { IpcMode: 'bogus' } }, 400);
    await call('POST', '/containers/create?name=stopped', { Image: 'busybox' }, 409);
    await call('POST', '/containers/stopped/kill', undefined, 409);
    await call('DELETE', '/containers/nope', undefined, 404);
    // dockerd's order of checks: the parameters first, then the object.
    await call('GET', '/containers/nope/export', undefined, 404);
    // (Two 400s the reference does not list, answered as dockerd answers them.)
    const logs = await d.request('GET', '/v1.41/containers/nope/logs');
    assert.deepEqual([logs.status, JSON.parse(logs.body).message], [400, 'Bad parameters: you must choose at least one stream']);
    const exec = await d.request('POST', '/v1.41/containers/nope/exec', '{}');
    assert.deepEqual([exec.status, JSON.parse(exec.body).message], [400, 'No exec command specified']);
    await call('POST', '/images/nope:1/tag', undefined, 404);
    const resize = await d.request('POST', '/v1.41/containers/nope/resize?h=x&w=80');
    assert.deepEqual([resize.status, JSON.parse(resize.body).message], [400, 'strconv.Atoi: parsing "x": invalid syntax']);
    // A push names the repository first; what fails later is an error line in the stream.
    const push = await d.request('POST', '/v1.41/images/nope:1/push', undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(push.status, 200);
    assert.deepEqual(push.body.trim().split('\n').map((l) => Object.keys(JSON.parse(l))), [['status'], ['errorDetail', 'error']]);
    assert.match(push.body, /The push refers to repository \[docker\.io\/library\/nope\]/);
    await call('GET', '/swarm', undefined, 503);
    await call('GET', '/services', undefined, 503);
    await call('GET', '/nodes', undefined, 503);
    // An archive that is not one: dockerd's 200 with an error line.
    const load = await d.request('POST', '/v1.41/images/load?quiet=1', 'not a tar', { 'Content-Type': 'application/x-tar' });
    assert.equal(load.status, 200);
    assert.deepEqual(Object.keys(JSON.parse(load.body)), ['errorDetail', 'error']);
    // An unreachable registry: dockerd's 500 naming the request, for a pull and a login.
    const pull = await call('POST', '/images/create?fromImage=127.0.0.1:1/x&tag=1', undefined, 500);
    assert.match(pull.message, /127\.0\.0\.1:1.*connection refused/);
    await call('POST', '/auth', { username: 'u', password: 'p', serveraddress: '127.0.0.1:1' }, 500);
    await call('DELETE', '/containers/stopped?v=1', undefined, 204);
  });

  test('search: an index\'s v1 search API (a stand-in for Docker Hub\'s on loopback), through the docker CLI and berth', async () => {
    const seen: string[] = [];
    const index = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      const results = [
        { name: 'library/busybox', description: 'Busybox base image, with a description longer than forty-five characters', star_count: 3000, is_official: true, is_automated: false },
        { name: 'someone/busybox', description: 'a copy', star_count: 2, is_official: false, is_automated: true },
      ];
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ num_results: 2, query: 'busybox', results }));
    });
    await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(index.address() as { port: number }).port}`;
    try {
      const all = await call('GET', `/images/search?term=${host}/busybox&limit=5`, undefined, 200);
      assert.deepEqual(all.map((r: { name: string }) => r.name), ['library/busybox', 'someone/busybox']);
      assert.equal(seen[0], '/v1/search?q=busybox&n=5');
      const official = await call('GET', `/images/search?term=${host}/busybox&filters=${encodeURIComponent('{"is-official":{"true":true}}')}`, undefined, 200);
      assert.deepEqual(official.map((r: { name: string }) => r.name), ['library/busybox']);
      // dockerd answers a bad limit or filter with a 400 the reference does not list: as dockerd.
      const bad = await d.request('GET', `/v1.41/images/search?term=${host}/busybox&limit=101`);
      assert.deepEqual([bad.status, JSON.parse(bad.body)], [400, { message: 'Limit 101 is outside the range of [1, 100]' }]);
      const badFilter = await d.request('GET', `/v1.41/images/search?term=${host}/busybox&filters=${encodeURIComponent('{"bogus":{"x":true}}')}`);
      assert.deepEqual([badFilter.status, JSON.parse(badFilter.body)], [400, { message: "Invalid filter 'bogus'" }]);
      const cli = await d.docker(['search', '--filter', 'stars=10', `${host}/busybox`]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\nlibrary\/busybox\s+Busybox base image, with a description longe…\s+3000\s+\[OK\]\s*\n$/);
      assert.equal((await root.run(['search', '--filter', 'stars=10', `${host}/busybox`])).stdout, cli.stdout);
      const own = await root.run(['search', '--format', '{{.Name}} {{.StarCount}} {{.IsAutomated}}', `${host}/busybox`]);
      assert.equal(own.stdout, 'library/busybox 3000 \nsomeone/busybox 2 [OK]\n');
      // A registry without the search API (the CNCF registry's answer), and an index that is not there.
      const gone = await root.run(['search', '127.0.0.1:1/x']);
      assert.equal(gone.code, 125);
      assert.match(gone.stderr, /dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    } finally {
      index.close();
    }
  });

  test('the events of all that, as a stream of the reference\'s event messages', async () => {
    const body = await call('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000)}`, undefined, 200);
    const events = String(body).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.length > 20, `${events.length} events`);
    for (const kind of ['container', 'image', 'network', 'volume']) assert.ok(events.some((e) => e.Type === kind), kind);
  });

  test('image events: the actions, actors and names dockerd 20.10 gives for tag, rmi, save, load, import', async () => {
    const since = Math.floor(Date.now() / 1000);
    const id = (await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    const tar = `${root.dir}/ev.tar`;
    for (const args of [['tag', 'busybox', 'ev:1'], ['rmi', 'ev:1'], ['save', 'busybox', '-o', tar], ['load', '-i', tar], ['import', tar, 'imp:1'], ['rmi', 'imp:1']]) {
      const r = await d.docker(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const imp = (await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'])).stdout.trim().split('\n');
    const impId = imp.find((l) => l.startsWith('import '))?.split(' ')[1] ?? 'none';
    assert.deepEqual(imp, [`tag ${id} ev:1`, `untag ${id} ${id}`, `save ${id} ${id}`, `load ${id} ${id}`, `tag ${impId} imp:1`, `import ${impId} ${impId}`, `untag ${impId} ${impId}`, `delete ${impId} ${impId}`]);
    // dockerd's image filter: the actor or its name, with or without the tag.
    const byName = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'image=ev', '--format', '{{.Action}}']);
    assert.equal(byName.stdout, 'tag\n');
  });

  test('every answer is as the reference documents it', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(root.leftovers().filter((x) => !x.includes('walk')), []);
  });
});
