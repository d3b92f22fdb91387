// Template data as Go sees it. Our data is JSON-shaped; docker's is Go structs and maps, and some
// of what it prints depends on which: these rules say which JSON object plays which part.
//   undefined  Go's invalid value (a missing map key): prints "<no value>"
//   null       nil: prints "<nil>"
//   goStruct() a docker formatter context (ps, images...): a missing field is an error, functions
//              are methods (`.Label "k"`)
//   goMap()    a map with methods (docker's table header)
//   plain objects: a struct when all keys look like Go field names (inspect's State, Config), else
//              a map (Labels, Networks, Ports); a missing key in a struct is an error (as docker
//              reports after its raw-JSON fallback), in a map "<no value>".

const STRUCT = Symbol('go struct');
const CONTEXT = Symbol('docker formatter context');
const MAP = Symbol('go map');

type Obj = Record<string, unknown>;

/**
 * A Go struct. `formatterContext`: one of docker's formatter contexts, whose fields are all
 * methods (`.Names "x"` is a wrong argument count) and whose JSON comes from its own MarshalJSON
 * through json.Marshal, which escapes <, > and & ("Digest":"\u003cnone\u003e").
 */
export function goStruct<T extends object>(typeName: string, fields: T, opts: { formatterContext?: boolean } = {}): T {
  Object.defineProperty(fields, STRUCT, { value: typeName, enumerable: false });
  if (opts.formatterContext) Object.defineProperty(fields, CONTEXT, { value: true, enumerable: false });
  return fields;
}

export function isFormatterContext(v: Obj): boolean {
  return (v as { [CONTEXT]?: boolean })[CONTEXT] === true;
}

export function goMap<T extends object>(entries: T): T {
  Object.defineProperty(entries, MAP, { value: true, enumerable: false });
  return entries;
}

// JSON's null stands for docker's nil slices, nil maps and nil pointers alike, which Go prints
// differently ("[]", "map[]", "<nil>"). A null read from a field docker types as a slice or a
// map becomes one of these: empty and false as Go's nil slice and map are, but null in JSON.
const TYPED_NIL = Symbol('typed nil');
export const NIL_SLICE: readonly unknown[] = Object.freeze(Object.defineProperty([], TYPED_NIL, { value: true }));
export const NIL_MAP: Readonly<Obj> = Object.freeze(Object.defineProperty({}, TYPED_NIL, { value: true }));

export function isTypedNil(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { [TYPED_NIL]?: boolean })[TYPED_NIL] === true;
}

const SLICE_FIELDS = new Set([
  'Args', 'Aliases', 'Binds', 'BlkioDeviceReadBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteBps', 'BlkioDeviceWriteIOps', 'BlkioWeightDevice', 'CapAdd', 'CapDrop',
  'Cmd', 'DNSNames', 'DeviceCgroupRules', 'DeviceRequests', 'Devices', 'Dns', 'DnsOptions', 'DnsSearch', 'Entrypoint', 'Env', 'ExecIDs', 'ExtraHosts', 'GroupAdd',
  'Layers', 'Links', 'MaskedPaths', 'Mounts', 'OnBuild', 'ReadonlyPaths', 'RepoDigests', 'RepoTags', 'SecondaryIPAddresses', 'SecondaryIPv6Addresses', 'SecurityOpt',
  'Shell', 'Test', 'Ulimits', 'VolumesFrom',
]);
const MAP_FIELDS = new Set(['Config', 'Data', 'DriverOpts', 'ExposedPorts', 'Labels', 'Options', 'PortBindings', 'Ports', 'StorageOpt', 'Sysctls', 'Tmpfs', 'Volumes']);

// Fields docker types as maps even when their keys look like Go field names (a label "Vendor").
const MAP_VALUED = new Set(['Annotations', 'Attributes', 'Containers', 'Data', 'Details', 'DriverOpts', 'ExposedPorts', 'IndexConfigs', 'Labels', 'Networks',
  'Options', 'PortBindings', 'Ports', 'Runtimes', 'Status', 'StorageOpt', 'Sysctls', 'Tmpfs', 'Volumes']);

/**
 * Marks the maps in API data by where they sit (Config.Labels, NetworkSettings.Networks,
 * HostConfig.LogConfig.Config...), so that a map whose keys look like field names still prints,
 * sorts and misses keys as a map.
 */
