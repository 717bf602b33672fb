/**
 * Parallel probe runs. Two pieces, both generic over the job:
 *  - mapConcurrent: runs async jobs at most `limit` at a time and returns results IN JOB ORDER,
 *    so what the audit computes from them does not depend on which finished first;
 *  - WorkerBackend: a TrainerBackend whose train/predict run in worker threads, each worker a
 *    LocalOnnxBackend with its own onnxruntime sessions (one intra-op thread each, as serial:
 *    src/train/session.ts). A job is plain data (the StudentJob seam), so every task kind that
 *    the seam carries runs in a worker unchanged; only the model is passed by id (decoded once
 *    per worker, so each worker compiles a training graph once) and big arrays (datasets, probe
 *    inputs) are sent to each worker once and referred to by id after that.
 * Results are bit-identical to a serial run: each run's arithmetic is the same single-threaded
 * onnxruntime code from the same init and seed, whichever worker runs it.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProgressEvent } from '../events.js';
import { encodeModel } from '../onnx/io.js';
import type { ModelProto } from '../onnx/proto.js';
import type { LogitsStudentJob, StudentJob, TextStudentJob, StudentResult, TrainerBackend, Weights } from './backend.js';
import { LocalOnnxBackend } from './localBackend.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';

/** An error from a worker as the audit's own class again: bad input stays exit 2 across the thread boundary. */
function rebuildError(name: string, message: string): Error {
  if (name === 'UnsupportedModelError') return new UnsupportedModelError(message);
  if (name === 'AuditInputError') return new AuditInputError(message);
  return Object.assign(new Error(message), { name });
}

/** `limit` <= 0 means one per core. */
export function workerCount(limit: number): number {
  return limit > 0 ? limit : Math.max(1, availableParallelism());
}

