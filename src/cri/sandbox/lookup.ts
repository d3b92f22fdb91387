// Finding the CRI's pods and containers among the engine's containers, by their kind label.
import { isCode, notFound } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Container } from '../../engine/container/types.ts';
import { kindOf, sandboxOf, type Kind } from './meta.ts';

/** A pod's or container's engine container by id (or unique prefix); NotFound for anything else. */
export function findKind(engine: Engine, id: string, kind: Kind): Container {
  const what = kind === 'sandbox' ? 'sandbox' : 'container';
  if (!id) throw notFound(`${what} id must not be empty`);
  let c: Container;
  try {
    c = engine.containers.get(id);
  } catch (err) {
    if (isCode(err, 'NotFound')) throw notFound(`an error occurred when try to find ${what} "${id}": not found`, err);
    throw err;
  }
  if (kindOf(c.record) !== kind) throw notFound(`an error occurred when try to find ${what} "${id}": not found`);
  return c;
}

/** The same, undefined when it is gone (the idempotent calls). */
export function maybeKind(engine: Engine, id: string, kind: Kind): Container | undefined {
  try {
    return findKind(engine, id, kind);
  } catch (err) {
    if (isCode(err, 'NotFound')) return undefined;
    throw err;
  }
}

/** Every CRI object of a kind, as the engine's records say now (settled: dead runs are reaped). */
export function allOfKind(engine: Engine, kind: Kind): Container[] {
  return engine.containers.reconcile().filter((c) => kindOf(c.record) === kind);
}

export function podContainers(engine: Engine, sandboxId: string, all = allOfKind(engine, 'container')): Container[] {
  return all.filter((c) => sandboxOf(c.record) === sandboxId);
}
