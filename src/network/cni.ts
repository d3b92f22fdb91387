// Berth as a CNI runtime (spec 1.0.0): a network is a conflist, attaching a container runs each
// plugin's ADD in order with the previous plugin's result, detaching runs DEL in reverse with the
// cached ADD result. Plugins are executables found on the plugin path, given CNI_* variables and
// the plugin's configuration on stdin; they answer on stdout (a result, or an error object).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../core/errors.ts';
import { errnoText } from '../util/errno.ts';
import { DEFAULT_PATH } from '../util/paths.ts';

export const CNI_VERSION = '1.0.0';

/** Debian's containernetworking-plugins, then the upstream default. */
export const PLUGIN_DIRS = (process.env.BERTH_CNI_PATH ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean);

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

export interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: object;
}

/** What one attachment of one container to one network is called in CNI's terms. */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifname: string;
  /** Capability arguments (portMappings, ips, mac), handed only to plugins that declare them. */
  capabilityArgs: Record<string, unknown>;
  /** CNI_ARGS (`K=V;K=V`): what the kubelet's runtimes pass of the pod. */
  args?: string;
}

export function findPlugin(type: string, dirs = PLUGIN_DIRS): string {
  if (!/^[a-z0-9_-]+$/.test(type)) throw new BerthError('InvalidArgument', `invalid CNI plugin type "${type}"`);
  for (const d of dirs) {
    const p = path.join(d, type);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  throw new BerthError('FailedPrecondition', `CNI plugin "${type}" not found: install Debian's containernetworking-plugins (./setup.sh does)`);
}

/** The JSON a plugin reads on stdin: its own conf plus name, version, runtimeConfig and prevResult. */
export function pluginInput(list: NetConfList, plugin: PluginConf, rt: RuntimeConf, prevResult?: CniResult): object {
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) if (on && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
  return {
    ...plugin,
    cniVersion: list.cniVersion,
    name: list.name,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
}

function execPlugin(command: 'ADD' | 'DEL' | 'CHECK', list: NetConfList, plugin: PluginConf, rt: RuntimeConf, prevResult: CniResult | undefined, dirs: string[]): Promise<CniResult | undefined> {
  const bin = findPlugin(plugin.type, dirs);
  const env = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_PATH: dirs.join(':'),
    ...(rt.args ? { CNI_ARGS: rt.args } : {}),
    // Plugins run iptables, ip and sysctl by name.
    PATH: DEFAULT_PATH,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(pluginInput(list, plugin, rt, prevResult)));
    child.on('error', (e: NodeJS.ErrnoException) => reject(new BerthError('Unavailable', `CNI plugin ${plugin.type}: ${errnoText(e)}`)));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      let parsed: { code?: number; msg?: string; details?: string } & CniResult | undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      if (code === 0) return resolve(command === 'ADD' ? parsed : undefined);
      const msg = parsed?.msg ? `${parsed.msg}${parsed.details ? `: ${parsed.details}` : ''}` : (Buffer.concat(err).toString('utf8').trim() || text || `exit ${code}`);
      reject(new BerthError('Unavailable', `network ${list.name}: plugin ${plugin.type} ${command} failed: ${msg}`));
    });
  });
}

/** ADD through the chain; the last plugin's result is the attachment's result (to be cached for DEL). */
export async function cniAdd(list: NetConfList, rt: RuntimeConf, dirs = PLUGIN_DIRS): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const p of list.plugins) prev = (await execPlugin('ADD', list, p, rt, prev, dirs)) ?? prev;
  if (!prev) throw new BerthError('Internal', `network ${list.name}: the plugins returned no result`);
  return prev;
}

/**
 * DEL in reverse order with the cached result. Every plugin is asked even if one fails (each
 * frees its own things); the first failure is reported after all ran. DEL is idempotent by spec.
 */
export async function cniDel(list: NetConfList, rt: RuntimeConf, cached?: CniResult, dirs = PLUGIN_DIRS): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', list, p, rt, cached, dirs);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** CHECK: the plugins verify the attachment still matches the cached result. */
export async function cniCheck(list: NetConfList, rt: RuntimeConf, cached: CniResult, dirs = PLUGIN_DIRS): Promise<void> {
  for (const p of list.plugins) await execPlugin('CHECK', list, p, rt, cached, dirs);
}
