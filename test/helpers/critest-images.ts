// Stand-ins for every image critest v1.26.1 pulls (pkg/validate, pkg/framework), built from the
// machine's busybox and a small static program (critest-standins.c), pushed into a loopback
// registry, with hosts.toml files (containerd's certs.d layout, read by berth and containerd
// alike) that make the registry the mirror of registry.k8s.io and gcr.io. Each image has what
// the specs check of it: users, groups, entrypoints, ports, files.
//
// What no stand-in can give: gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f9a2...
// names a fixed upstream manifest digest, which only those exact bytes (and the blobs they name)
// have; "public image with digest should be pulled and removed" fails without the internet.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OciLayout, type Desc } from './oci.ts';
import type { TestRegistry } from './registry.ts';
import { tar, type TEntry } from './tarwriter.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const E2E = 'registry.k8s.io/e2e-test-images';
const CRI_TOOLS = 'gcr.io/k8s-staging-cri-tools';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.6';
export const UPSTREAM_HOSTS = ['registry.k8s.io', 'gcr.io'];

/** The digest critest asks for, which no image built here can have. */
export const UNAVAILABLE = {
  [`${CRI_TOOLS}/test-image-digest@sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf`]: 'a fixed upstream manifest digest: only the original bytes have it',
};

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const dir = (p: string): TEntry => ({ path: p.endsWith('/') ? p : `${p}/`, type: '5', mode: 0o755 });
const file = (p: string, body: string | Buffer, mode = 0o644): TEntry => ({ path: p, body, mode });

