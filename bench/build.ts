// A multi-stage Dockerfile built by `berth build` and by docker's builder on a private dockerd
// (the classic builder, DOCKER_BUILDKIT=0: the docker CLI here has no buildx plugin), from the
// same context with the busybox image loaded into both: a cold build (--no-cache) and a fully
// cached rebuild, interleaved, medians and ratios. Then one in-process berth build of each kind
// shows where its time goes (context, cache lookup, RUN, layer commit). The bench dockerd has no
// bridge, so its RUN containers get no network: both builders run RUN with --network none.
// Usage: node bench/build.ts [--runs 3] [--no-docker]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BERTH, benchArgs, busyboxWork, pct, quiet, removeScopes } from './common.ts';
import { dockerd, type Dockerd } from './dockerd.ts';

const { runs, wantDocker } = benchArgs(3);
const DOCKERFILE = `FROM busybox AS deps
RUN mkdir /deps && for i in $(seq 1 200); do echo "dep $i" > /deps/f$i; done
FROM busybox AS build
WORKDIR /src
COPY src/ ./
RUN cat *.txt | wc -l > /app.txt
FROM busybox
ENV APP=/app
COPY --from=deps /deps /deps
COPY --from=build /app.txt /app/app.txt
LABEL bench=build
CMD ["cat", "/app/app.txt"]
`;

const { work, tar } = busyboxWork();
const ctx = path.join(work, 'ctx');
fs.mkdirSync(path.join(ctx, 'src'), { recursive: true });
fs.writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(ctx, 'src', `f${i}.txt`), `line ${i}\n`.repeat(20));
const root = path.join(work, 'berth-root');
const benv = { ...process.env, BERTH_ROOT: root };

function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { env, cwd: ctx, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  return performance.now() - t0;
}

let docker: Dockerd | undefined;
try {
  quiet(BERTH, ['import', '--change', 'CMD ["sh"]', tar, 'busybox:latest'], benv);
  const tools: Array<{ name: string; cold: () => number; cached: () => number }> = [
    { name: 'berth', cold: () => timed(BERTH, ['build', '-q', '--network', 'none', '--no-cache', '-t', 'bench:1', '.'], benv), cached: () => timed(BERTH, ['build', '-q', '--network', 'none', '-t', 'bench:1', '.'], benv) },
  ];
  if (wantDocker) {
    docker = await dockerd(work);
    const denv = { ...process.env, DOCKER_HOST: docker.host, DOCKER_BUILDKIT: '0' };
    quiet('docker', ['import', '--change', 'CMD ["sh"]', tar, 'busybox:latest'], denv);
    tools.push({ name: 'docker (classic builder)', cold: () => timed('docker', ['build', '-q', '--network', 'none', '--no-cache', '-t', 'bench:1', '.'], denv), cached: () => timed('docker', ['build', '-q', '--network', 'none', '-t', 'bench:1', '.'], denv) });
  }
  for (const t of tools) t.cold(); // warm-up: page cache, compile cache, the first cache records
  const cold = new Map<string, number[]>(tools.map((t) => [t.name, []]));
  const cached = new Map<string, number[]>(tools.map((t) => [t.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const t of tools) cold.get(t.name)!.push(t.cold());
    for (const t of tools) cached.get(t.name)!.push(t.cached());
  }
  const lines = ['| build | tool | median ms | min ms | berth / tool |', '|---|---|---|---|---|'];
  for (const [label, m] of [['cold (--no-cache)', cold], ['fully cached', cached]] as const) {
    const base = pct(m.get('berth')!, 50);
    for (const [name, xs] of m) lines.push(`| ${label} | ${name} | ${pct(xs, 50).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${(base / pct(xs, 50)).toFixed(2)} |`);
  }
  console.log(lines.join('\n'));

  // Where berth's time goes, from the builder's own timings (in-process, same root).
  const { Engine } = await import('../src/engine/engine.ts');
  const { build } = await import('../src/build/builder.ts');
  const engine = new Engine(root);
  const split = ['| berth in-process | total ms | context | cache lookup | RUN | layer commit |', '|---|---|---|---|---|---|'];
  for (const [label, noCache] of [['cold', true], ['cached', false]] as const) {
    const r = await build(engine, { context: { dir: ctx }, tags: ['bench:1'], noCache, network: 'none' });
    const t = r.timings;
    split.push(`| ${label} | ${t.total.toFixed(0)} | ${t.context.toFixed(0)} | ${t.cacheLookup.toFixed(0)} | ${t.run.toFixed(0)} | ${t.commit.toFixed(0)} |`);
  }
  console.log('\n' + split.join('\n'));
  console.log(`\n(${runs} runs each, interleaved, after one warm-up; ${spawnSync('nproc').stdout.toString().trim()} cores)`);
} finally {
  await docker?.stop();
  await removeScopes([root]);
  fs.rmSync(work, { recursive: true, force: true });
}
