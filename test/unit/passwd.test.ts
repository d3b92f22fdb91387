import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveUser } from '../../src/image/passwd.ts';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:u:/home/user:/bin/sh\n';
const group = 'root:x:0:\nstaff:x:50:user,other\nuser:x:1000:\nwheel:x:10:user\n';

test('--user forms resolve like docker', () => {
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, groups: [0], home: '/root' });
  assert.deepEqual(resolveUser('user', passwd, group), { uid: 1000, gid: 1000, groups: [1000, 50, 10], home: '/home/user' });
  assert.deepEqual(resolveUser('1000', passwd, group), { uid: 1000, gid: 1000, groups: [1000, 50, 10], home: '/home/user' });
  assert.deepEqual(resolveUser('1000:1000', passwd, group), { uid: 1000, gid: 1000, groups: [1000], home: '/home/user' });
  assert.deepEqual(resolveUser('user:staff', passwd, group), { uid: 1000, gid: 50, groups: [50], home: '/home/user' });
  assert.deepEqual(resolveUser('4242:4343', passwd, group), { uid: 4242, gid: 4343, groups: [4343], home: '/' });
  assert.deepEqual(resolveUser('4242', undefined, undefined), { uid: 4242, gid: 0, groups: [0], home: '/' });
});

test('unknown names are clear errors', () => {
  assert.throws(() => resolveUser('nobody', passwd, group), /unable to find user nobody/);
  assert.throws(() => resolveUser('user:nogroup', passwd, group), /unable to find group nogroup/);
  assert.throws(() => resolveUser('99999999999', passwd, group), /invalid user id/);
});
