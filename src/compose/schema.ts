// The Compose Specification's file format as a JSON schema (draft-07, for ajv), written from the
// spec's text and its published schema: which keys exist and what each may hold. Values that
// interpolation may turn into strings ("${PORT}") accept strings where the spec does.
type S = Record<string, unknown>;

const str: S = { type: 'string' };
const bool: S = { type: ['boolean', 'string'] };
const int: S = { type: ['integer', 'string'] };
const numStr: S = { type: ['number', 'string'] };
const strList: S = { type: 'array', items: str };
const stringOrList: S = { oneOf: [str, strList] };
const listOrDict: S = {
  oneOf: [
    { type: 'object', patternProperties: { '.+': { type: ['string', 'number', 'boolean', 'null'] } }, additionalProperties: false },
    { type: 'array', items: str, uniqueItems: true },
  ],
};
const command: S = { oneOf: [{ type: 'null' }, str, strList] };
const X = { '^x-': {} };

/** An object with exactly these keys (plus x- extensions). */
const obj = (properties: S, extra: S = {}): S => ({ type: 'object', properties, additionalProperties: false, patternProperties: X, ...extra });

const healthcheck = obj({
  disable: bool, interval: str, retries: numStr, test: { oneOf: [str, strList] }, timeout: str, start_period: str, start_interval: str,
});

const resources = obj({
  cpus: numStr, memory: str, pids: int,
  devices: { type: 'array', items: obj({ capabilities: strList, count: int, device_ids: strList, driver: str, options: listOrDict }) },
  generic_resources: { type: 'array' },
});

const deploy: S = {
  ...obj({
    mode: str, endpoint_mode: str, replicas: int, labels: listOrDict,
    rollback_config: { type: 'object' }, update_config: { type: 'object' },
    resources: obj({ limits: resources, reservations: resources }),
    restart_policy: obj({ condition: str, delay: str, max_attempts: int, window: str }),
    placement: { type: 'object' },
  }),
  type: ['object', 'null'],
};

const port: S = {
  oneOf: [
    { type: 'number' },
    str,
    obj({ name: str, mode: str, host_ip: str, target: int, published: { type: ['string', 'integer'] }, protocol: str, app_protocol: str }),
  ],
};

const volumeMount: S = {
  oneOf: [
    str,
    obj(
      {
        type: { type: 'string', enum: ['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'] },
        source: str, target: str, read_only: bool, consistency: str,
        bind: obj({ propagation: str, create_host_path: bool, recursive: str, selinux: { type: 'string', enum: ['z', 'Z'] } }),
        volume: obj({ nocopy: bool, subpath: str }),
        tmpfs: obj({ size: { oneOf: [{ type: 'integer', minimum: 0 }, str] }, mode: numStr }),
        image: obj({ subpath: str }),
      },
      { required: ['type'] },
    ),
  ],
};

const fileRef: S = {
  type: 'array',
  items: { oneOf: [str, obj({ source: str, target: str, uid: str, gid: str, mode: numStr })] },
};

const develop = obj({
  watch: {
    type: 'array',
    items: {
      ...obj({
        path: str, action: { type: 'string', enum: ['rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'] }, target: str, ignore: stringOrList, include: stringOrList,
        initial_sync: bool, exec: obj({ command, user: str, privileged: bool, working_dir: str, environment: listOrDict }),
      }),
      required: ['path', 'action'],
    },
  },
});

