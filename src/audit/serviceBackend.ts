/**
 * The TrainerBackend of `train.backend: openai`: each student and control is a fine-tuning job on
 * an OpenAI-compatible service. A job's training file (chat JSONL) is uploaded (`POST /files`), the
 * job created on the base model id with the run's seed (`POST /fine_tuning/jobs`) and polled
 * (`GET /fine_tuning/jobs/{id}`, its `/events` for progress) until it ends. Ids go to state.json the
 * moment they exist, and a file or job the state (or the service's own lists) already holds is
 * reused, never paid twice. A failed or cancelled job is an error (exit 2) with the service's
 * message. At the audit's time limit (or an abort) running jobs are cancelled.
 */
import type { AuditConfig, ServiceConfig } from '../config/schema.js';
import { AuditInputError } from '../errors.js';
import { silent, type ProgressListener } from '../events.js';
import type { ModelProto } from '../onnx/proto.js';
import type { FineTuningJob, JobEvent, SupervisedHyperparameters } from '../service/api.js';
import { ServiceClient, ServiceError, type ServiceClientOptions } from '../service/client.js';
import { resolveServiceHeaders } from '../service/headers.js';
import type { ChatStudentJob, StudentJob, StudentResult, TrainerBackend, Weights } from './backend.js';
import { ServiceState, sha256, type StateJob } from './serviceState.js';

export interface ServiceBackendOptions {
  service: ServiceConfig;
  /** Epochs when train.service.nEpochs is not set (train.epochs). */
  epochs: number;
  /** Where state.json lives (the audit's out folder). */
  out: string;
  /** Launch without the maxTrainingTokens gate (the user said --yes). */
  yes?: boolean;
  /** The environment the key is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: ProgressListener;
  /** First retry delay (tests shorten it). */
  backoffMs?: number;
  fetch?: typeof fetch;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** A metrics event's training step, when the service reports one. */
function stepOf(e: JobEvent): { done: number; total: number } | undefined {
  return e.data && typeof e.data.step === 'number' && typeof e.data.total_steps === 'number' ? { done: e.data.step, total: e.data.total_steps } : undefined;
}

export class ServiceBackend implements TrainerBackend {
  readonly name = 'openai';
  readonly concurrency: number;
  readonly client: ServiceClient;
  readonly service: ServiceConfig;
  readonly yes: boolean;
  private readonly controller = new AbortController();
  private readonly deadline: number;
  private readonly timer: NodeJS.Timeout;
  private readonly emit: ProgressListener;
  private statePromise: Promise<ServiceState> | undefined;
  private readonly running = new Set<string>();
  /** Jobs this backend cancelled (time limit or abort), in order. */
  readonly cancelled: string[] = [];

  /** Where and how requests go: the service, the key, its header, api-version, extra headers. */
  private readonly connection: Pick<ServiceClientOptions, 'baseURL' | 'apiKey' | 'auth' | 'apiVersion' | 'headers' | 'secrets'>;

  constructor(private readonly options: ServiceBackendOptions) {
    const { service } = options;
    this.service = service;
    this.yes = options.yes ?? false;
    this.emit = options.onEvent ?? silent;
    this.concurrency = service.concurrency;
    const env = options.env ?? process.env;
    const apiKey = env[service.apiKeyEnv];
    if (!apiKey) throw new AuditInputError(`train.service.apiKeyEnv: the environment variable ${service.apiKeyEnv} is not set (it holds the service's API key)`);
    // Checked before the time limit's timer starts: a bad header is an input error, nothing to clean up.
    this.connection = { baseURL: service.baseURL, apiKey, auth: service.auth, ...(service.apiVersion ? { apiVersion: service.apiVersion } : {}), ...resolveServiceHeaders(service.headers, env) };
    const limitMs = service.timeLimitMinutes * 60_000;
    this.deadline = Date.now() + limitMs;
    this.timer = setTimeout(() => this.stop(new ServiceError(`the audit's time limit of ${service.timeLimitMinutes} minutes (train.service.timeLimitMinutes) was reached; running jobs were cancelled`)), limitMs);
    this.timer.unref();
    options.signal?.addEventListener('abort', () => this.stop(new ServiceError('the audit was aborted; running jobs were cancelled')), { once: true });
    this.client = new ServiceClient({
      ...this.connection,
      maxAttempts: service.maxAttempts,
      signal: this.controller.signal,
      timeoutMs: 120_000,
      ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      onRetry: (n) => this.emit({ kind: 'warning', stage: 'service', message: `${n.method} ${n.path}: ${n.reason}; retry ${n.attempt} in ${(n.delayMs / 1000).toFixed(1)} s` }),
    });
  }

