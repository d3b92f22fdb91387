// Every fuzz target, for the unit suite and scripts/fuzz.ts.
import { archive } from './archive.ts';
import { TARGETS, type Target } from './targets.ts';

export const ALL: Target<any>[] = [...TARGETS, archive];
