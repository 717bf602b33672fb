/**
 * A worker thread of the WorkerBackend (./pool.ts): a LocalOnnxBackend answering train (logits
 * and text jobs) and predict requests. Models arrive once by id and stay decoded, so the backend's per-model
 * training-session cache works across jobs.
 */
import { parentPort } from 'node:worker_threads';
import type { ProgressEvent } from '../events.js';
import { decodeModel } from '../onnx/io.js';
import type { ModelProto } from '../onnx/proto.js';
import { LocalOnnxBackend } from './localBackend.js';
import type { Weights } from './backend.js';
import type { Ref, ShippedJob, WorkerReply, WorkerRequest } from './pool.js';

const port = parentPort!;
const backend = new LocalOnnxBackend();
const models = new Map<number, ModelProto>();
/**
 * Values kept by id once sent. The same object for the same id, so the backend's caches keyed by
 * init identity (LoRA graphs) hold across jobs.
 */
function received<T>(what: string): (ref: Ref<T>) => T {
  const kept = new Map<number, T>();
  return (ref) => {
    if (ref.data !== undefined) kept.set(ref.id, ref.data);
    const value = kept.get(ref.id);
    if (value === undefined) throw new Error(`worker: ${what} ${ref.id} was never sent`);
    return value;
  };
}
const arrayOf = received<Float32Array>('array');
const weightsOf = received<Weights>('weights');
const reply = (m: WorkerReply): void => port.postMessage(m);

function modelOf(id: number): ModelProto {
  const m = models.get(id);
  if (!m) throw new Error(`worker: model ${id} was never sent`);
  return m;
}

// Requests run one at a time (the pool sends one per worker at a time).
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: WorkerRequest) => {
  if (m.type === 'model') {
    models.set(m.id, decodeModel(m.bytes));
    return;
  }
  queue = queue.then(async () => {
    try {
      if (m.type === 'train') {
        const common = {
          model: modelOf(m.modelId),
          ...(m.events ? { onEvent: (event: ProgressEvent) => reply({ type: 'event', call: m.call, event }) } : {}),
        };
        const job: ShippedJob = m.job;
        // The serial backend's own training functions (LocalOnnxBackend.train dispatches by kind).
        const result = await backend.train(
          job.kind === 'text'
            ? { ...job, init: weightsOf(job.init), ...common }
            : { ...job, data: { ...job.data, inputs: arrayOf(job.data.inputs), targets: arrayOf(job.data.targets) }, ...common },
        );
        reply({ type: 'done', call: m.call, value: result });
      } else {
        const result = await backend.predict(modelOf(m.modelId), m.weights, arrayOf(m.inputs), m.rows);
        reply({ type: 'done', call: m.call, value: result });
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply({ type: 'error', call: m.call, message: err.message, name: err.name });
    }
  });
});