const service: S = obj({
  develop, deploy, annotations: listOrDict, attach: bool,
  build: { oneOf: [str, { type: 'object' }] },
  blkio_config: { type: 'object' },
  cap_add: strList, cap_drop: strList, cgroup: str, cgroup_parent: str, command, configs: fileRef, container_name: str,
  cpu_count: int, cpu_percent: int, cpu_shares: numStr, cpu_quota: numStr, cpu_period: numStr, cpu_rt_period: numStr, cpu_rt_runtime: numStr,
  cpus: numStr, cpuset: str, credential_spec: { type: 'object' },
  depends_on: {
    oneOf: [
      strList,
      {
        type: 'object', additionalProperties: false,
        patternProperties: { '^[a-zA-Z0-9._-]+$': obj({ restart: bool, required: { type: 'boolean' }, condition: { type: 'string', enum: ['service_started', 'service_healthy', 'service_completed_successfully'] } }, { required: ['condition'] }) },
      },
    ],
  },
  device_cgroup_rules: strList,
  devices: { type: 'array', items: { oneOf: [str, obj({ source: str, target: str, permissions: str }, { required: ['source'] })] } },
  dns: stringOrList, dns_opt: strList, dns_search: stringOrList, domainname: str, entrypoint: command,
  env_file: { oneOf: [str, { type: 'array', items: { oneOf: [str, { type: 'object', additionalProperties: false, properties: { path: str, format: str, required: bool }, required: ['path'] }] } }] },
  label_file: stringOrList,
  environment: listOrDict, expose: { type: 'array', items: { type: ['string', 'number'] } },
  extends: { oneOf: [str, { type: 'object', properties: { service: str, file: str }, required: ['service'], additionalProperties: false }] },
  provider: { type: 'object' }, external_links: strList,
  extra_hosts: { oneOf: [{ type: 'object', patternProperties: { '.+': { oneOf: [str, strList] } }, additionalProperties: false }, strList] },
  gpus: {}, group_add: { type: 'array', items: { type: ['string', 'number'] } },
  healthcheck, hostname: str, image: str, init: bool, ipc: str, isolation: str, labels: listOrDict, links: strList,
  logging: obj({ driver: str, options: { type: 'object', patternProperties: { '^.+$': { type: ['string', 'number', 'null'] } } } }),
  mac_address: str, mem_limit: numStr, mem_reservation: int, mem_swappiness: int, memswap_limit: numStr,
  network_mode: str, models: {},
  networks: {
    oneOf: [
      strList,
      {
        type: 'object', additionalProperties: false,
        patternProperties: {
          '^[a-zA-Z0-9._-]+$': {
            oneOf: [
              obj({ aliases: strList, interface_name: str, ipv4_address: str, ipv6_address: str, link_local_ips: strList, mac_address: str, driver_opts: { type: 'object' }, priority: { type: 'number' }, gw_priority: { type: 'number' } }),
              { type: 'null' },
            ],
          },
        },
      },
    ],
  },
  oom_kill_disable: bool, oom_score_adj: int, pid: { type: ['string', 'null'] }, pids_limit: numStr, platform: str,
  ports: { type: 'array', items: port },
  post_start: { type: 'array' }, pre_stop: { type: 'array' },
  privileged: bool, profiles: strList, pull_policy: str, pull_refresh_after: str, read_only: bool, restart: str, runtime: str,
  scale: int, security_opt: strList, shm_size: numStr, secrets: fileRef, sysctls: listOrDict, stdin_open: bool,
  stop_grace_period: str, stop_signal: str, storage_opt: { type: 'object' }, tmpfs: stringOrList, tty: bool,
  ulimits: {
    type: 'object',
    patternProperties: { '^[a-z]+$': { oneOf: [int, obj({ hard: int, soft: int }, { required: ['soft', 'hard'] })] } },
  },
  use_api_socket: { type: 'boolean' }, user: str, uts: str, userns_mode: str, volumes: { type: 'array', items: volumeMount },
  volumes_from: strList, working_dir: str,
});

const external: S = { type: ['boolean', 'string', 'object'] };
const network: S = {
  ...obj({
    name: str, driver: str, driver_opts: { type: 'object' },
    ipam: obj({ driver: str, config: { type: 'array', items: obj({ subnet: str, ip_range: str, gateway: str, aux_addresses: { type: 'object' } }) }, options: { type: 'object' } }),
    external, internal: bool, enable_ipv4: bool, enable_ipv6: bool, attachable: bool, labels: listOrDict,
  }),
  type: ['object', 'null'],
};
const volume: S = { ...obj({ name: str, driver: str, driver_opts: { type: 'object' }, external, labels: listOrDict }), type: ['object', 'null'] };
const secretOrConfig: S = obj({ name: str, content: str, environment: str, file: str, external, labels: listOrDict, driver: str, driver_opts: { type: 'object' }, template_driver: str });

const named = (schema: S): S => ({ type: 'object', patternProperties: { '^[a-zA-Z0-9._-]+$': schema }, additionalProperties: false });

export const COMPOSE_SCHEMA: S = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  ...obj({
    version: str,
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    include: { type: 'array', items: { oneOf: [str, obj({ path: stringOrList, env_file: stringOrList, project_directory: str })] } },
    services: named(service),
    models: { type: 'object' },
    networks: named(network),
    volumes: named(volume),
    secrets: named(secretOrConfig),
    configs: named(secretOrConfig),
  }),
};
