// Every fuzz target, for the unit suite and scripts/fuzz.ts.
import { archive } from './archive.ts';
import { TARGETS, type Target } from './targets.ts';
import { TEXT_TARGETS } from './text.ts';

export const ALL: Target<any>[] = [...TARGETS, ...TEXT_TARGETS, archive];
