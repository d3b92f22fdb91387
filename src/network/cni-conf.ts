// The pod network's configuration, found as containerd's CRI finds it: the files of the conf
// directory ending in .conflist, .conf or .json, in file name order; the first that parses is the
// network (a .conf or .json holding one plugin is a list of one). The kubelet shows why there is
// none (status), so every file passed over says why.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPlugin, type NetConfList, type PluginConf } from './cni.ts';

export const CONF_EXTENSIONS = ['.conflist', '.conf', '.json'];

export type ConfChoice = { list: NetConfList; file: string } | { list?: undefined; message: string };

/** A conf file's text as a list, or why it is not one. Pure. */
export function parseConf(name: string, text: string): NetConfList | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `${name}: not JSON (${(e as Error).message})`;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return `${name}: not a JSON object`;
  const o = raw as Record<string, unknown>;
  const version = typeof o.cniVersion === 'string' ? o.cniVersion : '';
  if (typeof o.name !== 'string' || !o.name) return `${name}: no network name`;
  if (name.endsWith('.conflist')) {
    if (!Array.isArray(o.plugins) || !o.plugins.length) return `${name}: no plugins`;
    for (const p of o.plugins as unknown[]) {
      if (!p || typeof p !== 'object' || typeof (p as PluginConf).type !== 'string' || !(p as PluginConf).type) return `${name}: a plugin has no type`;
    }
    return { cniVersion: version, name: o.name, plugins: o.plugins as PluginConf[] };
  }
  // One plugin: its own keys (but the list's) become the list's only plugin.
  if (typeof o.type !== 'string' || !o.type) return `${name}: no plugin type`;
  const { cniVersion: _v, name: _n, ...plugin } = o;
  return { cniVersion: version, name: o.name, plugins: [plugin as PluginConf] };
}

/**
 * The first usable configuration of the given files (name -> text, or undefined when it could
 * not be read). Pure: the caller lists and reads the directory.
 */
export function chooseConf(dir: string, files: Array<[name: string, text: string | undefined]>): ConfChoice {
  const why: string[] = [];
  const names = files.filter(([n]) => CONF_EXTENSIONS.some((e) => n.endsWith(e))).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, text] of names) {
    if (text === undefined) {
      why.push(`${name}: cannot be read`);
      continue;
    }
    const parsed = parseConf(name, text);
    if (typeof parsed === 'string') why.push(parsed);
    else return { list: parsed, file: path.join(dir, name) };
  }
  // containerd's words first: what the kubelet's users search for.
  return { message: `Network plugin returns error: cni plugin not initialized: no valid network config found in ${dir}${why.length ? ` (${why.join('; ')})` : ''}` };
}

/** chooseConf over the directory as it is now, and the plugins it names found in binDirs. */
export function loadConf(dir: string, binDirs: string[]): ConfChoice {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    names = [];
  }
  const read = (n: string) => {
    try {
      return fs.readFileSync(path.join(dir, n), 'utf8');
    } catch {
      return undefined;
    }
  };
  const choice = chooseConf(dir, names.map((n) => [n, CONF_EXTENSIONS.some((e) => n.endsWith(e)) ? read(n) : undefined]));
  if (!choice.list) return choice;
  for (const p of choice.list.plugins) {
    try {
      findPlugin(p.type, binDirs);
    } catch (e) {
      return { message: `network ${choice.list.name} (${choice.file}): ${(e as Error).message}` };
    }
  }
  return choice;
}
