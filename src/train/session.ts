/**
 * onnxruntime session options used for training and inference, measured on the 2-core target
 * (scripts/bench-train.ts, scripts/bench-audit.ts). Defaults: ONE intra-op thread, all graph
 * optimizations, sequential execution, and no spinning if more threads are asked for.
 * - A training step at batch 64-128 is ~100 kernels, most of them small; with 2 threads every
 *   parallel kernel pays a hand-off between threads. Measured: MNIST audit 14.8-15.4 s with 1
 *   thread vs 18.6-20.9 s with 2 (quiet machine), 24.6 vs 30.0 s under load; b128 MLP step
 *   2.1 vs 2.8 ms, while the raw Gemms alone ran as fast on 1 thread as on 2. Results are bit
 *   for bit the same with 1 or 2 threads (MLAS splits Gemms by rows/columns, not the sum).
 * - With spinning (onnxruntime's default) an idle pool thread busy-waits between kernels and,
 *   when other processes share the cores, steals the core the main thread needs: the audit took
 *   ~57 s that way under load.
 */
import * as ort from '../onnx/ort.js';

export interface SessionTuning {
  intraOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Let idle intra-op threads busy-wait for work (onnxruntime's default; ours is false). */
  allowSpinning?: boolean;
}

export function sessionOptions(tuning: SessionTuning = {}): ort.InferenceSession.SessionOptions {
  const spin = (tuning.allowSpinning ?? false) ? '1' : '0';
  return {
    intraOpNumThreads: tuning.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: tuning.executionMode ?? 'sequential',
    graphOptimizationLevel: tuning.graphOptimizationLevel ?? 'all',
    extra: { session: { 'intra_op.allow_spinning': spin, 'inter_op.allow_spinning': spin } },
  };
}

export async function createSession(bytes: Uint8Array, tuning?: SessionTuning): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, sessionOptions(tuning));
}