export function markMaps(v: unknown, key = '', parent = ''): void {
  if (Array.isArray(v)) {
    for (const x of v) markMaps(x, '', key);
    return;
  }
  if (!isObject(v) || structType(v) !== undefined || isTypedNil(v)) return;
  if (MAP_VALUED.has(key) || (key === 'Config' && parent === 'LogConfig')) goMap(v);
  for (const [k, x] of Object.entries(v)) markMaps(x, k, key);
}

/** The typed nil docker's structs have for a null at this field, or null (a nil pointer). */
export function typedNil(field: string): unknown {
  return SLICE_FIELDS.has(field) ? NIL_SLICE : MAP_FIELDS.has(field) ? NIL_MAP : null;
}

/**
 * A float64 constant written in the template (1.5, 1e6, 3.0): Go keeps these apart from ints,
 * so {{1e6}} prints 1e+06 and {{eq .Pid 0.0}} is a type mismatch. (Numbers in the data are ints
 * when whole, as docker's integer fields are, else floats.)
 */
export class GoFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A number's value, float constant or not. */
export function numberOf(v: unknown): number | undefined {
  return typeof v === 'number' ? v : v instanceof GoFloat ? v.value : undefined;
}

export function isFloat(v: unknown): boolean {
  return v instanceof GoFloat || (typeof v === 'number' && !Number.isInteger(v));
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoFloat);
}

export function structType(v: Obj): string | undefined {
  return (v as { [STRUCT]?: string })[STRUCT];
}

/** Whether a missing key is an error (struct) or "<no value>" (map). */
export function isStructLike(v: Obj): boolean {
  if (structType(v) !== undefined) return true;
  if ((v as { [MAP]?: boolean })[MAP]) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^[A-Z][A-Za-z0-9_]*$/.test(k));
}

/** The keys fmt and json visit: a map's sorted, a struct's in declaration order. */
export function visitKeys(v: Obj): string[] {
  const keys = Object.keys(v).filter((k) => typeof v[k] !== 'function');
  return isStructLike(v) ? keys : keys.sort();
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Go's name for a value's type, as its error messages print it. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (v instanceof GoFloat) return 'float64';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') && v.length ? '[]string' : '[]interface {}';
  if (isObject(v)) return structType(v) ?? 'map[string]interface {}';
  return typeof v;
}

/** text/template's truth: zero values, nil and empty things are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return structType(v) !== undefined || isStructLike(v) || Object.keys(v).length > 0;
  return true;
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64) as fmt's %v uses it. */
export function formatFloat(f: number, exponentAt = 6): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = f.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= exponentAt) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(f);
}

/** fmt's %v: how Go prints a value with Print and in templates. */
export function formatValue(v: unknown, top = true): string {
  if (v === undefined) return top ? '<no value>' : '<nil>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  // A JSON integer was a Go int; anything else a float64, which %v prints in %g form.
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : formatFloat(v, 6);
  if (v instanceof GoFloat) return formatFloat(v.value, 6);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x, false)).join(' ')}]`;
  if (isObject(v)) {
    const keys = visitKeys(v);
    if (isStructLike(v) && structType(v) === undefined) return `{${keys.map((k) => formatValue(v[k], false)).join(' ')}}`;
    return `map[${keys.map((k) => `${k}:${formatValue(v[k], false)}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's encoding/json as docker's `json` function uses it: no HTML escaping, maps sorted. */
export function toJSON(v: unknown, html = false): string {
  if (v === undefined || v === null || typeof v === 'function' || isTypedNil(v)) return 'null';
  if (typeof v === 'string') {
    const s = JSON.stringify(v).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
    return html ? s.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : s;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : jsonFloat(v)) : 'null';
  if (v instanceof GoFloat) return Number.isFinite(v.value) ? jsonFloat(v.value) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => toJSON(x, html)).join(',')}]`;
  if (isObject(v)) {
    // A struct marshals its fields in their order (formatter contexts list theirs sorted, as
    // docker's MarshalJSON does), a map its keys sorted; methods are not data.
    const inner = html || isFormatterContext(v);
    return `{${visitKeys(v).map((k) => `${toJSON(k, inner)}:${toJSON(v[k], inner)}`).join(',')}}`;
  }
  return 'null';
}

/** encoding/json's float form: exponent only below 1e-6 or from 1e21, as "1e-07". */
function jsonFloat(f: number): string {
  const abs = Math.abs(f);
  if (abs < 1e-6 || abs >= 1e21) return formatFloat(f, 0).replace(/e([+-])0(\d)$/, 'e$1$2');
  return String(f);
}

/** Bytes of a string as Go counts them (len, slice, truncate work on UTF-8 bytes). */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}
