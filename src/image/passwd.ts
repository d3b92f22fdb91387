// Resolves docker's --user forms (uid, uid:gid, name, name:group, uid:group...) against the
// image's /etc/passwd and /etc/group. Pure: the caller supplies the files' text.
import { invalid } from '../core/errors.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[]; // supplementary groups from /etc/group
  home: string;
}

const ID = /^\d+$/;
const MAX_ID = 2 ** 31 - 1;

function rows(text: string | undefined): string[][] {
  if (!text) return [];
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** --group-add: a group name from the image's /etc/group, or a number. */
export function resolveGroup(name: string, group: string | undefined): number {
  if (ID.test(name)) return Number(name);
  const g = rows(group).find((r) => r[0] === name);
  if (!g) throw invalid(`Unable to find group ${name}: no matching entries in group file`);
  return Number(g[2]);
}

export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined): ResolvedUser {
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2);
  const users = rows(passwd);
  const groups = rows(group);
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const byName = users.find((u) => u[0] === userPart);
  const byId = ID.test(userPart) ? users.find((u) => u[2] === userPart) : undefined;
  const entry = byName ?? byId;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
    name = entry[0];
  } else if (ID.test(userPart)) {
    uid = Number(userPart);
  } else {
    throw invalid(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (!Number.isSafeInteger(uid) || uid > MAX_ID) throw invalid(`invalid user id: ${userPart}`);
  if (groupPart !== undefined) {
    const g = groups.find((r) => r[0] === groupPart);
    if (g) gid = Number(g[2]);
    else if (ID.test(groupPart)) gid = Number(groupPart);
    else throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
    if (!Number.isSafeInteger(gid) || gid > MAX_ID) throw invalid(`invalid group id: ${groupPart}`);
  }
  // The primary group is always a supplementary group too (what runc gives docker containers:
  // `id` prints groups=GID); the user's /etc/group memberships follow when the user was named
  // or found there and no explicit group was given.
  const member = groupPart === undefined && name
    ? groups.filter((r) => (r[3] ?? '').split(',').includes(name)).map((r) => Number(r[2]))
    : [];
  return { uid, gid, groups: [...new Set([gid, ...member])], home: uid === 0 && !entry ? '/root' : home };
}
