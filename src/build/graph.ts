// Which stages a build needs and in which order they depend on each other: the target (the last
// stage unless --target), and every stage it names in FROM, COPY --from or RUN --mount from=,
// transitively. Pure. A name that is no stage is an image reference.
import { invalid } from '../core/errors.ts';
import type { Dockerfile, Stage } from './types.ts';

/** The stage a reference names (`AS` name, case-insensitive, or an index), if any. */
export function stageRef(df: Dockerfile, ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = df.stages.find((s) => s.from.name === lower && s.index < before);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i >= before) throw invalid(`invalid stage index ${ref}: a stage can only use stages before it`);
    return df.stages[i];
  }
  return undefined;
}

/** The stage references (raw words) a stage's instructions make. */
export function referencesOf(stage: Stage): string[] {
  const out: string[] = [stage.from.image];
  for (const ins of stage.instructions) {
    if ((ins.kind === 'COPY' || ins.kind === 'ADD') && ins.from) out.push(ins.from);
    if (ins.kind === 'RUN') for (const m of ins.mounts) if (m.from) out.push(m.from);
  }
  return out;
}

export function targetStage(df: Dockerfile, target?: string): Stage {
  if (!df.stages.length) throw invalid('the Dockerfile has no FROM: nothing to build');
  if (target === undefined || target === '') return df.stages[df.stages.length - 1];
  const s = df.stages.find((x) => x.from.name === target.toLowerCase());
  if (!s) throw invalid(`failed to reach build target ${target} in Dockerfile`);
  return s;
}

/** The stages the target needs, in Dockerfile order (the target last). `expand` resolves variables in references. */
export function neededStages(df: Dockerfile, target: Stage, expand: (raw: string) => string): Stage[] {
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    for (const ref of referencesOf(s)) {
      const dep = stageRef(df, expand(ref), s.index);
      if (dep) visit(dep);
    }
  };
  visit(target);
  return df.stages.filter((s) => need.has(s.index));
}
