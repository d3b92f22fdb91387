// What each listing command's --format sees: docker's formatter contexts (cli/command/formatter),
// field for field, with their table headers and default formats. Values are computed here, so
// a template reads the same strings docker's methods return.
import { goQuote } from './template/printf.ts';
import { humanSize, since as sinceTime } from './format.ts';
import { goStruct, validateFormat, type ListSpec } from './template.ts';

/** A formatter context: docker marshals one (`{{json .}}`) through a map with json.Marshal, so its keys sorted and HTML escaped. */
function context(typeName: string, fields: Record<string, unknown>): object {
  const keys = Object.keys(fields);
  if (keys.every((k, i) => i === 0 || keys[i - 1] < k)) return goStruct(typeName, fields, { formatterContext: true });
  // Moved by descriptor: a field given as a getter is computed only if a format reads it.
  const descriptors = Object.getOwnPropertyDescriptors(fields);
  const sorted = {};
  for (const k of Object.keys(descriptors).sort()) Object.defineProperty(sorted, k, descriptors[k]);
  return goStruct(typeName, sorted, { formatterContext: true });
}

/**
 * Go's time.Time.String(): "2026-12-07 16:03:18 +0000 UTC", in the local zone for a time docker
 * makes from Unix seconds, in UTC for one it decodes from the API's JSON (`utc`).
 */
export function goTime(iso: string, opts: { nanos?: boolean; utc?: boolean } = {}): string {
  let ms = Date.parse(iso);
  if (Number.isNaN(ms)) ms = Date.parse('0001-01-01T00:00:00Z');
  const d = new Date(ms);
  const utc = opts.utc === true || d.getUTCFullYear() < 1900; // no zone rules that far back
  const off = utc ? 0 : -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const zone = utc ? 'UTC' : zoneName(d, off);
  // Nanoseconds as Go prints them: only when there are any, trailing zeros dropped.
  const frac = opts.nanos ? (/\.(\d+)/.exec(iso)?.[1] ?? '').replace(/0+$/, '') : '';
  const date = `${p(local.getUTCFullYear(), 4)}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}`;
  const time = `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${frac ? `.${frac}` : ''}`;
  return `${date} ${time} ${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)} ${zone === 'GMT' && off === 0 ? 'UTC' : zone}`;
}

// Making an Intl.DateTimeFormat costs ~0.15 ms: once per process, and one name per offset (in
// one time zone an offset says standard or daylight time), not once per row of a listing.
let zoneFormat: Intl.DateTimeFormat | undefined;
const zoneNames = new Map<number, string>();
function zoneName(d: Date, off: number): string {
  let name = zoneNames.get(off);
  if (name === undefined) {
    zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
    name = zoneFormat.formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
    zoneNames.set(off, name);
  }
  return name;
}

/** docker's formatter.Ellipsis: at most n runes, the last one "…" when cut. */
export function ellipsis(s: string, n: number): string {
  if (s.length <= n) return s; // never more runes than UTF-16 units
  const runes = [...s];
  return runes.length <= n ? s : runes.slice(0, n - 1).join('') + '…';
}

/** "a=b,c=d", sorted, as docker's Labels() columns join them. */
export function joinLabels(labels: Record<string, string> | null | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
}

const label = (labels: Record<string, string> | null | undefined) => (name: string) => labels?.[name] ?? '';

export const CONTAINER_LIST: ListSpec = {
  table: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {
    ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
    State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Platform: 'PLATFORM',
  },
  quietOverrides: true,
  raw: {
    format: 'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n',
    quiet: 'container_id: {{.ID}}',
  },
};

export interface ContainerRow {
  id: string;
  names: string[];
  image: string;
  command: string;
  created: string; // ISO
  runningFor: string;
  ports: string;
  state: string;
  status: string;
  size?: string;
  labels: Record<string, string>;
  mounts: { name: string; driver?: string }[];
  networks: string[];
}

/** What docker's ps checks a format against: a context with no container behind it. */
const EMPTY_CONTAINER: ContainerRow = {
  id: '', names: [], image: '', command: '', created: '1970-01-01T00:00:00Z', runningFor: '', ports: '', state: '', status: '', labels: {}, mounts: [], networks: [],
};

/**
 * docker ps's check of the format as typed ("table " and "\\t" included), on an empty context,
 * with its own messages and positions in that text. Returns whether the format reads .Size,
 * which makes docker compute sizes.
 */
export function checkContainerFormat(format: string): boolean {
  let used = false;
  const probe = containerContext(EMPTY_CONTAINER, true);
  Object.defineProperty(probe, 'Size', { enumerable: true, get: () => ((used = true), '0B') });
  validateFormat(format, probe);
  return used;
}

export function containerContext(c: ContainerRow, trunc: boolean): object {
  // Fields in sorted order already (context() then keeps the object as it is: ps makes 1,000).
  return context('*formatter.ContainerContext', {
    Command: goQuote(trunc ? ellipsis(c.command, 20) : c.command),
    // ps's default table does not show it, and a time zone's name costs ICU's start-up.
    get CreatedAt() {
      return goTime(c.created);
    },
    ID: c.id,
    Image: c.image || '<no image>',
    Label: label(c.labels),
    // Getters: the columns the default table does not show are made only when a format reads them.
    get Labels() {
      return joinLabels(c.labels);
    },
    get LocalVolumes() {
      return String(c.mounts.filter((m) => m.driver === 'local').length);
    },
    get Mounts() {
      return c.mounts.map((m) => (trunc ? ellipsis(m.name, 15) : m.name)).join(',');
    },
    Names: trunc ? c.names[0] ?? '' : c.names.join(','),
    get Networks() {
      return c.networks.join(',');
    },
    Platform: null,
    Ports: c.ports,
    RunningFor: c.runningFor,
    Size: c.size ?? '0B',
    State: c.state,
    Status: c.status,
  });
}

