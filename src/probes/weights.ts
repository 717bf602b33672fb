/**
 * The weights probe's measure: how far a model's parameters moved along the teacher's own update
 * from the base. Subliminal transfer is movement in parameter space (a gradient step on a
 * teacher's outputs has a non-negative inner product with teacher - base when both share the
 * init; SCIENCE.md), so this reads it without naming any trait.
 */
import { AuditInputError } from '../errors.js';
import type { Weights } from '../train/weights.js';

/** teacher - base over the parameters both hold with the same length, and its squared norm. */
export interface TeacherUpdate {
  base: Weights;
  delta: Weights;
  squaredNorm: number;
  /** Parameters counted. */
  count: number;
}

export function teacherUpdate(base: Weights, teacher: Weights, probe: string): TeacherUpdate {
  const delta: Weights = new Map();
  let squaredNorm = 0;
  let count = 0;
  for (const [name, t] of teacher) {
    const b = base.get(name);
    if (!b || b.length !== t.length) continue;
    const d = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) {
      d[i] = t[i]! - b[i]!;
      squaredNorm += d[i]! * d[i]!;
    }
    delta.set(name, d);
    count += t.length;
  }
  if (count === 0) throw new AuditInputError(`probe ${probe}: the teacher and the base share no parameter (name and size), so there is no teacher update to measure along`);
  if (!(squaredNorm > 0) || !Number.isFinite(squaredNorm)) throw new AuditInputError(`probe ${probe}: teacher - base is ${squaredNorm === 0 ? 'zero (the teacher is the base)' : 'not finite'}, so there is no teacher update to measure along`);
  return { base, delta, squaredNorm, count };
}

/**
 * <model - base, teacher - base> / |teacher - base|^2: 0 at the base, 1 at the teacher. A parameter
 * the model does not hold counts as the base's (no movement).
 */
export function shareOfTeacherUpdate(update: TeacherUpdate, model: Weights): number {
  let dot = 0;
  for (const [name, d] of update.delta) {
    const m = model.get(name);
    if (!m || m.length !== d.length) continue;
    const b = update.base.get(name)!;
    for (let i = 0; i < d.length; i++) dot += (m[i]! - b[i]!) * d[i]!;
  }
  return dot / update.squaredNorm;
}
