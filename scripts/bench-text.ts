/**
 * Text-training bench (run alone: `npx tsx scripts/bench-text.ts`): training tokens per second of
 * the engine on a small GPT-2-style decoder against PyTorch CPU training the SAME model on the SAME
 * batch, measured in the same run (DESIGN.md: engine >= PyTorch).
 *
 * scripts/bench-torch.py builds the model in PyTorch from a fixed seed, exports it with
 * torch.onnx.export (tied LM head, erf GELU, Conv1D QKV, Where causal mask) and writes the batch;
 * the engine trains that ONNX file (the tie re-made, as an audit does) with AdamW and token
 * cross-entropy over every next token; the same Python process then times PyTorch's AdamW steps
 * on request. Rounds alternate engine / PyTorch so background load hits both alike; each side's
 * figure is its median round. Both sides get the same threads (2 by default) (onnxruntime intra-op; torch
 * set_num_threads, OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads do not spin).
 * Skips with a message when python3 or torch is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { restoreParameters } from '../src/autodiff/tied.js';
import { readModel } from '../src/onnx/io.js';
import { Trainer } from '../src/train/trainer.js';
import type { BenchResult } from './lib/bench-result.js';
import { median } from './bench-train.js';

/** Model and batch size, and threads on each side. */
const SHAPE = { width: 128, layers: 4, heads: 4, seq: 64, batch: 16, vocab: 512, threads: 2 };
const WARMUP = 3;
const STEPS = 5;
const ROUNDS = 4;
/** BENCH_PYTHON, else the first of these that imports torch (Debian's python3-torch lives in /usr/bin's). */
const PYTHONS = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : ['python3', '/usr/bin/python3'];
let PYTHON = PYTHONS[0]!;
const SCRIPT = fileURLToPath(new URL('./bench-torch.py', import.meta.url));

export interface TextBenchOptions {
  /** Model, batch and threads (default SHAPE). */
  shape?: Partial<typeof SHAPE>;
  rounds?: number;
  steps?: number;
  log?: (line: string) => void;
}

/** Why PyTorch cannot be measured here, or undefined when it can (PYTHON set to the one that can). */
function torchMissing(): string | undefined {
  const why: string[] = [];
  for (const python of PYTHONS) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
    if (!r.error && r.status === 0) {
      PYTHON = python;
      return undefined;
    }
    why.push(r.error ? `${python} not found` : `${python} has no torch`);
  }
  return `${why.join(', ')} (apt-get install python3-torch libopenblas0-pthread, or set BENCH_PYTHON)`;
}

/** The Python side: a child process answering "steps N" with {seconds}. */
class TorchSide {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ReturnType<typeof spawn>) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(dir: string, s: typeof SHAPE): Promise<{ side: TorchSide; info: { torch: string; threads: number; params: number } }> {
    const child = spawn(PYTHON, [SCRIPT, dir, ...[s.width, s.layers, s.heads, s.seq, s.batch, s.vocab, s.threads].map(String)], {
      // torch's elementwise kernels run on OpenMP, its matmuls on OpenBLAS (Debian's build): both get s.threads.
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(s.threads), OPENBLAS_NUM_THREADS: String(s.threads), PYTHONWARNINGS: 'ignore' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const side = new TorchSide(child);
    const info = JSON.parse(await side.next()) as { torch: string; threads: number; params: number };
    return { side, info };
  }

  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('the PyTorch bench process ended early');
    return r.value;
  }

  /** Seconds for `steps` training steps, and the loss of the last one (before its update). */
  async time(steps: number): Promise<{ seconds: number; loss: number }> {
    this.child.stdin!.write(`steps ${steps}\n`);
    return JSON.parse(await this.next()) as { seconds: number; loss: number };
  }

  close(): void {
    this.child.stdin!.end();
  }
}