  static fromConfig(config: AuditConfig, options: Omit<ServiceBackendOptions, 'service' | 'epochs' | 'out'> = {}): ServiceBackend {
    if (!config.train.service) throw new AuditInputError('train.backend openai needs train.service');
    return new ServiceBackend({ ...options, service: config.train.service, epochs: config.train.epochs, out: config.out });
  }

  /** The audit's state.json (opened once). */
  state(): Promise<ServiceState> {
    return (this.statePromise ??= ServiceState.open(this.options.out, this.service.baseURL));
  }

  /** The hyperparameters every job is created with. */
  hyperparameters(): SupervisedHyperparameters {
    const s = this.service;
    return {
      n_epochs: s.nEpochs ?? this.options.epochs,
      ...(s.batchSize !== undefined ? { batch_size: s.batchSize } : {}),
      ...(s.learningRateMultiplier !== undefined ? { learning_rate_multiplier: s.learningRateMultiplier } : {}),
    };
  }

  /** The key a job is reused by: its training file's bytes and everything sent with it. */
  jobKey(jsonl: string, seed: number): string {
    return sha256(JSON.stringify({ file: sha256(jsonl), model: this.service.model, hyperparameters: this.hyperparameters(), seed, suffix: this.service.suffix }));
  }

  /** Time limit or abort: every running job is cancelled on the service. */
  private stop(reason: ServiceError): void {
    this.cancelRunning = true;
    this.controller.abort(reason);
  }

  private cancelRunning = false;
  private readonly inflight = new Set<Promise<unknown>>();

