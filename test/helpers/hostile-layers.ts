// Hostile layer tars (path traversal, symlink and hardlink escapes, malformed whiteouts, broken
// archives) and the error each must get: shared by both ways of unpacking a layer.
import * as os from 'node:os';
import * as path from 'node:path';
import { entry, type TEntry } from './tarwriter.ts';

export const CANARY = path.join(os.tmpdir(), `berth-canary-${process.pid}`);

export const hostile: [string, (TEntry | Buffer)[] | ((sentinel: string, base: string) => (TEntry | Buffer)[]), RegExp][] = [
  ['../x', [{ path: '../x', body: 'evil' }], /entry "\.\.\/x" escapes the layer/],
  ['/abs/../../x', [{ path: '/abs/../../x', body: 'evil' }], /entry "\/abs\/\.\.\/\.\.\/x" escapes the layer/],
  ['a/../../x', [{ path: 'a/', type: '5' }, { path: 'a/../../x', body: 'evil' }], /escapes the layer/],
  ['../sentinel/passwd', [{ path: '../sentinel/passwd', body: 'evil' }], /escapes the layer/],
  ['dir ..', [{ path: '..', type: '5', mode: 0o777 }], /escapes the layer/],
  ['symlink to an absolute dir, then a file through it', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'link/file', body: 'evil' }], /path through symlink "link"/],
  ['symlink to /tmp/outside, then a file through it', [{ path: 'link', type: '2', linkname: '/tmp/outside' }, { path: 'link/file', body: 'evil' }], /path through symlink/],
  ['symlink ../../.., then a file through it', (_s, base) => [{ path: 'link', type: '2', linkname: '../../..' }, { path: `link${base}/sentinel/passwd`, body: 'evil' }], /path through symlink "link"/],
  // The brief's link/etc/passwd, aimed at a canary: a bug here must not cost the host its /etc/passwd.
  ['symlink ../../.., then a host path through it', [{ path: 'link', type: '2', linkname: '../../..' }, { path: `link${CANARY}`, body: 'evil' }], /path through symlink/],
  ['symlink, then a directory through it', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'link/new/', type: '5' }], /path through symlink/],
  ['symlink, then an opaque marker through it', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'link/.wh..wh..opq' }], /path through symlink/],
  ['symlink, then a whiteout through it', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'link/.wh.passwd' }], /path through symlink/],
  ['symlink, then a device through it', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'link/null', type: '3' }], /path through symlink/],
  ['hardlink to ../../etc/passwd', [{ path: 'h', type: '1', linkname: '../../etc/passwd' }], /hardlink "h" to "\.\.\/\.\.\/etc\/passwd" escapes the layer/],
  ['hardlink to ../sentinel/passwd', [{ path: 'h', type: '1', linkname: '../sentinel/passwd' }], /escapes the layer/],
  ['hardlink to /etc/passwd, not in the layer', [{ path: 'h', type: '1', linkname: '/etc/passwd' }], /"etc" does not exist in the layer/],
  ['hardlink to an absolute host path, not in the layer', (s) => [{ path: 'h', type: '1', linkname: path.join(s, 'passwd') }], /does not exist in the layer/],
  ['hardlink through a symlink', (s) => [{ path: 'link', type: '2', linkname: s }, { path: 'h', type: '1', linkname: 'link/passwd' }], /entry "h" is a path through symlink "link"/],
  ['hardlink through a symlink to a dir', [{ path: 'link', type: '2', linkname: '../../..' }, { path: 'h', type: '1', linkname: 'link/etc/passwd' }], /path through symlink/],
  ['hardlink to a directory', [{ path: 'd/', type: '5' }, { path: 'h', type: '1', linkname: 'd' }], /not a file in the layer/],
  ['hardlink to nothing', [{ path: 'h', type: '1', linkname: 'missing' }], /not a file in the layer/],
  ['.wh..', [{ path: '.wh..' }], /malformed whiteout/],
  ['.wh...', [{ path: '.wh...' }], /malformed whiteout/],
  ['etc/.wh..', [{ path: 'etc/.wh..' }], /entry "etc\/\.wh\.\." is a malformed whiteout/],
  ['.wh. (empty name)', [{ path: 'etc/.wh.' }], /malformed whiteout/],
  ['whiteout name with a slash', [{ path: '.wh.etc/passwd' }], /inside a whiteout/],
  ['NUL in a name', [{ path: 'x', pax: { path: 'a\0b' } }], /invalid name/],
  ['file replacing the root', [{ path: '.', body: 'x' }], /replace the layer root/],
  ['file under a file', [{ path: 'f', body: 'x' }, { path: 'f/g', body: 'y' }], /"f" is not a directory/],
  ['truncated archive', [entry({ path: 'a', body: 'x'.repeat(1000) }).subarray(0, 1024)], /truncated tar/],
  ['bad checksum', [(() => { const b = entry({ path: 'a', body: 'x' }); b[0] = 0x62; return b; })()], /checksum/],
];

