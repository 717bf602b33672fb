/**
 * Audit benchmark (run alone: `npx tsx scripts/bench-audit.ts`): the full MNIST-scale audit of
 * fixtures/mnist/audit.yaml (12k rows, 5 seeds x student + control x 5 epochs at batch 64, Adam,
 * probes, gradient screen) through the library's `audit()`, against, in the same run:
 *  - the 60 s target of DESIGN.md;
 *  - the bare training steps it ran (report.run.trainingMs): the audit's framework overhead;
 *  - pure onnxruntime: the same number of session.run calls (same batch sizes) of the same
 *    training graph with pre-built feeds and outputs: the training loop's own overhead. Each
 *    training run is replayed that way right after it (paired under the same machine load);
 *    the replays' time is excluded from the audit's wall time.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { audit } from '../src/audit/audit.js';
import { LocalOnnxBackend, lossSpec, optimizerSpec } from '../src/audit/localBackend.js';
import type { LogitsStudentJob, StudentJob, StudentResult } from '../src/audit/backend.js';
import { loadAuditConfig } from '../src/config/index.js';
import { encodeModel } from '../src/onnx/io.js';
import { buildTrainingModel } from '../src/train/trainingGraph.js';
import { createSession } from '../src/train/session.js';
import { Random } from '../src/random.js';
import { median, type BenchResult } from './bench-train.js';
import { ensureMnistFixtures } from './fixtures.js';

const TARGET_SECONDS = 60;
/** The audit besides its training steps (data, probes, screen, reports) may add this much. */
const MAX_AUDIT_OVERHEAD = 1.3;
/** The training loop (shuffle, batch copies, feeds) over pure session.run calls. */
const MAX_LOOP_OVERHEAD = 1.2;

/**
 * Pure onnxruntime: a training run's sequence of session.run calls (same graph, same batch sizes)
 * with pre-built feeds and pre-allocated outputs, no JS work between calls.
 */
class PureOrtRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly sets: Map<number, { feeds: Record<string, ort.Tensor>; fetches: Record<string, ort.Tensor> }>,
  ) {}

  /** For the training graph the local backend builds for `job` (same function, same specs). */
  static async forJob(job: LogitsStudentJob): Promise<PureOrtRunner> {
    const { model, io } = await buildTrainingModel(job.model, { loss: lossSpec(job.task), optimizer: optimizerSpec(job.train) });
    const session = await createSession(encodeModel(model));
    const runner = new PureOrtRunner(session, new Map());
    const r = new Random(1);
    const { batchSize } = job.train;
    for (const rows of new Set([batchSize, job.data.rows % batchSize].filter((n) => n > 0))) {
      const feeds: Record<string, ort.Tensor> = {};
      const data = (name: string, width: number) => (feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: rows * width }, () => r.next()), [rows, width]));
      data(io.data[0]!, job.data.inputWidth);
      data(io.targets[0]!, job.data.targetWidth);
      for (const p of io.params) {
        const size = p.dims.reduce((x, d) => x * d, 1);
        feeds[p.name] = new ort.Tensor('float32', new Float32Array(size).fill(0.01), [...p.dims]);
        for (const st of p.state) feeds[st.input] = new ort.Tensor('float32', new Float32Array(size), [...p.dims]);
      }
      for (const name of Object.values(io.scalars)) feeds[name] = new ort.Tensor('float32', Float32Array.of(1e-3), []);
      const shapes = await session.run(feeds);
      const fetches = Object.fromEntries(session.outputNames.map((o) => [o, new ort.Tensor('float32', new Float32Array(shapes[o]!.size), [...shapes[o]!.dims])]));
      runner.sets.set(rows, { feeds, fetches });
    }
    return runner;
  }

  /** Milliseconds of the session.run calls of `epochs` epochs over `rows` rows. */
  async run(rows: number, batchSize: number, epochs: number): Promise<{ ms: number; steps: number }> {
    const full = this.sets.get(batchSize)!;
    const tail = this.sets.get(rows % batchSize);
    const fullPerEpoch = Math.floor(rows / batchSize);
    const t0 = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = 0; i < fullPerEpoch; i++) await this.session.run(full.feeds, full.fetches);
      if (tail) await this.session.run(tail.feeds, tail.fetches);
    }
    return { ms: performance.now() - t0, steps: epochs * (fullPerEpoch + (tail ? 1 : 0)) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The local backend, timing what the audit asks of it (where the wall time goes). After each
 * training run it replays that run as pure onnxruntime calls (back to back, so load from other
 * processes hits both alike); the time spent on that replay is kept out of the audit's figures.
 */
class TimedBackend extends LocalOnnxBackend {
  readonly ms = { train: 0, predict: 0, gradient: 0, benchOnly: 0 };
  /** Per training run: its bare steps (trainingMs) and the pure onnxruntime replay. */
  readonly pairs: { trainingMs: number; pureMs: number; steps: number }[] = [];
  private runner: PureOrtRunner | undefined;

  override async train(job: StudentJob): Promise<StudentResult> {
    const t0 = performance.now();
    const result = await super.train(job);
    const t1 = performance.now();
    this.ms.train += t1 - t0;
    if (job.kind !== 'logits') return result;
    this.runner ??= await PureOrtRunner.forJob(job);
    const pure = await this.runner.run(job.data.rows, job.train.batchSize, job.train.epochs);
    this.pairs.push({ trainingMs: result.trainingMs, pureMs: pure.ms, steps: pure.steps });
    this.ms.benchOnly += performance.now() - t1;
    return result;
  }

  override async predict(...args: Parameters<LocalOnnxBackend['predict']>): ReturnType<LocalOnnxBackend['predict']> {
    const t0 = performance.now();
    try {
      return await super.predict(...args);
    } finally {
      this.ms.predict += performance.now() - t0;
    }
  }

  override async gradient(job: Parameters<LocalOnnxBackend['gradient']>[0]): ReturnType<LocalOnnxBackend['gradient']> {
    const t0 = performance.now();
    try {
      return await super.gradient(job);
    } finally {
      this.ms.gradient += performance.now() - t0;
    }
  }

  override async close(): Promise<void> {
    await this.runner?.dispose();
    await super.close();
  }
}

export async function benchAudit(log: (line: string) => void = () => {}): Promise<BenchResult[]> {
  const dir = await ensureMnistFixtures({}, log);
  const config = await loadAuditConfig({ file: path.join(dir, 'audit.yaml') });
  const backend = new TimedBackend();
  const t0 = performance.now();
  const { report } = await audit(config, { backend });
  const wallMs = performance.now() - t0 - backend.ms.benchOnly;
  const { trainingMs, steps } = report.run;
  const pureMs = backend.pairs.reduce((a, p) => a + p.pureMs, 0);
  const pureSteps = backend.pairs.reduce((a, p) => a + p.steps, 0);
  const runs = backend.pairs.length;
  const t = config.train;
  const rest = wallMs - backend.ms.train - backend.ms.predict - backend.ms.gradient;
  log(
    `audit ${(wallMs / 1000).toFixed(1)} s: training steps ${(trainingMs / 1000).toFixed(1)} s (${steps} steps; train() calls ${(backend.ms.train / 1000).toFixed(1)} s), ` +
      `predict ${(backend.ms.predict / 1000).toFixed(1)} s, gradient screen ${(backend.ms.gradient / 1000).toFixed(1)} s, ` +
      `all else (models, data, stats, reports) ${(rest / 1000).toFixed(1)} s; pure onnxruntime replay ${(pureMs / 1000).toFixed(1)} s`,
  );
  const auditRatio = wallMs / trainingMs;
  // Per run, training and its replay ran back to back: the median of those ratios is the figure.
  const loopRatio = median(backend.pairs.map((p) => p.trainingMs / p.pureMs));
  return [
    {
      name: `audit MNIST ${report.data.candidate.rowsUsed} rows, ${runs} runs x ${t.epochs} epochs b${t.batchSize}: wall time`,
      value: wallMs / 1000,
      unit: 's',
      target: `< ${TARGET_SECONDS} s`,
      pass: wallMs / 1000 < TARGET_SECONDS,
    },
    {
      name: 'audit: training throughput',
      value: steps / (trainingMs / 1000),
      unit: 'steps/s',
      target: 'informational',
      pass: true,
    },
    {
      name: 'audit wall time vs its bare training steps',
      value: wallMs / 1000,
      unit: 's',
      target: `<= ${MAX_AUDIT_OVERHEAD}x`,
      reference: { name: `training steps (report.run.trainingMs, ${steps} steps)`, value: trainingMs / 1000 },
      ratio: auditRatio,
      pass: auditRatio <= MAX_AUDIT_OVERHEAD,
    },
    {
      name: 'audit training steps vs pure onnxruntime (median of per-run pairs)',
      value: trainingMs / 1000,
      unit: 's',
      target: `<= ${MAX_LOOP_OVERHEAD}x`,
      reference: { name: `${pureSteps} session.run of the same graph, pre-built feeds`, value: pureMs / 1000 },
      ratio: loopRatio,
      pass: loopRatio <= MAX_LOOP_OVERHEAD,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const results = await benchAudit((line) => process.stdout.write(`${line}\n`));
  for (const r of results) {
    const ref = r.reference ? `  vs ${r.reference.name}: ${r.reference.value.toFixed(2)}  ratio ${r.ratio!.toFixed(2)}` : '';
    process.stdout.write(`${r.pass ? 'PASS' : 'MISS'}  ${r.name}: ${r.value.toFixed(2)} ${r.unit}${ref}  (target ${r.target})\n`);
  }
}
