/**
 * onnxruntime session options used for training and inference. Measured on the 2-core target
 * (scripts/bench-train.ts): 2 intra-op threads, all graph optimizations, sequential execution.
 */
import * as ort from 'onnxruntime-node';

export interface SessionTuning {
  intraOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export function sessionOptions(tuning: SessionTuning = {}): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: tuning.intraOpNumThreads ?? 2,
    interOpNumThreads: 1,
    executionMode: tuning.executionMode ?? 'sequential',
    graphOptimizationLevel: tuning.graphOptimizationLevel ?? 'all',
  };
}

export async function createSession(bytes: Uint8Array, tuning?: SessionTuning): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, sessionOptions(tuning));
}