export async function benchText(options: TextBenchOptions = {}): Promise<BenchResult[]> {
  const log = options.log ?? (() => {});
  const missing = torchMissing();
  if (missing) throw new Error(`PyTorch reference skipped: ${missing}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-text-'));
  const shape = { ...SHAPE, ...options.shape };
  const { side, info } = await TorchSide.start(dir, shape);
  try {
    const model = await readModel(path.join(dir, 'model.onnx'));
    // As an audit loads a model: the tied head is one parameter, merged ones/zeros are separate ones.
    const tied = restoreParameters(model).retied;
    const trainer = await Trainer.create(model, {
      loss: { kind: 'tokenCrossEntropy' },
      optimizer: { kind: 'adamw', lr: 1e-4, weightDecay: 0.01 },
      session: { intraOpNumThreads: shape.threads },
    });
    const { batch: B, seq: T } = shape;
    const ids = (JSON.parse(await readFile(path.join(dir, 'batch.json'), 'utf8')) as { input_ids: number[][] }).input_ids.flat();
    const inputIds = BigInt64Array.from(ids, BigInt);
    const positions = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T));
    const targets = new BigInt64Array(B * T);
    const mask = new Float32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) {
      targets[b * T + t] = inputIds[b * T + t + 1]!;
      mask[b * T + t] = 1;
    }
    const batch = { inputs: { input_ids: inputIds, attention_mask: new BigInt64Array(B * T).fill(1n), position_ids: positions }, rows: B, targets, mask };
    const engineTime = async (steps: number): Promise<{ seconds: number; loss: number }> => {
      const t0 = performance.now();
      let loss = Number.NaN;
      for (let i = 0; i < steps; i++) loss = await trainer.step(batch);
      return { seconds: (performance.now() - t0) / 1000, loss };
    };

    const steps = options.steps ?? STEPS;
    const rounds = options.rounds ?? ROUNDS;
    const load = loadavg()[0]!;
    log(`  model: GPT-2 style, width ${shape.width}, ${shape.layers} layers, ${shape.heads} heads, vocabulary ${shape.vocab}, ${info.params.toLocaleString('en-US')} parameters${tied.length ? ', tied head' : ''}; batch ${B} x ${T} tokens; AdamW; ${shape.threads} threads each (torch ${info.torch}, ${info.threads} threads)`);
    // Same model, batch and optimizer: the losses after the warm-up steps agree (a check that both sides do the same work).
    const [engineWarm, torchWarm] = [await engineTime(WARMUP), await side.time(WARMUP)];
    const sameWork = Math.abs(engineWarm.loss - torchWarm.loss) <= 1e-3 * Math.abs(torchWarm.loss);
    log(`  loss at step ${WARMUP}: engine ${engineWarm.loss.toFixed(5)}, PyTorch ${torchWarm.loss.toFixed(5)}${sameWork ? '' : ' (DIFFERENT: the two sides do not train the same model; the ratio is not a comparison)'}`);
    const engine: number[] = [];
    const torch: number[] = [];
    for (let r = 0; r < rounds; r++) {
      engine.push((await engineTime(steps)).seconds / steps);
      torch.push((await side.time(steps)).seconds / steps);
      log(`  round ${r + 1}: engine ${(B * T / engine.at(-1)!).toFixed(0)} tokens/s, PyTorch ${(B * T / torch.at(-1)!).toFixed(0)} tokens/s`);
    }
    await trainer.dispose();
    const tokens = B * T;
    const engineTps = tokens / median(engine);
    const torchTps = tokens / median(torch);
    const ratio = engineTps / torchTps;
    log(`  load average at start ${load.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}`);
    return [
      {
        name: `text training GPT-2 w${shape.width} L${shape.layers} T${T} b${B} AdamW, ${shape.threads} threads: tokens/s`,
        value: engineTps,
        unit: 'tokens/s',
        target: '>= PyTorch CPU, same model and batch',
        reference: { name: `PyTorch ${info.torch} CPU`, value: torchTps },
        ratio,
        pass: ratio >= 1 && sameWork,
      },
    ];
  } finally {
    side.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  // `--width N` (and --layers, --heads, --seq, --batch, --vocab, --threads) to measure another size.
  const shape: Partial<typeof SHAPE> = {};
  for (const key of Object.keys(SHAPE) as (keyof typeof SHAPE)[]) {
    const i = process.argv.indexOf(`--${key}`);
    if (i > 0) shape[key] = Number(process.argv[i + 1]);
  }
  try {
    for (const r of await benchText({ log, shape })) {
      log(`${r.pass ? 'PASS' : 'MISS'}  ${r.name}: ${r.value.toFixed(0)} ${r.unit} vs ${r.reference!.value.toFixed(0)} (${r.reference!.name}): ${r.ratio!.toFixed(2)}x  (target ${r.target})`);
    }
  } catch (e) {
    log(`text bench: ${(e as Error).message}`);
  }
}
