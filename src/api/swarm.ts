// Swarm mode and plugins, answered as a dockerd outside a swarm and without plugins answers
// (checked against dockerd 20.10): SDKs call `swarm leave` in their tear-downs and list plugins,
// and they read these exact statuses and messages. Berth runs one node and has no plugins.
import { BerthError, invalid, notFound } from '../core/errors.ts';
import { flag, readBody, readJson, type Call, type Router } from './http.ts';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

const unavailable = (msg: string) => new BerthError('Unavailable', msg);
const notManager = async (): Promise<never> => {
  throw unavailable(NOT_MANAGER);
};

/** dockerd checks an update's `version` query before it finds out it is not a manager. */
const versioned = (kind: string, exact?: string) => async (call: Call): Promise<never> => {
  const v = call.query.get('version') ?? '';
  if (!/^\d+$/.test(v)) throw invalid(exact ?? `invalid ${kind} version '${v}': strconv.ParseUint: parsing "${v}": invalid syntax`);
  return notManager();
};

/** Service and task logs check their streams first (dockerd answers that with a 500). */
const logs = async (call: Call): Promise<never> => {
  if (!flag(call.query, 'stdout') && !flag(call.query, 'stderr')) throw new BerthError('Internal', 'Bad parameters: you must choose at least one stream');
  return notManager();
};

/** init and join: a request without a listen address is refused as dockerd does; any other cannot make a swarm here. */
const joinOrInit = async (call: Call): Promise<never> => {
  const body = await readJson(call.req);
  if (!body.ListenAddr) throw invalid('invalid ListenAddr "": invalid empty address');
  throw unavailable('berth does not support swarm mode: this node cannot become part of a swarm');
};

export function swarmRoutes(r: Router): void {
  r.on('GET', '/swarm', notManager)
    .on('POST', '/swarm/init', joinOrInit)
    .on('POST', '/swarm/join', joinOrInit)
    .on('POST', '/swarm/leave', async () => {
      throw unavailable('This node is not part of a swarm');
    })
    .on('POST', '/swarm/update', versioned('swarm'))
    .on('GET', '/swarm/unlockkey', notManager)
    .on('POST', '/swarm/unlock', notManager);
  for (const kind of ['nodes', 'services', 'tasks', 'secrets', 'configs']) {
    r.on('GET', `/${kind}`, notManager).on('GET', `/${kind}/{id}`, notManager);
    if (kind !== 'tasks') r.on('DELETE', `/${kind}/{id}`, notManager);
  }
  r.on('POST', '/nodes/{id}/update', versioned('node'))
    .on('POST', '/services/create', notManager)
    .on('POST', '/services/{id}/update', versioned('service'))
    .on('GET', '/services/{id}/logs', logs)
    .on('GET', '/tasks/{id}/logs', logs)
    .on('POST', '/secrets/create', notManager)
    .on('POST', '/secrets/{id}/update', versioned('secret', 'invalid secret version'))
    .on('POST', '/configs/create', notManager)
    .on('POST', '/configs/{id}/update', versioned('config', 'invalid config version'));
}

export function pluginRoutes(r: Router): void {
  const missing = async (call: Call): Promise<never> => {
    throw notFound(`plugin "${call.params.name}" not found`);
  };
  const none = async () => ({ status: 200, body: [] });
  // Installing one needs a plugin runtime berth does not have.
  const install = async (call: Call): Promise<never> => {
    await readBody(call.req).catch(() => undefined);
    throw new BerthError('Unavailable', 'berth does not support plugins');
  };
  r.on('GET', '/plugins', none)
    .on('GET', '/plugins/privileges', none)
    .on('POST', '/plugins/pull', install)
    .on('POST', '/plugins/create', install)
    .on('GET', '/plugins/{name*}/json', missing)
    .on('POST', '/plugins/{name*}/enable', missing)
    .on('POST', '/plugins/{name*}/disable', missing)
    .on('POST', '/plugins/{name*}/upgrade', missing)
    .on('POST', '/plugins/{name*}/push', missing)
    .on('POST', '/plugins/{name*}/set', missing)
    .on('DELETE', '/plugins/{name*}', missing);
}
