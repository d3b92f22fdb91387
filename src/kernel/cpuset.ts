// cpuset lists ("0-3,5"): what HostConfig.CpusetCpus and CpusetMems hold, checked as dockerd
// checks them (format, the 8192 bound that keeps "0-9223372036854775807" from allocating
// anything (CVE-2018-20699), then against the CPUs and memory nodes this host has online).
import * as fs from 'node:fs';
import { invalid } from '../core/errors.ts';

const MAX = 8192;

/** The ids of a cpuset list, or an error message saying what is wrong with it (dockerd's words). */
export function parseCpuset(list: string): Set<number> | string {
  const ids = new Set<number>();
  if (list === '') return ids;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `invalid format: ${list}`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return `invalid range format: ${part}`;
    if (hi >= MAX) return `value of out range, maximum is ${MAX}`; // sic: dockerd's message
    for (let i = lo; i <= hi; i++) ids.add(i);
  }
  return ids;
}

/** Throws InvalidArgument (dockerd's message) unless every id of `list` is online on this host. */
export function checkCpuset(list: string | undefined, kind: 'cpus' | 'mems', online = onlineList(kind)): void {
  if (!list) return;
  const ids = parseCpuset(list);
  if (typeof ids === 'string') throw invalid(`Invalid value ${list} for cpuset ${kind}: ${ids}`);
  const have = parseCpuset(online);
  const missing = typeof have === 'string' ? [] : [...ids].filter((i) => !have.has(i));
  if (missing.length) {
    throw invalid(kind === 'cpus'
      ? `Requested CPUs are not available - requested ${list}, available: ${online}`
      : `Requested memory nodes are not available - requested ${list}, available: ${online}`);
  }
}

function onlineList(kind: 'cpus' | 'mems'): string {
  try {
    return fs.readFileSync(kind === 'cpus' ? '/sys/devices/system/cpu/online' : '/sys/devices/system/node/online', 'utf8').trim();
  } catch {
    return '0'; // no NUMA information: one node
  }
}