/** The stand-in programs, compiled static (gcc is what native/ builds with). */
function standins(): Buffer {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-standins-')), 'standins');
  try {
    execFileSync('gcc', ['-static', '-Os', '-s', '-o', out, path.join(HERE, 'critest-standins.c')], { stdio: 'pipe' });
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

// Debian's static busybox has neither pgrep nor ipcs, which specs run in the busybox image.
const PGREP = `#!/bin/sh
# pgrep PATTERN: pids of processes whose command name matches (a stand-in; busybox here has none)
[ $# -eq 1 ] || { echo "usage: pgrep PATTERN" >&2; exit 2; }
status=1
for d in /proc/[0-9]*; do
  read -r comm < "$d/comm" 2>/dev/null || continue
  if echo "$comm" | grep -qE -- "$1"; then echo "\${d#/proc/}"; status=0; fi
done
exit $status
`;
const IPCS = `#!/bin/sh
# ipcs [-m]: the shared memory segments of this IPC namespace (a stand-in; busybox here has none)
echo
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch"
awk 'NR > 1 { printf "0x%08x %-10s %-10s %-10s %-10s %-10s\\n", $1, $2, $8, $3, $4, $7 }' /proc/sysvipc/shm
`;

/**
 * A busybox whose shell looks commands up in PATH, as the busybox images' does. Debian's static
 * busybox runs its applets without looking (FEATURE_SH_STANDALONE), so a masked /bin/ls would
 * still run ("runtime should support MaskedPaths" expects "/bin/sh: ls: Permission denied").
 * Debian's dynamic busybox package (fetched with apt-get download, never installed: it conflicts
 * with busybox-static) has the usual shell; it comes with the libraries it links. Without it,
 * the static one, and that spec fails whatever the runtime.
 */
function busybox(): { files: TEntry[]; applets: string[] } {
  const cache = path.join(os.tmpdir(), 'berth-critest-busybox');
  const bin = path.join(cache, 'bin/busybox');
  if (!fs.existsSync(bin)) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-busybox-deb-'));
    try {
      execFileSync('apt-get', ['download', 'busybox'], { cwd: tmp, stdio: 'pipe', timeout: 120_000 });
      const deb = fs.readdirSync(tmp).find((n) => n.endsWith('.deb'))!;
      execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), path.join(tmp, 'x')], { stdio: 'pipe' });
      fs.mkdirSync(path.dirname(bin), { recursive: true });
      fs.copyFileSync(path.join(tmp, 'x/bin/busybox'), `${bin}.tmp`);
      fs.renameSync(`${bin}.tmp`, bin);
    } catch (err) {
      console.error(`critest images: no dynamic busybox (${(err as Error).message.split('\n')[0]}); the static one runs applets without PATH, so the MaskedPaths spec fails`);
      return { files: [file('bin/busybox', fs.readFileSync('/bin/busybox'), 0o755)], applets: appletsOf('/bin/busybox') };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  // The libraries it links, at the paths its loader looks in (as ldd resolves them here).
  const libs = [...execFileSync('ldd', [bin], { encoding: 'utf8' }).matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
  const dirs = new Set<string>();
  for (const lib of libs) for (let d = path.dirname(lib.slice(1)); d !== '.'; d = path.dirname(d)) dirs.add(d);
  const files: TEntry[] = [...[...dirs].sort().map(dir), file('bin/busybox', fs.readFileSync(bin), 0o755), ...libs.map((l) => file(l.slice(1), fs.readFileSync(l), 0o755))];
  return { files, applets: appletsOf(bin) };
}

const appletsOf = (bb: string) => execFileSync(bb, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');

/** busybox with every applet as a hard link, as in the busybox images (a masked /bin/ls hides ls only). */
function busyboxLayer(): Buffer {
  const bb = busybox();
  const applets = bb.applets.filter((a) => a !== 'pgrep' && a !== 'ipcs');
  const entries: TEntry[] = [dir('bin'), ...bb.files, ...applets.map((a) => ({ path: `bin/${a}`, type: '1', linkname: 'bin/busybox', mode: 0o755 }))];
  entries.push(file('bin/pgrep', PGREP, 0o755), file('bin/ipcs', IPCS, 0o755));
  for (const d of ['dev', 'proc', 'sys', 'root', 'home', 'var', 'var/run', 'usr', 'usr/bin', 'usr/sbin']) entries.push(dir(d));
  entries.push({ ...dir('tmp'), mode: 0o1777 });
  return tar(entries);
}

const passwd = (extra: string[]) =>
  ['root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1:daemon:/usr/sbin:/bin/false', 'www-data:x:33:33:www-data:/var/www:/bin/false', ...extra, 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false'].join('\n') + '\n';
const group = (extra: string[]) => ['root:x:0:', 'daemon:x:1:', 'tty:x:5:', 'www-data:x:33:', ...extra, 'nogroup:x:65534:'].join('\n') + '\n';

interface StandIn {
  refs: string[]; // host/repository:tag, as critest names them
  layers: TEntry[][]; // above busybox
  config?: Record<string, unknown>;
  cmd?: string[];
}

function catalogue(bin: Buffer): StandIn[] {
  const etc = (users: string[] = [], groups: string[] = []) => [dir('etc'), file('etc/passwd', passwd(users)), file('etc/group', group(groups))];
  const web = (root: string, index: string) => [...root.split('/').map((_, i, a) => dir(a.slice(0, i + 1).join('/'))), file(`${root}/index.html`, index)];
  const nginx = (port?: string) => ({
    layers: [[...etc(['nginx:x:101:101:nginx:/nonexistent:/bin/false'], ['nginx:x:101:']), dir('usr'), dir('usr/sbin'), file('usr/sbin/nginx', bin, 0o755), dir('var'), dir('var/run'), ...web('usr/share/nginx/html', '<h1>Welcome to nginx!</h1>\n')]],
    cmd: ['nginx', '-g', 'daemon off;'],
    config: { Env: [PATH, ...(port ? [`NGINX_PORT=${port}`] : [])], ExposedPorts: { [`${port ?? 80}/tcp`]: {} }, StopSignal: 'SIGTERM' },
  });
  // cri-tools' image-test: busybox plus an empty file named after the image (or tag).
  const marked = (name: string) => [[file(name, '')]];
  const user = (u: string) => ({ layers: [etc()], config: { Env: [PATH], User: u } });
  return [
    { refs: [`${E2E}/busybox:1.29-2`], layers: [etc()] },
    { refs: [`${E2E}/nginx:1.14-2`], ...nginx() },
    { refs: [`${CRI_TOOLS}/hostnet-nginx-amd64:latest`], ...nginx('12003') },
    {
      refs: [`${E2E}/httpd:2.4.39-4`],
      layers: [[...etc(), dir('usr'), dir('usr/local'), dir('usr/local/bin'), file('usr/local/bin/httpd-foreground', bin, 0o755), ...web('usr/local/apache2/htdocs', '<html><body><h1>It works!</h1></body></html>\n')]],
      cmd: ['httpd-foreground'],
      config: { Env: ['PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ExposedPorts: { '80/tcp': {} } },
    },
    // The probe is setuid root: with no_new_privs the kernel ignores the bit and it reports the caller.
    { refs: [`${E2E}/nonewprivs:1.3`], layers: [[...etc(), dir('usr'), dir('usr/local'), dir('usr/local/bin'), file('usr/local/bin/nnp', bin, 0o4755)]], config: { Env: [PATH], Entrypoint: ['/usr/local/bin/nnp'] }, cmd: [] },
    { refs: [`${CRI_TOOLS}/test-image-user-uid:latest`], ...user('1002') },
    { refs: [`${CRI_TOOLS}/test-image-user-username:latest`], ...user('www-data') },
    { refs: [`${CRI_TOOLS}/test-image-user-uid-group:latest`], ...user('1003:1004') },
    { refs: [`${CRI_TOOLS}/test-image-user-username-group:latest`], ...user('www-data:1004') },
    // default-user (1000) belongs to group-defined-in-image (50000), as `adduser`/`addgroup` made it.
    {
      refs: [`${CRI_TOOLS}/test-image-predefined-group:latest`],
      layers: [[...etc(['default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh'], ['default-user:x:1000:', 'group-defined-in-image:x:50000:default-user']), dir('home'), { ...dir('home/default-user'), uid: 1000, gid: 1000 }]],
      config: { Env: [PATH], User: '1000' },
    },
    ...['test-image-1', 'test-image-2', 'test-image-3'].map((n) => ({ refs: [`${CRI_TOOLS}/${n}:latest`], layers: marked(n) })),
    { refs: [`${CRI_TOOLS}/test-image-latest:latest`], layers: marked('test-image-latest') },
    // Reachable by tag only: critest asks for it by a digest no stand-in can have (see UNAVAILABLE).
    { refs: [`${CRI_TOOLS}/test-image-digest:latest`], layers: marked('test-image-digest') },
    { refs: ['1', '2', '3'].map((t) => `${CRI_TOOLS}/test-image-tags:${t}`), layers: marked('same-image') },
    { refs: [`${CRI_TOOLS}/test-image-tag:test`], layers: marked('test') },
    { refs: [`${CRI_TOOLS}/test-image-tag:all`], layers: marked('all') },
    { refs: [PAUSE_IMAGE], layers: [[file('pause', bin, 0o755)]], config: { Env: [PATH], Entrypoint: ['/pause'] }, cmd: [] },
  ];
}

export interface PreparedImages {
  /** Every stand-in reference, as critest (and containerd's sandbox_image) names it. */
  refs: string[];
  /** The certs.d directory: one hosts.toml per upstream host, the registry as its mirror. */
  certsDir: string;
}

/**
 * Builds the stand-ins, pushes them into `registry` (under the upstream repository paths) and
 * writes `<certsDir>/<host>/hosts.toml` for registry.k8s.io and gcr.io. The registry is a mirror:
 * anything it lacks falls through to the real host (unreachable here).
 */
export async function prepareCritestImages(registry: TestRegistry, certsDir: string): Promise<PreparedImages> {
  const bin = standins();
  const layoutDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-critest-layout-'));
  const refs: string[] = [];
  try {
    const lay = new OciLayout(layoutDir);
    const base = { tar: busyboxLayer(), compression: 'gzip' as const };
    const pushes: Array<{ name: string; dest: string }> = [];
    for (const [i, s] of catalogue(bin).entries()) {
      const img = lay.image({
        layers: [base, ...s.layers.map((entries) => ({ tar: tar(entries), compression: 'gzip' as const }))],
        cmd: s.cmd ?? ['sh'],
        env: [PATH],
        config: s.config,
      });
      const name = `img${i}`;
      lay.tag(name, img.manifest as Desc);
      for (const ref of s.refs) {
        pushes.push({ name, dest: ref.slice(ref.indexOf('/') + 1) });
        refs.push(ref);
      }
    }
    // skopeo runs a few at a time: each is a process, and the registry takes them in parallel.
    for (let i = 0; i < pushes.length; i += 4) await Promise.all(pushes.slice(i, i + 4).map((p) => registry.push(layoutDir, p.name, p.dest)));
  } finally {
    fs.rmSync(layoutDir, { recursive: true, force: true });
  }
  for (const host of UPSTREAM_HOSTS) {
    fs.mkdirSync(path.join(certsDir, host), { recursive: true });
    fs.writeFileSync(
      path.join(certsDir, host, 'hosts.toml'),
      `# critest's stand-in images, served from a registry on loopback (test/helpers/critest-images.ts)\nserver = "https://${host}"\n\n[host."http://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
  return { refs, certsDir };
}