  async train(job: StudentJob): Promise<StudentResult> {
    if (job.kind !== 'chat') throw new RangeError(`the ${this.name} backend trains chat jobs (training files), not ${job.kind} jobs`);
    const run = this.trainChat(job);
    const settled = run.then(
      () => {},
      () => {},
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return run;
  }

  private async trainChat(job: ChatStudentJob): Promise<StudentResult> {
    const started = performance.now();
    const state = await this.state();
    const { jsonl, arm } = job.data;
    const seed = job.train.seed;
    const key = this.jobKey(jsonl, seed);
    let entry: StateJob | undefined = state.data.jobs[key];
    if (entry && (entry.status === 'failed' || entry.status === 'cancelled')) entry = undefined;
    if (!entry) {
      const fileId = await this.uploadOnce(jsonl);
      const created = await this.createOnce(fileId, seed, job.label);
      entry = { id: created.id, arm, seed, fileId, status: created.status, model: created.fine_tuned_model, trainedTokens: created.trained_tokens };
      const made = entry;
      await state.update((d) => void (d.jobs[key] = made));
    } else {
      this.emit({ kind: 'info', stage: 'service', message: `${job.label}: reusing job ${entry.id} from ${state.file}` });
    }
    const done = await this.waitFor(entry.id, job.label);
    await state.update((d) => {
      d.jobs[key] = { ...d.jobs[key]!, status: done.status, model: done.fine_tuned_model, trainedTokens: done.trained_tokens, ...(done.error?.message ? { error: done.error.message } : {}) };
    });
    if (done.status !== 'succeeded' || !done.fine_tuned_model) {
      const why = done.error?.message ? `: ${done.error.message}` : '';
      throw new ServiceError(this.client.redact(`fine-tuning job ${done.id} (${job.label}) ${done.status === 'succeeded' ? 'succeeded without a fine_tuned_model' : done.status}${why}`));
    }
    return {
      weights: new Map(),
      steps: 0,
      trainingMs: performance.now() - started,
      finalLoss: Number.NaN,
      remote: { jobId: done.id, trainingFile: entry.fileId, model: done.fine_tuned_model, trainedTokens: done.trained_tokens },
    };
  }

  private readonly uploads = new Map<string, Promise<string>>();

  /** The file's id: from state.json, else a processed file of the same name and size on the service, else uploaded now (once, however many runs ask at a time). */
  uploadOnce(jsonl: string): Promise<string> {
    const hash = sha256(jsonl);
    let id = this.uploads.get(hash);
    if (!id) {
      this.uploads.set(hash, (id = this.upload(jsonl, hash)));
      id.catch(() => this.uploads.delete(hash));
    }
    return id;
  }

  private async upload(jsonl: string, hash: string): Promise<string> {
    const state = await this.state();
    const known = state.data.files[hash];
    if (known) return known.id;
    const filename = `audit-dataset-${hash.slice(0, 24)}.jsonl`;
    const bytes = Buffer.byteLength(jsonl);
    // Uploaded by a run killed before it could write state.json: reuse it.
    const listed = (await this.client.listFiles()).data.find((f) => f.filename === filename && f.bytes === bytes && f.status !== 'error');
    const file = listed ?? (await this.client.uploadFile(filename, jsonl));
    await state.update((d) => void (d.files[hash] = { id: file.id, filename, bytes }));
    return file.id;
  }

  /** A job on `fileId` with this seed: one the service already runs (a killed run's), else created now. */
  private async createOnce(fileId: string, seed: number, label: string): Promise<FineTuningJob> {
    const listed = (await this.client.listJobs()).data.find(
      (j) => j.training_file === fileId && j.model === this.service.model && j.seed === seed && j.status !== 'failed' && j.status !== 'cancelled',
    );
    if (listed) return listed;
    const job = await this.client.createJob({
      model: this.service.model,
      training_file: fileId,
      seed,
      suffix: this.service.suffix,
      method: { type: 'supervised', supervised: { hyperparameters: this.hyperparameters() } },
      metadata: { tool: 'audit-dataset', run: label },
    });
    this.emit({ kind: 'info', stage: 'service', message: `${label}: created fine-tuning job ${job.id}` });
    return job;
  }

  /** Polls a job until it ends; each new event is a progress line. At the time limit or an abort: cancelled. */
  private async waitFor(id: string, label: string): Promise<FineTuningJob> {
    this.running.add(id);
    let lastEvent: string | undefined;
    try {
      for (;;) {
        const job = await this.client.retrieveJob(id);
        const events = (await this.client.listEvents(id, 5)).data;
        // Events come newest first. A job can move several steps and finish between two polls, so the
        // newest unseen step event is reported even when a status message has landed after it.
        const seen = events.findIndex((e) => e.id === lastEvent);
        const unseen = seen < 0 ? events : events.slice(0, seen);
        const newest = unseen[0];
        if (newest) {
          lastEvent = newest.id;
          const line = (e: JobEvent) => this.client.redact(`${label} (${id}): ${job.status}: ${e.message}`);
          const stepEvent = unseen.find((e) => stepOf(e) !== undefined);
          if (stepEvent) this.emit({ kind: 'progress', stage: 'service', ...stepOf(stepEvent)!, message: line(stepEvent) });
          if (newest !== stepEvent) this.emit({ kind: 'info', stage: 'service', message: line(newest) });
        }
        if (TERMINAL.has(job.status)) return job;
        await this.pause(Math.min(this.service.pollSeconds * 1000, Math.max(0, this.deadline - Date.now())));
      }
    } catch (e) {
      // The time limit or an abort cancels the job; an audit closing on another error leaves it for a resumed run.
      if (this.controller.signal.aborted && this.cancelRunning) await this.cancel(id, label);
      throw e;
    } finally {
      this.running.delete(id);
    }
  }

  private pause(ms: number): Promise<void> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Cancels a job (its own short-lived client: the audit's signal has fired) and records it. */
  private async cancel(id: string, label: string): Promise<void> {
    const client = new ServiceClient({ ...this.connection, maxAttempts: 2, backoffMs: 200, timeoutMs: 30_000, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
    try {
      const job = await client.cancelJob(id);
      this.cancelled.push(id);
      const state = await this.state();
      await state.update((d) => {
        for (const j of Object.values(d.jobs)) if (j.id === id) j.status = job.status;
      });
      this.emit({ kind: 'warning', stage: 'service', message: `${label}: cancelled job ${id}` });
    } catch (e) {
      this.emit({ kind: 'warning', stage: 'service', message: `${label}: could not cancel job ${id}: ${client.redact((e as Error).message)}` });
    }
  }

  /** The service holds the students: no local graph to run. */
  async predict(_model: ModelProto, _weights: Weights | undefined, _inputs: Float32Array, _rows: number): Promise<{ outputs: Float32Array; width: number }> {
    throw new RangeError(`the ${this.name} backend scores models through chat completions, not tensors`);
  }

  async shape(_model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }> {
    throw new RangeError(`the ${this.name} backend has no local graph`);
  }

  /** The abort signal of the audit (time limit, abort): chat calls of the probes share it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Stops polling and waits for every run to settle (their state writes and cancellations done).
   * Jobs still running after another error stay on the service: a run of the same config picks them up.
   */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort(new ServiceError('the audit stopped'));
    await Promise.allSettled([...this.inflight]);
  }
}
