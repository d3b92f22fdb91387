// Containers as long-lived objects: detached runs under their monitor, logs, stop/kill/wait,
// restart, rename, inspect — through the real CLI.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { busyboxTar, isRoot, REPO, TestRoot } from '../helpers/berth.ts';

describe('container lifecycle', { skip: !isRoot && 'needs root' }, () => {
  let root: TestRoot;
  before(async () => (root = await TestRoot.withBusybox()));
  after(() => root.cleanup());

  test('run -d: prints the id, keeps running after berth exits, output goes to the log', async () => {
    const r = await root.run(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'trap "echo bye; exit 7" TERM; echo out; echo err >&2; while true; do sleep 0.05; done']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await root.run(['ps', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    assert.equal(ps.stdout, `${id.slice(0, 12)} ticker running\n`);
    const logs = await root.until(() => fs.readFileSync(`${root.dir}/containers/${id}/${id}-json.log`, 'utf8'), (t) => t.split('\n').length > 2);
    const entries = logs.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(entries.map((e) => [e.log, e.stream]).sort(), [['err\n', 'stderr'], ['out\n', 'stdout']]);
    assert.match(entries[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const out = await root.run(['logs', 'ticker']);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, 'err\n');
    const ts = await root.run(['logs', '-t', '--tail', '1', id.slice(0, 6)]);
    assert.match(ts.stdout + ts.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z (out|err)\n$/);

    // stop: the stop signal (the container traps it), its exit status recorded.
    const stop = await root.run(['stop', 'ticker']);
    assert.equal(stop.code, 0, stop.stderr);
    const insp = JSON.parse((await root.run(['inspect', 'ticker'])).stdout)[0];
    assert.equal(insp.State.Status, 'exited');
    assert.equal(insp.State.ExitCode, 7);
    assert.equal(insp.State.Running, false);
    assert.equal(insp.Name, '/ticker');
    assert.equal(insp.Id, id);
    assert.deepEqual(insp.Mounts, []);
    assert.equal((await root.run(['logs', '--tail', '1', 'ticker'])).stdout, 'bye\n');
    // Stopping a stopped container is fine; its cgroups are gone.
    assert.equal((await root.run(['stop', 'ticker'])).code, 0);
    assert.deepEqual(root.cgroupDirs(id), []);

    // start again: same container, logs continue.
    assert.equal((await root.run(['start', 'ticker'])).code, 0);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}}', 'ticker'])).stdout, /running/);
    const badSig = await root.run(['kill', '-s', 'SIGNOPE', 'ticker']);
    assert.equal(badSig.code, 1);
    assert.match(badSig.stderr, /Invalid signal: SIGNOPE/);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}}', 'ticker'])).stdout, /running/);
    const waiter = root.run(['wait', 'ticker']);
    // The init of a pid namespace ignores signals it has no handler for, even from the host
    // (as in docker); SIGKILL always works.
    assert.equal((await root.run(['kill', 'ticker'])).code, 0);
    assert.equal((await waiter).stdout, '137\n');
    assert.equal((await root.run(['logs', 'ticker'])).stdout, 'out\nbye\nout\n');
    assert.equal((await root.run(['rm', 'ticker'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('stop escalates to SIGKILL after the timeout', async () => {
    await root.run(['run', '-d', '--name', 'stubborn', 'busybox', 'sleep', '100']);
    const t0 = Date.now();
    assert.equal((await root.run(['stop', '-t', '1', 'stubborn'])).code, 0);
    assert.ok(Date.now() - t0 < 8000);
    assert.equal((await root.run(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn'])).stdout, '137\n');
    await root.run(['rm', 'stubborn']);
  });

  test('create then start -a; names are unique; rename; run -d --rm removes itself', async () => {
    const c = await root.run(['create', '--name', 'later', 'busybox', 'echo', 'created-then-started']);
    assert.equal(c.code, 0, c.stderr);
    assert.match((await root.run(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout, /later created/);
    const dup = await root.run(['create', '--name', 'later', 'busybox', 'true']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /The container name "\/later" is already in use/);
    const s = await root.run(['start', '-a', 'later']);
    assert.equal(s.stdout, 'created-then-started\n');
    assert.equal((await root.run(['logs', 'later'])).stdout, 'created-then-started\n');
    assert.equal((await root.run(['rename', 'later', 'renamed'])).code, 0);
    assert.equal((await root.run(['inspect', '-f', '{{.Name}}', 'renamed'])).stdout, '/renamed\n');
    assert.equal((await root.run(['inspect', 'later'])).code, 1);
    assert.equal((await root.run(['rm', 'renamed'])).code, 0);

    const d = await root.run(['run', '-d', '--rm', 'busybox', 'true']);
    assert.equal(d.code, 0);
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0), []);
  });

  test('create --rm waits for its start (its creator exiting abandons nothing), then removes itself', async () => {
    const c = await root.run(['create', '--rm', '--name', 'once', 'busybox', 'sh', '-c', 'echo ran; exit 4']);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    assert.match((await root.run(['run', '--rm', 'busybox', 'true'])).stderr, /^$/); // run sweeps, and leaves it alone
    assert.match((await root.run(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout, /once created/);
    const s = await root.run(['start', '-a', 'once']);
    assert.equal(s.stdout, 'ran\n', s.stderr);
    assert.equal(s.code, 4);
    assert.equal(fs.existsSync(`${root.dir}/containers/${id}`), false);
    assert.deepEqual(await root.until(() => root.leftovers(), (l) => l.length === 0), []);
  });

  test('concurrent creates with one name: exactly one wins, the others are told the name is in use', async () => {
    const tries = await Promise.all(Array.from({ length: 6 }, () => root.run(['create', '--name', 'contested', 'busybox', 'true'])));
    const won = tries.filter((r) => r.code === 0);
    assert.equal(won.length, 1, tries.map((r) => r.stderr).join(''));
    for (const r of tries.filter((t) => t.code !== 0)) {
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^berth: Conflict\. The container name "\/contested" is already in use by container "[a-f0-9]{64}"/);
    }
    assert.equal(fs.readFileSync(`${root.dir}/names/contested`, 'utf8'), won[0].stdout.trim());
    // Only the winner's container exists: the losers left no directory behind.
    assert.deepEqual(fs.readdirSync(`${root.dir}/containers`), [won[0].stdout.trim()]);
    assert.equal((await root.run(['rm', 'contested'])).code, 0);
  });

  test('stop sends the image\'s STOPSIGNAL or --stop-signal; kill takes names and numbers', async () => {
    const r = await root.run(['import', '--change', 'STOPSIGNAL SIGUSR1', '--change', 'CMD ["sh"]', busyboxTar(), 'usr1:1']);
    assert.equal(r.code, 0, r.stderr);
    const trap = 'trap "echo got-usr1; exit 10" USR1; trap "echo got-usr2; exit 12" USR2; trap "echo got-term; exit 15" TERM; while :; do sleep 0.05; done';
    await root.run(['run', '-d', '--name', 'img-sig', 'usr1:1', 'sh', '-c', trap]);
    await root.run(['run', '-d', '--name', 'flag-sig', '--stop-signal', 'USR2', 'usr1:1', 'sh', '-c', trap]);
    await root.run(['run', '-d', '--name', 'default-sig', 'busybox', 'sh', '-c', trap]);
    await new Promise((r) => setTimeout(r, 300)); // the traps are set
    assert.equal((await root.run(['stop', '-t', '5', 'img-sig', 'flag-sig', 'default-sig'])).code, 0);
    const seen = async (n: string) => `${(await root.run(['inspect', '-f', '{{.State.ExitCode}}', n])).stdout.trim()} ${(await root.run(['logs', n])).stdout.trim()}`;
    assert.equal(await seen('img-sig'), '10 got-usr1');
    assert.equal(await seen('flag-sig'), '12 got-usr2');
    assert.equal(await seen('default-sig'), '15 got-term');
    assert.equal((await root.run(['inspect', '-f', '{{.Config.StopSignal}}', 'flag-sig'])).stdout, 'USR2\n');
    // kill: a number works like its name.
    assert.equal((await root.run(['start', 'default-sig'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await root.run(['kill', '-s', '12', 'default-sig'])).code, 0);
    assert.equal((await root.run(['wait', 'default-sig'])).stdout, '12\n');
    assert.equal((await root.run(['run', '--rm', '--stop-signal', 'SIGNOPE', 'busybox', 'true'])).code, 125);
    assert.equal((await root.run(['rm', 'img-sig', 'flag-sig', 'default-sig'])).code, 0);
    assert.equal((await root.run(['rmi', 'usr1:1'])).code, 0);
  });

  test('every operation checks the status it finds and says why it refuses', async () => {
    const id = (await root.run(['run', '-d', '--name', 'sm', 'busybox', 'sleep', '100'])).stdout.trim();
    const said = async (...args: string[]) => {
      const r = await root.run(args);
      return `${r.code} ${(r.stdout + r.stderr).trim()}`;
    };
    assert.equal(await said('start', 'sm'), '0 sm'); // starting a running container is a no-op (docker)
    assert.equal(await said('unpause', 'sm'), `1 Error response from daemon: Container ${id} is not paused`);
    assert.equal(await said('rm', 'sm'), `1 Error response from daemon: You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
    assert.equal(await said('stop', '-t', '0', 'sm'), '0 sm');
    assert.equal(await said('stop', 'sm'), '0 sm'); // stopping a stopped container succeeds (docker)
    for (const verb of ['kill', 'pause']) assert.equal(await said(verb, 'sm'), `1 Error response from daemon: Container ${id} is not running`);
    assert.equal(await said('unpause', 'sm'), `1 Error response from daemon: Container ${id} is not paused`);
    for (const args of [['exec', 'sm', 'true'], ['top', 'sm'], ['attach', 'sm']]) assert.equal(await said(...args), `125 berth: Container ${id} is not running.`);
    assert.equal(await said('kill', '-s', 'NOPE', 'sm'), '1 Error response from daemon: Invalid signal: NOPE');
    assert.equal(await said('rm', 'sm'), '0 sm');
    assert.equal(await said('stop', 'sm'), '1 Error response from daemon: No such container: sm');
  });

  test('container prune removes stopped containers (with the given labels), never running ones', async () => {
    await root.run(['run', '--name', 'pr-old', '-l', 'tier=a', 'busybox', 'true']);
    await root.run(['create', '--name', 'pr-new', '-l', 'tier=b', 'busybox', 'true']);
    await root.run(['run', '-d', '--name', 'pr-up', '-l', 'tier=a', 'busybox', 'sleep', '100']);
    const ask = await root.run(['container', 'prune']);
    assert.equal(ask.code, 125);
    assert.match(ask.stderr, /pass -f/);
    const id = async (n: string) => (await root.run(['inspect', '-f', '{{.Id}}', n])).stdout.trim();
    const old = await id('pr-old');
    const a = await root.run(['container', 'prune', '-f', '--filter', 'label=tier=a']);
    assert.equal(a.stdout, `Deleted Containers:\n${old}\n\nTotal reclaimed space: 0B\n`, a.stderr);
    const rest = await root.run(['container', 'prune', '-f']);
    assert.match(rest.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\n/);
    assert.equal((await root.run(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'pr-up\n');
    assert.equal((await root.run(['container', 'prune', '-f', '--filter', 'until=1h'])).code, 125);
    await root.run(['rm', '-f', 'pr-up']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('ps --no-trunc shows whole ids and commands', async () => {
    const long = 'echo a-command-line-longer-than-twenty-characters';
    const id = (await root.run(['create', '--name', 'wide', 'busybox', 'sh', '-c', long])).stdout.trim();
    const short = await root.run(['ps', '-a', '--format', '{{.ID}} {{.Command}}']);
    // An argument with a space in single quotes, as dockerd's list gives the command.
    assert.equal(short.stdout, `${id.slice(0, 12)} "sh -c 'echo a-comma…"\n`);
    const full = await root.run(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}']);
    assert.equal(full.stdout, `${id} "sh -c '${long}'"\n`);
    assert.match((await root.run(['ps', '-a', '--no-trunc'])).stdout, new RegExp(`^${id}\\s+busybox\\s+"sh -c '${long}'"`, 'm'));
    await root.run(['rm', 'wide']);
  });

  test('a foreground container without --rm shows its output and keeps it in its log', async () => {
    const r = await root.run(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
    assert.equal((await root.run(['logs', 'fg'])).stdout, 'to-out\n');
    assert.match((await root.run(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout, /fg Exited \(3\)/);
    await root.run(['rm', 'fg']);
  });

  test('restart stops (stop signal, timeout) and starts the same container; logs --since/--until pick by time', async () => {
    await root.run(['run', '-d', '--name', 'again', 'busybox', 'sh', '-c', 'echo up; trap "echo down; exit 0" TERM; while :; do sleep 0.05; done']);
    await root.until(() => fs.existsSync(`${root.dir}/names/again`), (v) => v);
    const first = JSON.parse((await root.run(['inspect', 'again'])).stdout)[0];
    await new Promise((r) => setTimeout(r, 1100));
    const between = new Date().toISOString();
    const r = await root.run(['restart', '-t', '5', 'again']);
    assert.equal(r.stdout, 'again\n', r.stderr);
    const second = JSON.parse((await root.run(['inspect', 'again'])).stdout)[0];
    assert.equal(second.Id, first.Id);
    assert.equal(second.State.Status, 'running');
    assert.ok(second.State.StartedAt > first.State.StartedAt);
    assert.notEqual(second.State.Pid, first.State.Pid);
    assert.equal((await root.eventually(() => root.run(['logs', 'again']), (x) => x.stdout === 'up\ndown\nup\n')).stdout, 'up\ndown\nup\n');
    assert.equal((await root.run(['logs', '--since', between, 'again'])).stdout, 'down\nup\n');
    assert.equal((await root.run(['logs', '--until', between, 'again'])).stdout, 'up\n');
    assert.equal((await root.run(['logs', '--since', 'yesterday', 'again'])).code, 125);
    assert.equal((await root.run(['rm', '-f', 'again'])).code, 0);
  });

  test('events: replayed with --since/--until, filtered, as lines, templates or json; followed until interrupted', async () => {
    // Followed from now on: started before anything happens.
    const follower = root.spawn(['events', '--filter', 'event=start', '--filter', 'label=evt=yes', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    let followed = '';
    follower.stdout!.setEncoding('utf8').on('data', (d: string) => (followed += d));
    const followerExit = new Promise<number | null>((resolve) => follower.on('close', resolve));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await root.run(['run', '--rm', '--name', 'evt', '-l', 'evt=yes', 'busybox', 'true'])).code, 0);
    assert.equal(await root.until(() => followed, (o) => o.includes('start evt\n'), 10_000), 'start evt\n');
    follower.kill('SIGINT');
    assert.equal(await followerExit, 0);
    const replay = await root.run(['events', '--since', '5m', '--until', '0s', '--filter', 'container=evt']);
    assert.equal(replay.code, 0, replay.stderr);
    const lines = replay.stdout.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[2]), ['create', 'start', 'die', 'destroy']);
    assert.match(lines[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container start [0-9a-f]{64} \(evt=yes, image=busybox, name=evt\)$/);
    const json = JSON.parse((await root.run(['events', '--since', '5m', '--until', '0s', '--filter', 'container=evt', '--filter', 'event=die', '--format', 'json'])).stdout);
    assert.equal(json.Actor.Attributes.exitCode, '0');
    assert.equal(json.status, 'die');
    const bad = await root.run(['events', '--filter', 'nope=1']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid filter 'nope'/);
  });

  test('logs -f follows until the container stops', async () => {
    await root.run(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.2; done']);
    const r = await root.run(['logs', '-f', 'follow'], { timeoutMs: 10_000 });
    assert.equal(r.stdout, '1\n2\n3\n');
    await root.run(['rm', 'follow']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('exec runs inside all of the container\'s namespaces and cgroups', async () => {
    const r = await root.run(['run', '-d', '--name', 'host', '-e', 'FOO=bar', '-w', '/tmp', 'busybox', 'sleep', '100']);
    const id = r.stdout.trim();
    const e = await root.run(['exec', 'host', 'sh', '-c', 'echo $FOO; pwd; hostname; echo $$; ls /proc | grep -c "^[0-9]"; readlink /proc/1/exe; cat /proc/self/cgroup | grep memory']);
    assert.equal(e.code, 0, e.stderr);
    const [foo, cwd, hostname, , procs, init, cg] = e.stdout.split('\n');
    assert.deepEqual([foo, cwd, hostname], ['bar', '/tmp', id.slice(0, 12)]);
    assert.ok(Number(procs) <= 5, `sees ${procs} processes`); // its own pid namespace: sleep, sh, ls, grep
    assert.equal(init, '/bin/busybox');
    assert.equal(cg, '4:memory:/'); // the container's cgroup namespace: its own cgroup is the root
    // The exec'd process is accounted to the container's cgroup on the host.
    const tasks = fs.readFileSync(`/sys/fs/cgroup/memory/berth/${root.key}/${id}/cgroup.procs`, 'utf8').trim().split('\n');
    assert.equal(tasks.length, 1); // only the init now that exec finished
    const u = await root.run(['exec', '-u', '1000:1000', '-w', '/', '-e', 'FOO=baz', 'host', 'sh', '-c', 'id -u; pwd; echo $FOO; grep CapEff /proc/self/status; exit 4']);
    assert.equal(u.code, 4);
    assert.match(u.stdout, /^1000\n\/\nbaz\nCapEff:\s+0+\n$/);
    const i = await root.run(['exec', '-i', 'host', 'cat'], { input: 'piped\n' });
    assert.equal(i.stdout, 'piped\n');
    const nf = await root.run(['exec', 'host', 'nosuch']);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /executable file not found/);
    assert.equal((await root.run(['exec', '-d', 'host', 'sh', '-c', 'echo detached > /tmp/mark'])).code, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await root.run(['exec', 'host', 'cat', '/tmp/mark'])).stdout, 'detached\n');
    await root.run(['stop', '-t', '0', 'host']);
    const stopped = await root.run(['exec', 'host', 'true']);
    assert.equal(stopped.code, 125);
    assert.match(stopped.stderr, /is not running/);
    await root.run(['rm', 'host']);
    assert.deepEqual(root.leftovers(), []);
  });

  // A real terminal: script(1) runs berth on a pty and feeds it our input.
  const inPty = (cmd: string, input: string) => new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: root.env(), cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    // Typed once the container's shell prompts, as a person would: earlier, keys would reach the
    // terminal before berth put it in raw mode (Ctrl-Q would be eaten as XON).
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('# ') && child.stdin.writable) child.stdin.end(input);
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`pty run timed out: ${out}`)); }, 20_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });

  test('run -it: a pty from the container\'s devpts, keys in, status out; exec -it; Ctrl-P Ctrl-Q detaches', async () => {
    const r = await inPty('bin/berth run -it --rm busybox sh', 'tty; echo $TERM; stty size; echo typed-$((40+2))\nexit 3\n');
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /\/dev\/pts\/0\r*\n/);
    assert.match(r.out, /xterm\r*\n/);
    assert.match(r.out, /\d+ \d+\r*\n/);
    assert.match(r.out, /typed-42/);
    await root.run(['run', '-d', '-t', '--name', 'term', 'busybox', 'sh', '-c', 'echo started; sleep 100']);
    const e = await inPty('bin/berth exec -it term sh', 'tty\nexit 6\n');
    assert.equal(e.code, 6, e.out);
    assert.match(e.out, /\/dev\/pts\/1/);
    assert.match((await root.run(['logs', 'term'])).stdout, /^started\r*\n$/); // a terminal's output is one stream
    const d = await inPty('bin/berth run -it --name detachable busybox sh', '\x10\x11');
    assert.equal(d.code, 0, d.out);
    assert.match((await root.run(['inspect', '-f', '{{.State.Status}} {{.Config.Tty}}', 'detachable'])).stdout, /^running true\n$/);
    await root.run(['rm', '-f', 'term', 'detachable']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('run -it and exec -it: the container\'s terminal takes the client\'s size, and follows its resizes', async () => {
    const ttyFile = `${root.dir}/outer-tty`;
    // script(1) gives berth a terminal; the shell inside sets its size first and says which it is.
    const session = (cmd: string) => {
      fs.rmSync(ttyFile, { force: true });
      const child = spawn('script', ['-qfec', `sh -c 'stty rows 40 cols 100; tty > ${ttyFile}; exec ${cmd}'`, '/dev/null'], { env: root.env(), cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      return { child, closed, out: () => out };
    };
    const sizes = (text: string) => [...text.matchAll(/^(\d+ \d+)\r*$/gm)].map((m) => m[1]);
    const s = session('bin/berth run -it --rm busybox sh');
    const seen = async (n: number) => sizes((await root.until(() => s.out(), (o) => sizes(o).length >= n, 10_000)));
    await root.until(() => s.out(), (o) => o.includes('# '), 10_000); // the prompt: the container is up
    s.child.stdin.write('stty size\n');
    assert.deepEqual(await seen(1), ['40 100']);
    // The outer terminal changes size: the kernel signals berth (SIGWINCH), the monitor resizes the container's.
    execFileSync('stty', ['-F', fs.readFileSync(ttyFile, 'utf8').trim(), 'rows', '33', 'cols', '77']);
    await new Promise((r) => setTimeout(r, 300));
    s.child.stdin.write('stty size\n');
    assert.deepEqual(await seen(2), ['40 100', '33 77']);
    s.child.stdin.end('exit 0\n');
    assert.equal(await s.closed, 0, s.out());

    await root.run(['run', '-d', '--name', 'sized', 'busybox', 'sleep', '100']);
    const e = session('bin/berth exec -it sized sh');
    await root.until(() => e.out(), (o) => o.includes('# '), 10_000);
    e.child.stdin.end('stty size; exit 0\n');
    assert.equal(await e.closed, 0, e.out());
    assert.deepEqual(sizes(e.out()), ['40 100']);
    await root.run(['rm', '-f', 'sized']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('pause freezes every process, unpause resumes; ps filters by label, name, status, exit code', async () => {
    await root.run(['run', '-d', '--name', 'counter', '-l', 'app=web', '-l', 'tier', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.05; done']);
    await root.run(['run', '--name', 'failed', '-l', 'app=db', 'busybox', 'sh', '-c', 'exit 2']);
    assert.equal((await root.run(['pause', 'counter'])).code, 0);
    assert.equal((await root.run(['ps', '--format', '{{.Names}} {{.State}}'])).stdout, 'counter paused\n');
    const lines = async () => (await root.run(['logs', 'counter'])).stdout.split('\n').length;
    const frozen = await lines();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await lines(), frozen, 'output while paused');
    const ex = await root.run(['exec', 'counter', 'true']);
    assert.match(ex.stderr, /is paused/);
    assert.match((await root.run(['pause', 'counter'])).stderr, /already paused/);
    assert.equal((await root.run(['unpause', 'counter'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok((await lines()) > frozen, 'no output after unpause');
    const names = async (...f: string[]) => (await root.run(['ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x])])).stdout.trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('label=app=web'), ['counter']);
    assert.deepEqual(await names('label=app'), ['counter', 'failed']);
    assert.deepEqual(await names('label=tier', 'status=running'), ['counter']);
    assert.deepEqual(await names('status=exited'), ['failed']);
    assert.deepEqual(await names('exited=2'), ['failed']);
    assert.deepEqual(await names('name=^count'), ['counter']);
    assert.deepEqual(await names('ancestor=busybox'), ['counter', 'failed']);
    const bad = await root.run(['ps', '--filter', 'nope=1']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid filter 'nope'/);
    // A paused container can still be stopped and removed.
    assert.equal((await root.run(['pause', 'counter'])).code, 0);
    assert.equal((await root.run(['rm', '-f', 'counter', 'failed'])).code, 0);
    assert.deepEqual(root.leftovers(), []);
  });

  test('top lists the container\'s processes; stats reads its cgroup counters', async (tc) => {
    await root.run(['run', '-d', '--name', 'busy', '-m', '32m', 'busybox', 'sh', '-c', 'sleep 100 & while true; do :; done']);
    // Removed whatever happens: a container left running would show up in every later leak check.
    tc.after(() => root.run(['rm', '-f', 'busy']));
    const t = await root.run(['top', 'busy']);
    assert.equal(t.code, 0, t.stderr);
    const lines = t.stdout.trim().split('\n');
    assert.match(lines[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.ok(lines.some((l) => /\ssleep 100$/.test(l)), t.stdout);
    assert.ok(lines.some((l) => /^root\s+\d+.*sh -c sleep 100/.test(l)), t.stdout);
    const s = await root.run(['stats', '--no-stream', '--format', '{{json .}}', 'busy']);
    const row = JSON.parse(s.stdout);
    assert.equal(row.Name, 'busy');
    assert.equal(row.PIDs, '2');
    assert.match(row.MemUsage, / \/ 32MiB$/);
    // Above zero, not near 100%: on a loaded 2-core machine a busy loop may get a small share.
    assert.ok(parseFloat(row.CPUPerc) > 2, `a busy loop shows ${row.CPUPerc}`);
    await root.run(['rm', '-f', 'busy']);
    assert.equal((await root.run(['top', 'busy'])).code, 125);
  });

  test('restart policies: on-failure:N retries N times, always until stopped, no berth process needed', async () => {
    await root.run(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo attempt; exit 3']);
    const status = async (n: string) => (await root.run(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', n])).stdout.trim();
    assert.equal(await root.eventually(() => status('flaky'), (s) => s === 'exited 2 3'), 'exited 2 3');
    assert.equal((await root.run(['logs', 'flaky'])).stdout, 'attempt\nattempt\nattempt\n');
    await root.run(['run', '-d', '--name', 'ok', '--restart', 'on-failure', 'busybox', 'true']);
    assert.equal(await root.eventually(() => status('ok'), (s) => s.startsWith('exited')), 'exited 0 0');

    // The container's filesystem survives its restarts: the second run finds the first's file.
    await root.run(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'echo up; test -f /once || { touch /once; exit 1; }; sleep 30']);
    assert.equal(await root.eventually(() => status('always'), (s) => s.startsWith('running 1')), 'running 1 0');
    // exec and kill reach the current init, not the first one.
    assert.equal((await root.run(['exec', 'always', 'echo', 'inside'])).stdout, 'inside\n');
    assert.equal((await root.run(['stop', '-t', '1', 'always'])).code, 0);
    const stopped = await status('always');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await status('always'), stopped); // a stopped container stays down
    assert.match(stopped, /^exited /);
    const both = await root.run(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.equal(both.code, 125);
    assert.match(both.stderr, /Conflicting options: --restart and --rm/);
    assert.equal((await root.run(['run', '--rm', '--restart', 'sometimes', 'busybox', 'true'])).code, 125);
    await root.run(['rm', '-f', 'flaky', 'ok', 'always']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('between restarts a container is restarting: ps and inspect say so, verbs answer, stop and rm end the back-off', async () => {
    const flap = ['busybox', 'sh', '-c', 'exit 3'];
    await root.run(['run', '-d', '--name', 'flap', '--restart', 'always', ...flap]);
    await root.run(['run', '-d', '--name', 'flap2', '--restart', 'on-failure', ...flap]);
    const state = async (n: string) => {
      const c = JSON.parse((await root.run(['inspect', n])).stdout)[0];
      return { ...c.State, Count: c.RestartCount };
    };
    // Docker's back-off doubles from 100 ms: after 6 restarts the monitor waits 6.4 s.
    const s = await root.eventually(() => state('flap'), (x) => x.Status === 'restarting' && x.Count >= 6, 15_000);
    assert.equal(s.Status, 'restarting');
    assert.equal(s.Restarting, true);
    assert.equal(s.Running, true); // as in docker
    assert.equal(s.ExitCode, 3);
    assert.equal(s.Pid, 0);
    assert.match((await root.run(['ps', '--format', '{{.Names}} {{.Status}}'])).stdout, /^flap Restarting \(3\) .* ago$/m);
    assert.match((await root.run(['ps', '--filter', 'status=restarting', '--format', '{{.Names}}'])).stdout, /^flap$/m);
    const id = (await root.run(['inspect', '-f', '{{.Id}}', 'flap'])).stdout.trim();
    const ex = await root.run(['exec', 'flap', 'true']);
    assert.equal(ex.code, 125);
    assert.match(ex.stderr, /is restarting, wait until the container is running/);
    const rm = await root.run(['rm', 'flap']);
    assert.match(rm.stderr, new RegExp(`You cannot remove a restarting container ${id}`));
    assert.equal((await root.run(['start', 'flap'])).code, 0); // a no-op, as for a running container
    // stop wakes the monitor out of its back-off instead of waiting for it.
    const t0 = Date.now();
    assert.equal((await root.run(['stop', 'flap'])).code, 0);
    assert.ok(Date.now() - t0 < 3000, `stop took ${Date.now() - t0} ms`);
    assert.equal((await state('flap')).Status, 'exited');
    // rm -f of a restarting container, likewise.
    await root.eventually(() => state('flap2'), (x) => x.Status === 'restarting' && x.Count >= 6, 15_000);
    const t1 = Date.now();
    assert.equal((await root.run(['rm', '-f', 'flap2'])).code, 0);
    assert.ok(Date.now() - t1 < 3000, `rm -f took ${Date.now() - t1} ms`);
    await root.run(['rm', 'flap']);
    assert.deepEqual(root.leftovers(), []);
  });

  test('json-file logs rotate by size and are read back oldest first; options are validated', async () => {
    const r = await root.run(['run', '--name', 'chatty', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done']);
    assert.equal(r.code, 0, r.stderr);
    const id = (await root.run(['inspect', '-f', '{{.Id}}', 'chatty'])).stdout.trim();
    const files = fs.readdirSync(`${root.dir}/containers/${id}`).filter((f) => f.includes('-json.log')).sort();
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    for (const f of files) assert.ok(fs.statSync(`${root.dir}/containers/${id}/${f}`).size <= 2048 + 200);
    const lines = (await root.run(['logs', 'chatty'])).stdout.trim().split('\n');
    assert.equal(lines.at(-1), 'line-299');
    assert.ok(lines.length > 40 && lines.length < 300, `kept ${lines.length} lines`);
    for (let i = 1; i < lines.length; i++) assert.equal(Number(lines[i].slice(5)), Number(lines[i - 1].slice(5)) + 1, 'out of order');
    assert.deepEqual(JSON.parse((await root.run(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'chatty'])).stdout), { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '3' } });
    await root.run(['rm', 'chatty']);
    for (const bad of [['--log-opt', 'max-file=2'], ['--log-opt', 'bogus=1'], ['--log-driver', 'syslog'], ['--log-opt', 'max-size=big']]) {
      assert.equal((await root.run(['run', '--rm', ...bad, 'busybox', 'true'])).code, 125, bad.join(' '));
    }
  });

  test('attach follows a running container\'s output, both streams, and returns its exit code', async () => {
    await root.run(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'sleep 1; for i in 1 2 3; do echo out-$i; echo err-$i >&2; sleep 0.1; done; exit 7']);
    const r = await root.run(['attach', 'talker']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out-1\nout-2\nout-3\n');
    assert.equal(r.stderr, 'err-1\nerr-2\nerr-3\n');
    assert.deepEqual(fs.readdirSync(`${root.dir}/s`), []); // the monitor removed its socket
    const stopped = await root.run(['attach', 'talker']);
    assert.equal(stopped.code, 125);
    assert.match(stopped.stderr, /is not running/);
    await root.run(['rm', 'talker']);
  });

  test('health checks run by the monitor: starting, unhealthy after the retries, healthy, in inspect and ps', async () => {
    await root.run(['run', '-d', '--name', 'checked', '--health-cmd', 'test -f /tmp/ready && echo ready', '--health-interval', '150ms', '--health-retries', '2',
      'busybox', 'sh', '-c', 'sleep 1.5; touch /tmp/ready; sleep 60']);
    const health = async () => JSON.parse((await root.run(['inspect', '-f', '{{json .State.Health}}', 'checked'])).stdout);
    const sick = await root.eventually(health, (h) => h.Status === 'unhealthy', 5000);
    assert.equal(sick.Status, 'unhealthy');
    assert.ok(sick.FailingStreak >= 2);
    assert.match((await root.run(['ps', '--format', '{{.Status}}'])).stdout, /\(unhealthy\)/);
    const well = await root.eventually(health, (h) => h.Status === 'healthy', 8000);
    assert.equal(well.FailingStreak, 0);
    assert.equal(well.Log.at(-1).ExitCode, 0);
    assert.equal(well.Log.at(-1).Output, 'ready\n');
    assert.ok(well.Log.length <= 5);
    assert.match((await root.run(['ps', '--format', '{{.Status}}'])).stdout, /\(healthy\)/);
    assert.deepEqual(JSON.parse((await root.run(['inspect', '-f', '{{json .Config.Healthcheck}}', 'checked'])).stdout).Test, ['CMD-SHELL', 'test -f /tmp/ready && echo ready']);
    await root.run(['rm', '-f', 'checked']);
    // A probe that hangs is killed at its timeout and counts as a failure.
    await root.run(['run', '-d', '--name', 'hung', '--health-cmd', 'sleep 5', '--health-interval', '100ms', '--health-timeout', '200ms', '--health-retries', '1', 'busybox', 'sleep', '60']);
    const timedOut = await root.eventually(async () => JSON.parse((await root.run(['inspect', '-f', '{{json .State.Health}}', 'hung'])).stdout), (h) => h.Status === 'unhealthy', 5000);
    assert.equal(timedOut.Log[0].Output, 'Health check exceeded timeout');
    assert.equal((await root.run(['run', '--rm', '--health-interval', 'soon', 'busybox', 'true'])).code, 125);
    await root.run(['rm', '-f', 'hung']);
    assert.deepEqual(root.leftovers(), []);
  });
});
