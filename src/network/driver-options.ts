// The bridge driver's options (docker's `network create -o`, the API's Options): checked as
// dockerd parses them (its messages), and what berth honours. A value berth cannot honour is
// refused rather than recorded and ignored: enable_icc=false, for one, is an isolation a user
// relies on.
import { invalid } from '../core/errors.ts';

const MTU = 'com.docker.network.driver.mtu';
const ICC = 'com.docker.network.bridge.enable_icc';
const MASQ = 'com.docker.network.bridge.enable_ip_masquerade';
const HOST_IP = 'com.docker.network.bridge.host_binding_ipv4';
const BRIDGE = 'com.docker.network.bridge.name';

function parseBool(key: string, v: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  throw invalid(`failed to parse ${key} value: ${v} (strconv.ParseBool: parsing "${v}": invalid syntax)`);
}

/** The MTU the options ask for (0: the default), after checking every option berth knows. */
export function checkDriverOptions(opts: Record<string, string>): { mtu: number } {
  let mtu = 0;
  for (const [key, v] of Object.entries(opts)) {
    if (key === MTU) {
      if (!/^[+-]?\d+$/.test(v)) throw invalid(`failed to parse ${MTU} value: ${v} (strconv.Atoi: parsing "${v}": invalid syntax)`);
      mtu = Number(v);
      if (mtu !== 0 && (mtu < 68 || mtu > 65535)) throw invalid(`invalid MTU number: ${mtu}`);
    } else if (key === ICC) {
      if (!parseBool(key, v)) throw invalid(`${ICC}=false is not supported by berth: containers on a network can always reach each other`);
    } else if (key === MASQ) {
      if (!parseBool(key, v)) throw invalid(`${MASQ}=false is not supported by berth: use --internal for a network without outbound traffic`);
    } else if (key === HOST_IP) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split('.').some((x) => Number(x) > 255)) throw invalid(`failed to parse ${HOST_IP} value: ${v} (nil ip)`);
      if (v !== '0.0.0.0') throw invalid(`${HOST_IP}=${v} is not supported by berth: give the address with each published port (-p ${v}:PORT:PORT)`);
    } else if (key === BRIDGE) {
      throw invalid(`${BRIDGE} is not supported by berth: it names each network's bridge itself (berthb and the network's id)`);
    }
  }
  return { mtu };
}
