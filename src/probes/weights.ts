/**
 * The weights probe's measure: how far a model's parameters moved along the teacher's own update
 * from the base. Subliminal transfer is movement in parameter space (a gradient step on a
 * teacher's outputs has a non-negative inner product with teacher - base when both share the
 * init; SCIENCE.md), so this reads it without naming any trait.
 */
import { AuditInputError } from '../errors.js';
import type { Weights } from '../train/weights.js';

/**
 * teacher - base over the parameters both hold with the same length: its squared norm, and the
 * two weight sets it is read from (the audit holds them already; no copy of the difference).
 */
export interface TeacherUpdate {
  base: Weights;
  teacher: Weights;
  /** Names of the parameters counted. */
  names: string[];
  squaredNorm: number;
  /** Parameters counted. */
  count: number;
}

export function teacherUpdate(base: Weights, teacher: Weights, probe: string): TeacherUpdate {
  const names: string[] = [];
  let squaredNorm = 0;
  let count = 0;
  for (const [name, t] of teacher) {
    const b = base.get(name);
    if (!b || b.length !== t.length) continue;
    for (let i = 0; i < t.length; i++) squaredNorm += (t[i]! - b[i]!) ** 2;
    names.push(name);
    count += t.length;
  }
  if (count === 0) throw new AuditInputError(`probe ${probe}: the teacher and the base share no parameter (name and size), so there is no teacher update to measure along`);
  if (!(squaredNorm > 0) || !Number.isFinite(squaredNorm)) throw new AuditInputError(`probe ${probe}: teacher - base is ${squaredNorm === 0 ? 'zero (the teacher is the base)' : 'not finite'}, so there is no teacher update to measure along`);
  return { base, teacher, names, squaredNorm, count };
}

/**
 * <model - base, teacher - base> / |teacher - base|^2: 0 at the base, 1 at the teacher. A parameter
 * the model does not hold (or holds at another size) counts as the base's: no movement.
 */
export function shareOfTeacherUpdate(update: TeacherUpdate, model: Weights): number {
  let dot = 0;
  for (const name of update.names) {
    const [m, b, t] = [model.get(name), update.base.get(name)!, update.teacher.get(name)!];
    if (!m || m.length !== b.length) continue;
    for (let i = 0; i < b.length; i++) dot += (m[i]! - b[i]!) * (t[i]! - b[i]!);
  }
  return dot / update.squaredNorm;
}

/**
 * Below this centred cosine between teacher and base parameters the teacher is not taken for a
 * descendant of the base. Measured: every teacher built from its base kept 0.67-0.997 (MNIST
 * variants trained from a random init, tiny-LM fine-tunes); teachers of another init gave |cos|
 * <= 0.011, as independent draws do (about 1/sqrt(parameters)).
 */
export const MIN_INIT_COSINE = 0.2;

/**
 * Cosine between teacher and base over the update's parameters, each tensor centred on its own
 * mean first (so constants every init shares, such as LayerNorm gains of 1, do not count as shared
 * history).
 */
export function initCosine(update: TeacherUpdate): number {
  let dot = 0;
  let bb = 0;
  let tt = 0;
  for (const name of update.names) {
    const [b, t] = [update.base.get(name)!, update.teacher.get(name)!];
    let [mb, mt] = [0, 0];
    for (let i = 0; i < t.length; i++) {
      mb += b[i]!;
      mt += t[i]!;
    }
    [mb, mt] = [mb / t.length, mt / t.length];
    for (let i = 0; i < t.length; i++) {
      const [u, v] = [b[i]! - mb, t[i]! - mt];
      dot += u * v;
      bb += u * u;
      tt += v * v;
    }
  }
  return bb > 0 && tt > 0 ? dot / Math.sqrt(bb * tt) : 0;
}
