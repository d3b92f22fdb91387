// Where berth's own files are. The code runs either from the source tree (src/**/*.ts) or from the
// single-file bundle setup builds of it (dist/berth.mjs, for start-up speed); either way the shim
// and the helper scripts started as processes (release-main.ts, dns-main.ts) are found in the tree.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when this code was loaded from the bundle (it sits in dist/, not in src/util/). */
export const BUNDLED = path.basename(here) === 'dist';
export const REPO = BUNDLED ? path.dirname(here) : path.resolve(here, '../..');
export const SRC = path.join(REPO, 'src');
/** The file this code runs from when bundled (its mtime dates the code, as src/'s do otherwise). */
export const BUNDLE_FILE = BUNDLED ? fileURLToPath(import.meta.url) : undefined;
/** Where `berth daemon` listens unless told otherwise, and where a `berth` that cannot use the state root looks for one. */
export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';
/** The search PATH a process gets when it has none of its own (a container, the network plugins, runc). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
