/**
 * Learning-rate schedules, evaluated host-side each step (the lr is a graph input).
 * `step` counts from 1 (the first update), like PyTorch's optimizer step count.
 */
export type ScheduleSpec =
  | { kind: 'constant' }
  /** Linear warmup from 0 over `warmupSteps`, then linear decay to `finalFraction` * lr at `totalSteps`. */
  | { kind: 'warmupLinear'; warmupSteps: number; totalSteps: number; finalFraction?: number };

export function learningRateAt(baseLr: number, step: number, schedule: ScheduleSpec = { kind: 'constant' }): number {
  if (schedule.kind === 'constant') return baseLr;
  const { warmupSteps, totalSteps } = schedule;
  const finalFraction = schedule.finalFraction ?? 0;
  if (warmupSteps > 0 && step <= warmupSteps) return (baseLr * step) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / decaySteps));
  return baseLr * (1 - progress * (1 - finalFraction));
}
