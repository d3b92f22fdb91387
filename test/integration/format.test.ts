// --format through the real CLI: docker's Go templates, the table directive and its header, and
// the messages and exit statuses docker gives (checked against docker 28 on the same objects).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot, TestRoot } from '../helpers/berth.ts';

describe('--format', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => {
    root = await TestRoot.withBusybox();
    for (const args of [['--name', 'fa', '-l', 'a=b', '-l', 'com.x=y', 'busybox', 'sleep', '100'], ['--name', 'fb', 'busybox', 'echo', 'hello world and more words here']]) {
      const r = await root.run(['create', ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await root.cleanup();
  });

  test('ps: table with a header row, aligned as docker aligns it; the header even with no rows', async () => {
    const r = await root.run(['ps', '-a', '--format', 'table {{.Names}}\\t{{.Label "com.x"}}\\t{{.Labels}}\\t{{.State}}']);
    assert.equal(r.code, 0, r.stderr);
    // Newest first, as docker lists them.
    assert.equal(r.stdout, [
      'NAMES     x         LABELS        STATE',
      'fb                                created',
      'fa        y         a=b,com.x=y   created',
      ''].join('\n'));
    const none = await root.run(['ps', '--format', 'table {{.ID}}\t{{.Names}}']);
    assert.equal(none.stdout, 'CONTAINER ID   NAMES\n');
    const plain = await root.run(['ps', '-a']);
    assert.match(plain.stdout, /^CONTAINER ID   IMAGE     COMMAND                  CREATED +STATUS    PORTS     NAMES\n/);
    // dockerd's list quotes an argument with a space in single quotes (its Command field).
    assert.match(plain.stdout, /"echo 'hello world a…"/);
  });

  test('ps: Go template actions and docker functions', async () => {
    const r = await root.run(['ps', '-a', '--format', '{{.Names | upper}}{{if .Label "a"}} a={{.Label "a"}}{{end}} {{printf "%-8s|" .State}} {{json .Names}}']);
    assert.equal(r.stdout, 'FB created | "fb"\nFA a=b created | "fa"\n');
    const json = (await root.run(['ps', '-a', '--filter', 'name=fa', '--format', 'json'])).stdout;
    const row = JSON.parse(json);
    assert.deepEqual(Object.keys(row), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
    assert.equal(row.Command, '"sleep 100"');
    assert.match(row.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
  });

  test('ps: a bad format is docker\'s message and status 1, with no output', async () => {
    const bad = await root.run(['ps', '-a', '--format', '{{.Nope}}']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /failed to execute template: template: :1:2: executing "" at <\.Nope>: can't evaluate field Nope in type \*formatter\.ContainerContext/);
    const unparsable = await root.run(['ps', '--format', '{{.Names']);
    assert.equal(unparsable.code, 1);
    assert.match(unparsable.stderr, /failed to parse template: template: :1: unclosed action/);
    assert.doesNotMatch(unparsable.stderr, /\n\s+at /); // no stack trace
  });

  test('inspect: templates over the inspect data; a missing key is an error for that object; an unparsable format exits 64', async () => {
    const r = await root.run(['inspect', '--format', '{{.Name}} {{json .Config.Labels}} {{range $k, $v := .Config.Labels}}{{$k}};{{end}} {{index .Config.Cmd 1}} {{.Config.Labels.zz}}', 'fa']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/fa {"a":"b","com.x":"y"} a;com.x; 100 <no value>\n');
    const missing = await root.run(['inspect', '--format', '{{.Nope}}', 'fa']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '\n');
    assert.match(missing.stderr, /template parsing error: template: :1:2: executing "" at <\.Nope>: map has no entry for key "Nope"/);
    const unparsable = await root.run(['inspect', '--format', '{{if}}', 'fa']);
    assert.equal(unparsable.code, 64);
    assert.match(unparsable.stderr, /template parsing error: template: :1: missing value for if/);
  });

  test('images, volume ls, network ls, system df: their own headers', async () => {
    assert.equal((await root.run(['images', '--format', 'table {{.Repository}}:{{.Tag}}\t{{.Containers}}'])).stdout, 'REPOSITORY:TAG   CONTAINERS\nbusybox:latest   N/A\n');
    assert.equal((await root.run(['volume', 'create', '--label', 'k=v', 'fvol'])).code, 0);
    assert.equal((await root.run(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Label "k"}}\t{{.Driver}}'])).stdout, 'VOLUME NAME   k         DRIVER\nfvol          v         local\n');
    assert.match((await root.run(['network', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}'])).stdout, /^NAME      DRIVER\nbridge    bridge\n/);
    assert.match((await root.run(['system', 'df', '--format', 'table {{.Type}}\t{{.TotalCount}}'])).stdout, /^TYPE            TOTAL\nImages          1\nContainers      2\n/);
    // -v with a format: one run over docker's diskUsageContext, its lists holding the contexts.
    const v = await root.run(['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}}:{{.Links}} {{end}}{{len .Containers}} {{range .Images}}{{.Repository}} {{.Containers}}{{end}}']);
    assert.equal(v.stdout, 'fvol:0 2 busybox 2');
    assert.equal((await root.run(['volume', 'rm', 'fvol'])).code, 0);
  });

  test('version --format: docker\'s Client/Server data and messages; --version works', async () => {
    const v = await root.run(['version', '--format', '{{.Client.Context}} {{.Server.ApiVersion}} {{json .Server.Platform}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^default \d+\.\d+ \{"Name":"Berth"\}\n$/);
    const bad = await root.run(['version', '--format', 'a{{.Server.Nope}}b']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'a\n');
    assert.match(bad.stderr, /template: version:1:10: executing "version" at <\.Server\.Nope>: can't evaluate field Nope in type \*types\.Version/);
    assert.equal((await root.run(['version', '--format', '{{.Nope'])).code, 64);
    assert.match((await root.run(['--version'])).stdout, /^berth version /);
  });

  test('info --format: docker\'s Info fields with ClientInfo beside them', async () => {
    const r = await root.run(['info', '--format', '{{.Containers}} {{.Images}} {{.ClientInfo.Context}} {{.Swarm.LocalNodeState}} {{.Plugins.Volume}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2 1 default inactive [local]\n');
    const bad = await root.run(['info', '--format', '{{.Nope}}']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /can't evaluate field Nope in type system\.dockerInfo/);
    assert.equal((await root.run(['info', '--format', '{{.Nope'])).code, 64);
    assert.match((await root.run(['info'])).stdout, /^Client:\n Version: +\S+\n[\s\S]*\nServer:\n Containers: 2\n/);
  });
});