/** docker compose v2's ps row: docker's container context (less Platform) and compose's own fields. */
export function composeContainerContext(c: ContainerRow, trunc: boolean, extra: { Name: string; Project: string; Service: string; Health: string; ExitCode: number; Publishers: object[] }): object {
  const { Platform: _p, ...base } = containerContext(c, trunc) as Record<string, unknown>;
  return context('*formatter.ContainerContext', { ...base, ...extra });
}

export const IMAGE_LIST: ListSpec = {
  table: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}',
  headers: {
    ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE',
    Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
  },
  raw: {
    format: 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n',
    quiet: 'image_id: {{.ID}}',
  },
};
export const IMAGE_TABLE_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** An image row; the usage columns are N/A unless known (system df -v knows them). */
export function imageContext(
  row: { Repository: string; Tag: string; Digest: string; ID: string; CreatedSince: string; CreatedAt: string; Size: string; VirtualSize: string },
  usage: { Containers: string; SharedSize: string; UniqueSize: string } = { Containers: 'N/A', SharedSize: 'N/A', UniqueSize: 'N/A' },
): object {
  return context('*formatter.imageContext', { ...row, CreatedAt: goTime(row.CreatedAt), ...usage });
}

export const VOLUME_LIST: ListSpec = {
  table: 'table {{.Driver}}\t{{.Name}}',
  quiet: '{{.Name}}',
  headers: {
    ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY', Mountpoint: 'MOUNTPOINT',
    Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS',
  },
  raw: { format: 'name: {{.Name}}\\ndriver: {{.Driver}}\\n', quiet: 'name: {{.Name}}' },
};

export function volumeContext(v: { Name: string; Driver: string; Scope: string; Mountpoint: string; Labels: Record<string, string> | null }, usage?: { links: number; size: string }): object {
  return context('*formatter.volumeContext', {
    Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, Labels: joinLabels(v.Labels), Label: label(v.Labels),
    Links: usage ? String(usage.links) : 'N/A', Size: usage?.size ?? 'N/A', Group: 'N/A', Availability: 'N/A', Status: 'N/A',
  });
}

export const NETWORK_LIST: ListSpec = {
  table: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  headers: {
    ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
  },
  raw: { format: 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n', quiet: 'network_id: {{.ID}}' },
};

export function networkContext(n: { Id: string; Name: string; Driver: string; Created: string; Labels: Record<string, string> | null; Internal?: boolean; EnableIPv6?: boolean }, trunc: boolean): object {
  return context('*network.networkContext', {
    ID: trunc ? n.Id.slice(0, 12) : n.Id, Name: n.Name, Driver: n.Driver, Scope: 'local', IPv4: String(n.Driver === 'bridge'), IPv6: String(n.EnableIPv6 === true),
    Internal: String(n.Internal === true), Labels: joinLabels(n.Labels), Label: label(n.Labels), CreatedAt: goTime(n.Created, { nanos: true, utc: true }),
  });
}

export const HISTORY_LIST: ListSpec = {
  table: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
  headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
};
export const HISTORY_TABLE_NOT_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

/** Go's time.Unix(s, 0).Format(time.RFC3339) in the local zone ("Z" when it is UTC). */
export function goRFC3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  const p = (n: number) => String(n).padStart(2, '0');
  return local + (off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`);
}

/** docker history's historyContext; sizes and dates human unless -H=false. */
export function historyContext(h: { id: string; created: number; createdBy: string; size: number; comment: string }, opts: { trunc: boolean; human: boolean }): object {
  const createdAt = goRFC3339(h.created);
  const createdBy = h.createdBy.replace(/\t/g, ' ');
  // Dates before 2000 are not real build times (docker's epoch test).
  const since = h.created <= 946684800 ? 'N/A' : sinceTime(new Date(h.created * 1000).toISOString());
  return context('*image.historyContext', {
    ID: opts.trunc && h.id.startsWith('sha256:') ? h.id.slice(7, 19) : h.id,
    CreatedAt: createdAt,
    CreatedSince: opts.human ? since : createdAt,
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    Size: opts.human ? humanSize(h.size) : String(h.size),
    Comment: h.comment,
  });
}

export const STATS_LIST: ListSpec = {
  table: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  headers: {
    Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
  },
};

export const statsContext = (row: Record<string, unknown>) => context('*container.statsContext', row);

export const DF_SUMMARY: ListSpec = {
  table: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
  headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
};

const DF_TYPES: Record<string, string> = { Images: 'Images', Containers: 'Containers', 'Local Volumes': 'Volumes', 'Build Cache': 'Builder' };
export const dfContext = (row: { Type: string }) => context(`*formatter.diskUsage${DF_TYPES[row.Type] ?? ''}Context`, row);
