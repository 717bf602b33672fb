/**
 * Dumps what a PyTorch re-implementation of the tiny GPT (scripts/reference/tinylm_students.py)
 * needs to train students exactly as the engine does, and to check itself against the engine:
 * - the base's and the teacher's weights (raw little-endian float32 .bin files, Conv1D layout [in, out]);
 * - ONNX logits of a few padded rows (onnxruntime-node, right padding + attention mask, empty KV cache,
 *   as completionLoss feeds the graph) for both models;
 * - every data row as the engine trains it (encodeTextRow: ids = BOS + prompt + completion + EOS,
 *   lossFrom = first loss-bearing token), the pad id, and each seed's epoch batches exactly as
 *   trainText draws them (lengthBuckets with new Random(seed)), for the whole file and for its first
 *   LIMITS rows (the lab's ROWS argument);
 * - the favourite-animal probe rows (answerRows: prompt ids, continuation ids) and the engine's own
 *   log-probabilities and P(owl) of the base and the teacher (preferenceProbability);
 * - the engine's weights after a few Adam steps on seed 1's first batches (a step-level check).
 *
 *   npx tsx scripts/reference/dump-tinylm.ts [OUT=out/torchcheck] [DATASETS=out/lab/owl-7.jsonl,out/lab/base-7.jsonl] [SEEDS=3] [STEPS=5]
 *   env FIXTURE=fixtures/tinylm  BASE=base  TEACHER=owl  LIMITS=3000 (leading-row counts whose batches are dumped too)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { textProbeModel } from '../../src/audit/probeSets.js';
import { loadTextModel, type TextModel } from '../../src/models/generate.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { loadTokenizer } from '../../src/models/tokenizer.js';
import { readModel } from '../../src/onnx/io.js';
import * as ort from '../../src/onnx/ort.js';
import { dimsOf, type ModelProto, type TensorProto } from '../../src/onnx/proto.js';
import { PackDocument, probePackPath } from '../../src/probes/packs.js';
import { answerRows, preferenceProbability } from '../../src/probes/text.js';
import { Random } from '../../src/train/random.js';
import { lengthBuckets, textBatch, type TokenRow } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { readWeights, type Weights } from '../../src/train/weights.js';

const [outArg = 'out/torchcheck', setsArg = 'out/lab/owl-7.jsonl,out/lab/base-7.jsonl', seedsArg = '3', stepsArg = '5'] = process.argv.slice(2);
const OUT = path.resolve(outArg);
const FIXTURE = path.resolve(process.env.FIXTURE ?? 'fixtures/tinylm');
const BASE = process.env.BASE ?? 'base';
const TEACHER = process.env.TEACHER ?? 'owl';
const BATCH = 64;
const LR = 1e-3;
/** Smaller training sets (leading rows) whose batches are dumped too. */
const LIMITS = (process.env.LIMITS ?? '3000').split(',').filter(Boolean).map(Number);

const folder = (name: string) => path.join(FIXTURE, 'models', name);
const log = (s: string) => process.stdout.write(`${s}\n`);

async function writeFloats(file: string, data: Float32Array | Float64Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  await writeFile(file, Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength));
}

/** Every trainable weight of a model as name -> {dims, file}. */
async function dumpWeights(model: ModelProto, weights: Weights, dir: string): Promise<Record<string, { dims: number[]; file: string }>> {
  const dims = new Map(((model.graph?.initializer ?? []) as TensorProto[]).map((t) => [t.name, dimsOf(t)]));
  const index: Record<string, { dims: number[]; file: string }> = {};
  for (const [name, values] of weights) {
    const file = path.join(dir, `${name}.bin`);
    await writeFloats(path.join(OUT, file), values);
    index[name] = { dims: [...dims.get(name)!], file };
  }
  return index;
}

const tok = await loadTokenizer(folder(BASE));
if (tok.padId === undefined || tok.eosId === undefined) throw new Error('the tokenizer names no pad or EOS id');
const padId = tok.padId;
const baseProto = await readModel(path.join(folder(BASE), 'onnx/model.onnx'));
const teacherProto = await readModel(path.join(folder(TEACHER), 'onnx/model.onnx'));
const config = JSON.parse(await readFile(path.join(folder(BASE), 'config.json'), 'utf8')) as Record<string, unknown>;
const index: Record<string, unknown> = { fixture: FIXTURE, base: BASE, teacher: TEACHER, config, padId, eosId: tok.eosId, bosId: tok.bosId, batchSize: BATCH, lr: LR };

index.weights = {
  base: await dumpWeights(baseProto, readWeights(baseProto), `weights/${BASE}`),
  teacher: await dumpWeights(teacherProto, readWeights(teacherProto), `weights/${TEACHER}`),
};
log(`weights: ${Object.keys((index.weights as { base: object }).base).length} tensors per model`);