/** `run` over every job, at most `limit` at a time; results in job order. Rejects on the first failure. */
export async function mapConcurrent<J, R>(jobs: readonly J[], limit: number, run: (job: J, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < jobs.length) {
      const i = next++;
      try {
        results[i] = await run(jobs[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, lane));
  return results;
}

/** A big value by id; `data` is sent only the first time a worker needs it. */
export interface Ref<T> {
  id: number;
  data?: T;
}
export type ArrayRef = Ref<Float32Array>;
export type WeightsRef = Ref<Weights>;

/** Ids of big values a worker keeps once sent: the same object gets the same id. */
class SentOnce<T extends object> {
  private readonly ids = new WeakMap<T, number>();
  private next = 0;

  ref(sent: Set<number>, value: T): Ref<T> {
    let id = this.ids.get(value);
    if (id === undefined) this.ids.set(value, (id = this.next++));
    if (sent.has(id)) return { id };
    sent.add(id);
    return { id, data: value };
  }
}

/** A train job as a worker receives it: the model by id, big data by reference. */
export type ShippedJob =
  | (Omit<LogitsStudentJob, 'model' | 'onEvent' | 'data'> & { data: Omit<LogitsStudentJob['data'], 'inputs' | 'targets'> & { inputs: ArrayRef; targets: ArrayRef } })
  | (Omit<TextStudentJob, 'model' | 'onEvent' | 'init'> & { init: WeightsRef });

/** Messages main -> worker. */
export type WorkerRequest =
  | { type: 'model'; id: number; bytes: Uint8Array }
  | {
      type: 'train';
      call: number;
      modelId: number;
      job: ShippedJob;
      events: boolean;
    }
  | { type: 'predict'; call: number; modelId: number; weights: Weights | undefined; inputs: ArrayRef; rows: number };

/** Messages worker -> main. */
export type WorkerReply =
  | { type: 'event'; call: number; event: ProgressEvent }
  | { type: 'done'; call: number; value: unknown }
  | { type: 'error'; call: number; message: string; name: string };

interface Slot {
  worker: Worker;
  models: Set<number>;
  arrays: Set<number>;
  weights: Set<number>;
  busy: boolean;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: ((e: ProgressEvent) => void) | undefined;
}

/**
 * Worker threads run the worker module from this module's own folder: compiled .js in a build,
 * .ts from source (tests, tsx scripts), where the worker first registers tsx's loader.
 */
function workerEntry(): { entry: string; tsx?: string } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const entry = path.join(path.dirname(here), `trainWorker${ext}`);
  if (ext !== '.ts') return { entry };
  // tsx's ESM API (its register() installs the .ts loader in this thread).
  const api = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs');
  return { entry, tsx: api };
}

const BOOT = `
const { workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
(async () => {
  if (workerData.tsx) (await import(pathToFileURL(workerData.tsx).href)).register();
  await import(pathToFileURL(workerData.entry).href);
})();
`;

export class WorkerBackend implements TrainerBackend {
  readonly name: string;
  readonly workers: number;
  private readonly local = new LocalOnnxBackend();
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly modelIds = new WeakMap<ModelProto, { id: number; bytes: Uint8Array }>();
  private readonly arrays = new SentOnce<Float32Array>();
  private readonly weights = new SentOnce<Weights>();
  /** Train jobs handed to worker threads so far, by task kind (what ran where, for tests and logs). */
  readonly trainedInWorkers: Record<'logits' | 'text', number> = { logits: 0, text: 0 };
  private nextModel = 0;
  private nextCall = 0;
  private closed = false;

  constructor(workers: number) {
    this.name = this.local.name;
    this.workers = Math.max(1, workers);
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT, { eval: true, workerData: workerEntry() });
    const slot: Slot = { worker, models: new Set(), arrays: new Set(), weights: new Set(), busy: false };
    worker.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.call);
      if (!p) return;
      if (m.type === 'event') return p.onEvent?.(m.event);
      this.pending.delete(m.call);
      if (m.type === 'done') p.resolve(m.value);
      else p.reject(rebuildError(m.name, m.message));
    });
    worker.on('error', (e) => this.failAll(e));
    return slot;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private async acquire(): Promise<Slot> {
    if (this.closed) throw new Error('worker pool is closed');
    const free = this.slots.find((s) => !s.busy);
    if (free) return ((free.busy = true), free);
    if (this.slots.length < this.workers) {
      const slot = this.spawn();
      this.slots.push(slot);
      slot.busy = true;
      return slot;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  private modelOf(model: ModelProto): { id: number; bytes: Uint8Array } {
    let m = this.modelIds.get(model);
    if (!m) this.modelIds.set(model, (m = { id: this.nextModel++, bytes: encodeModel(model) }));
    return m;
  }

  private async call<T>(model: ModelProto, make: (call: number, modelId: number, slot: Slot) => WorkerRequest, onEvent?: (e: ProgressEvent) => void): Promise<T> {
    const slot = await this.acquire();
    try {
      const m = this.modelOf(model);
      if (!slot.models.has(m.id)) {
        slot.worker.postMessage({ type: 'model', id: m.id, bytes: m.bytes } satisfies WorkerRequest);
        slot.models.add(m.id);
      }
      const call = this.nextCall++;
      return await new Promise<T>((resolve, reject) => {
        this.pending.set(call, { resolve: resolve as (v: unknown) => void, reject, onEvent });
        slot.worker.postMessage(make(call, m.id, slot));
      });
    } finally {
      this.release(slot);
    }
  }

  train(job: StudentJob): Promise<StudentResult> {
    // Chat jobs are for fine-tuning services: the local backend names the right one.
    if (job.kind === 'chat') return this.local.train(job);
    this.trainedInWorkers[job.kind]++;
    const ship = (slot: Slot): ShippedJob => {
      const { model: _model, onEvent: _onEvent, ...rest } = job;
      if (rest.kind === 'text') return { ...rest, init: this.weights.ref(slot.weights, rest.init) };
      return { ...rest, data: { ...rest.data, inputs: this.arrays.ref(slot.arrays, rest.data.inputs), targets: this.arrays.ref(slot.arrays, rest.data.targets) } };
    };
    return this.call<StudentResult>(job.model, (call, modelId, slot) => ({ type: 'train', call, modelId, job: ship(slot), events: job.onEvent !== undefined }), job.onEvent);
  }

  predict(model: ModelProto, weights: Weights | undefined, inputs: Float32Array, rows: number): Promise<{ outputs: Float32Array; width: number }> {
    return this.call(model, (call, modelId, slot) => ({ type: 'predict', call, modelId, weights, inputs: this.arrays.ref(slot.arrays, inputs), rows }));
  }

  shape(model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }> {
    return this.local.shape(model);
  }

  gradient(job: Omit<LogitsStudentJob, 'train' | 'label'>): Promise<Weights> {
    return this.local.gradient(job);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    await this.local.close();
  }
}
