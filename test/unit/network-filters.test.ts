import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkMatcher, type NetworkView } from '../../src/engine/network-filters.ts';

const nets: NetworkView[] = [
  { Name: 'bridge', Id: 'aa11', Driver: 'bridge', Scope: 'local', Labels: {}, Containers: { c1: {} } },
  { Name: 'host', Id: 'host0', Driver: 'host', Scope: 'local', Labels: {} },
  { Name: 'app-front', Id: 'bb22', Driver: 'bridge', Scope: 'local', Labels: { tier: 'front', team: 'x' }, Containers: {} },
  { Name: 'app-back', Id: 'cc33', Driver: 'bridge', Scope: 'local', Labels: { tier: 'back' }, Containers: { c2: {} } },
];
const names = (f: Record<string, string[]>) => nets.filter(networkMatcher(new Map(Object.entries(f)))).map((n) => n.Name);

test('network filters: values of a key are ORed, keys ANDed, labels all required', () => {
  assert.deepEqual(names({}), ['bridge', 'host', 'app-front', 'app-back']);
  assert.deepEqual(names({ name: ['front', 'back'] }), ['app-front', 'app-back']);
  assert.deepEqual(names({ id: ['bb'] }), ['app-front']);
  assert.deepEqual(names({ label: ['tier'] }), ['app-front', 'app-back']);
  assert.deepEqual(names({ label: ['tier=front', 'team=x'] }), ['app-front']);
  assert.deepEqual(names({ label: ['tier=back', 'team=x'] }), []);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host']);
  assert.deepEqual(names({ type: ['custom'], driver: ['bridge'] }), ['app-front', 'app-back']);
  assert.deepEqual(names({ dangling: ['true'] }), ['app-front']);
  assert.deepEqual(names({ dangling: ['false'] }), ['bridge', 'host', 'app-back']);
});

test('network filters: unknown keys and bad values are refused', () => {
  assert.throws(() => networkMatcher(new Map([['colour', ['red']]])), /invalid filter 'colour'/);
  assert.throws(() => networkMatcher(new Map([['type', ['other']]])), /invalid filter/);
  assert.throws(() => networkMatcher(new Map([['dangling', ['maybe']]])), /invalid filter/);
});