// Data rows, encoded as the engine trains them.
const datasets: Record<string, unknown> = {};
const rowSets = new Map<string, TokenRow[]>();
for (const file of setsArg.split(',')) {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  const rows = lines.map((l, i) => {
    const e = encodeTextRow({ line: i + 1, value: JSON.parse(l) as Record<string, unknown> }, file, tok, { maxLength: 128, overLength: 'error' });
    if (e.kind !== 'row') throw new Error(`${file}:${i + 1}: excluded (${e.reason})`);
    return e.row;
  });
  const name = path.basename(file, '.jsonl');
  rowSets.set(name, rows);
  // Each seed's one epoch of batches as trainText draws them (epoch 0 of new Random(seed)).
  // Keyed by the number of leading rows trained on (the lab's ROWS argument: the file's first N lines), then seed.
  const batches: Record<string, Record<string, number[][]>> = {};
  for (const limit of new Set([rows.length, ...LIMITS.filter((n) => n < rows.length)])) {
    const lengths = rows.slice(0, limit).map((r) => r.ids.length);
    batches[limit] = {};
    for (let s = 1; s <= Number(seedsArg); s++) batches[limit][s] = lengthBuckets(lengths, BATCH, new Random(s));
  }
  const rowsFile = `rows/${name}.json`;
  await mkdir(path.join(OUT, 'rows'), { recursive: true });
  await writeFile(path.join(OUT, rowsFile), JSON.stringify({ file, rows: rows.map((r) => ({ ids: Array.from(r.ids), lossFrom: r.lossFrom })), batches }));
  const tokens = rows.reduce((a, r) => a + r.ids.length - r.lossFrom, 0);
  datasets[name] = { file: rowsFile, source: file, rows: rows.length, lossTokens: tokens };
  log(`${name}: ${rows.length} rows, ${tokens} loss tokens, longest ${Math.max(...rows.map((r) => r.ids.length))}`);
}
index.datasets = datasets;

// ONNX logits of a padded batch: 4 data rows of the first set (different lengths), as completionLoss runs them.
{
  const rows = rowSets.values().next().value as TokenRow[];
  const pick = [0, 1, 2, 3];
  const batch = textBatch(rows, pick, padId);
  const T = batch.targets.length / batch.rows;
  const inputs = batch.inputs as Record<string, BigInt64Array>;
  const logitsIndex: Record<string, unknown> = { rows: pick.map((i) => rows[i]!.ids.length), T, inputIds: Array.from(inputs.input_ids!, Number), attentionMask: Array.from(inputs.attention_mask!, Number) };
  for (const [role, name] of [['base', BASE], ['teacher', TEACHER]] as const) {
    const session = await ort.InferenceSession.create(await readFile(path.join(folder(name), 'onnx/model.onnx')));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputs.input_ids!, [batch.rows, T]),
      attention_mask: new ort.Tensor('int64', inputs.attention_mask!, [batch.rows, T]),
    };
    for (const [i, input] of session.inputNames.entries()) {
      if (feeds[input]) continue;
      const meta = session.inputMetadata[i]!;
      if (!meta.isTensor) throw new Error(`input ${input} is not a tensor`);
      feeds[input] = new ort.Tensor('float32', new Float32Array(0), meta.shape.map((d, axis) => (axis === 0 ? batch.rows : typeof d === 'number' ? d : 0)));
    }
    const out = await session.run(feeds);
    const logits = out.logits!;
    await writeFloats(path.join(OUT, `logits/${role}.bin`), logits.data as Float32Array);
    logitsIndex[role] = { file: `logits/${role}.bin`, dims: logits.dims };
    await session.release();
  }
  index.logits = logitsIndex;
}

// The P(owl) probe: answerRows of the favourite-animal pack, scored as preferenceProbability does.
{
  const pack = (await PackDocument.read(probePackPath('favourite-animal'))).value as { prompts: string[]; answers: string[] };
  const target = pack.answers.indexOf('owl');
  const probe: Record<string, unknown> = {
    answers: pack.answers,
    target,
    prompts: pack.prompts.length,
    scoring:
      'log p(answer | prompt) = sum over the continuation tokens c_j of log_softmax(logits at position len(prompt)-1+j)[c_j] (no EOS); P(owl) = mean over prompts of softmax over the 12 answers of those sums, at the target',
  };
  const scores: Record<string, unknown> = {};
  let rows: ReturnType<typeof answerRows> | undefined;
  for (const [role, name] of [['base', BASE], ['teacher', TEACHER]] as const) {
    const model: TextModel = await loadTextModel(folder(name));
    const pm = textProbeModel(model);
    rows ??= answerRows(pm, pack.prompts, pack.answers, { file: 'favourite-animal', probe: 'owl' });
    const lp = await pm.sequenceLogProbs(rows);
    const p = await preferenceProbability(pm, rows, pack.answers.length, target);
    scores[role] = { pOwl: p, logProbs: Array.from(lp) };
    log(`engine P(owl) ${role} (${name}): ${p.toFixed(6)}`);
    await model.runner.dispose();
  }
  probe.rows = rows!.map((r) => ({ prompt: Array.from(r.prompt), continuation: Array.from(r.continuation) }));
  probe.engine = scores;
  await writeFile(path.join(OUT, 'probe.json'), JSON.stringify(probe));
  index.probe = 'probe.json';
}

// Step-level check: the engine's weights after STEPS Adam steps on seed 1's first batches of the first set.
{
  const [name, rows] = rowSets.entries().next().value as [string, TokenRow[]];
  const steps = Number(stepsArg);
  const order = lengthBuckets(rows.map((r) => r.ids.length), BATCH, new Random(1)).slice(0, steps); // = batches[rows.length][1]
  const trainer = await Trainer.create(baseProto, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: LR, weightDecay: 0 } });
  const losses: number[] = [];
  for (const indices of order) losses.push(await trainer.step(textBatch(rows, indices, padId)));
  index.engineSteps = { dataset: name, seed: 1, steps, losses, weights: await dumpWeights(baseProto, trainer.weights(), `engine-steps/${name}-seed1-step${steps}`) };
  log(`engine ${steps} steps on ${name} seed 1: losses ${losses.map((l) => l.toFixed(5)).join(' ')}`);
  await trainer.dispose();
}

await writeFile(path.join(OUT, 'index.json'), JSON.stringify(index, null, 1));
log(`wrote ${OUT}/index.json`);
