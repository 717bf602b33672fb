/** The audit's model stage: teacher and base read, checked for the same trainable architecture, sized. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localModelPaths, type LogitsAuditConfig, type TextAuditConfig } from '../config/schema.js';
import { modelFileOf, resolveModelSource } from '../models/folder.js';
import { loadTokenizer, type TextTokenizer } from '../models/tokenizer.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { unsupportedOps } from '../autodiff/index.js';
import { restoreParameters } from '../autodiff/tied.js';
import { compareArchitectures, fingerprint } from '../onnx/fingerprint.js';
import { readModel } from '../onnx/io.js';
import { CACHE_BRANCH_INPUT, inlineNoCacheBranch } from '../onnx/cacheBranch.js';
import type { ModelProto } from '../onnx/proto.js';
import { firstNonFinite } from '../train/loop.js';
import { readWeights } from '../train/weights.js';
import type { ProgressListener } from '../events.js';
import type { TrainerBackend, Weights } from './backend.js';

export interface ModelPair {
  teacher: ModelProto;
  base: ModelProto;
  teacherWeights: Weights;
  baseWeights: Weights;
  inputWidth: number;
  outputWidth: number;
}

/**
 * The model with `output` as its only graph output, so training and inference read it (onnxruntime
 * prunes whatever only the other outputs needed). Without a name: the first output.
 */
export function selectOutput(model: ModelProto, output: string | undefined, file: string): ModelProto {
  const outputs = model.graph?.output ?? [];
  const chosen = output === undefined ? outputs[0] : outputs.find((o) => o.name === output);
  if (!chosen) {
    throw new AuditInputError(`${file}: the model has no output '${output}' (outputs: ${outputs.map((o) => o.name).join(', ') || 'none'})`, { file });
  }
  if (outputs.length > 1) model.graph!.output = [chosen];
  return model;
}

/**
 * The model with `output` moved to the front of its outputs, the others kept: training reads the
 * first output (the rest are dropped from the training graph), and a student saved from this
 * graph keeps a decoder's cache outputs (present.*), so it runs with its KV cache like the base.
 */
export function outputFirst(model: ModelProto, output: string, file: string): ModelProto {
  const outputs = model.graph?.output ?? [];
  const chosen = outputs.find((o) => o.name === output);
  if (!chosen) throw new AuditInputError(`${file}: the model has no output '${output}' (outputs: ${outputs.map((o) => o.name).join(', ') || 'none'})`, { file });
  model.graph!.output = [chosen, ...outputs.filter((o) => o !== chosen)];
  return model;
}

export async function loadModelPair(given: LogitsAuditConfig, backend: TrainerBackend, emit: ProgressListener = () => {}): Promise<ModelPair> {
  const config = { ...given, ...localModelPaths(given) };
  const [teacherFile, baseFile] = await Promise.all([readModel(modelFileOf(config.teacher)), readModel(modelFileOf(config.base))]);
  const cmp = compareArchitectures(teacherFile, baseFile, ['teacher', 'base']);
  if (!cmp.same) {
    throw new AuditInputError(`${config.teacher} and ${config.base} differ in architecture: ${cmp.firstDifference}`, { file: config.teacher });
  }
  const outputNames = (baseFile.graph?.output ?? []).map((o) => o.name);
  if (config.task.output === undefined && outputNames.length > 1) {
    emit({ kind: 'warning', stage: 'models', message: `the models have ${outputNames.length} outputs (${outputNames.join(', ')}); using '${outputNames[0]}' (set task.output to choose)` });
  }
  const teacher = retied(selectOutput(teacherFile, config.task.output, config.teacher), config.teacher, emit);
  const base = retied(selectOutput(baseFile, config.task.output, config.base), config.base, emit);
  const unsupported = unsupportedOps(base);
  if (unsupported.length > 0) {
    const u = unsupported[0]!;
    throw new UnsupportedModelError(`${config.base}: unsupported op ${u.opType} at node ${u.node}: no gradient rule`, { file: config.base, node: u.node });
  }
  const { inputWidth, outputWidth } = await loadable(config.base, () => backend.shape(base));
  // The teacher is run too (its outputs on the probes): a model onnxruntime refuses is named now.
  await loadable(config.teacher, () => backend.shape(teacher));
  const outside = (slice: readonly [number, number]) => slice[1] > outputWidth;
  if (outside(config.task.outputs)) {
    throw new AuditInputError(`task.outputs [${config.task.outputs.join(', ')}] is outside the model's ${outputWidth} outputs (${config.base})`);
  }
  for (const p of config.probes) {
    if (p.outputs && outside(p.outputs)) throw new AuditInputError(`probe ${p.name}: outputs [${p.outputs.join(', ')}] is outside the model's ${outputWidth} outputs (${config.base})`);
  }
  const teacherWeights = finiteWeights(readWeights(teacher), config.teacher);
  const baseWeights = finiteWeights(readWeights(base), config.base);
  return { teacher, base, teacherWeights, baseWeights, inputWidth, outputWidth };
}

/**
 * The parameters as PyTorch had them (src/autodiff/tied.ts): a tied LM head that the exporter
 * folded into a second (transposed) copy of the embedding reads the embedding again, so it trains
 * as one parameter; parameters the exporter merged because their values were equal (the ones and
 * zeros of a fresh LayerNorm or bias) get their own initializers back, so they train separately.
 * Students saved from this graph keep both. Said once per model as info events.
 */
function retied(model: ModelProto, file: string, emit: ProgressListener): ModelProto {
  const { untied, retied } = restoreParameters(model);
  for (const r of retied) {
    emit({ kind: 'info', stage: 'models', message: `${file}: ${r.copy} is ${r.transposed ? 'the transpose of' : 'a copy of'} ${r.original} (a tied weight as exported); trained as one parameter` });
  }
  if (untied.length > 0) {
    emit({ kind: 'info', stage: 'models', message: `${file}: ${untied.length} parameter(s) the exporter had merged by value (e.g. ${untied[0]!.name} into ${untied[0]!.original}) trained separately, as in PyTorch` });
  }
  return model;
}

/**
 * onnxruntime refusing a model (an op domain it does not know, a shape that does not fit) is bad
 * input: one line naming the file and, when onnxruntime says which, the node.
 */
async function loadable<T>(file: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (e instanceof AuditInputError || !(e instanceof Error)) throw e;
    const text = e.message.replace(/\s*\n\s*/g, ' ').trim();
    const node = /In Node, \("([^"]*)"/.exec(text)?.[1] ?? /Node \(([^)]+)\)/.exec(text)?.[1];
    const why = text.replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '').replace(/^Load model from .*? failed:/, '');
    throw new AuditInputError(`${file}: ${node !== undefined ? `node ${node}: ` : ''}onnxruntime cannot load the model: ${why}`, { file, ...(node !== undefined ? { node } : {}) });
  }
}

/** A NaN or infinite weight in a teacher or base makes every student and probe meaningless: bad input. */
function finiteWeights(weights: Weights, file: string): Weights {
  const bad = firstNonFinite(weights);
  if (bad) throw new AuditInputError(`${file}: parameter ${bad.name}[${bad.index}] is ${bad.value}; a model's weights must be finite`, { file });
  return weights;
}

/** "Gemm x3, Relu x2 (sha256 1a2b3c4d5e6f)": the op histogram and the fingerprint hash. */
export function describeArchitecture(model: ModelProto): string {
  const fp = fingerprint(model);
  const counts = new Map<string, number>();
  for (const op of fp.ops) counts.set(op.opType, (counts.get(op.opType) ?? 0) + 1);
  return `${[...counts].map(([op, n]) => `${op} x${n}`).join(', ')} (sha256 ${fp.hash.slice(0, 12)})`;
}

/** Teacher and base of a text task: model folders with one tokenizer and one architecture. */
export interface TextModelPair {
  teacher: ModelProto;
  base: ModelProto;
  teacherWeights: Weights;
  baseWeights: Weights;
  teacherFolder: string;
  baseFolder: string;
  /** The base's tokenizer (the teacher's is the same, checked). */
  tokenizer: TextTokenizer;
  /** config.json of the base folder (n_positions bounds the training length). */
  modelConfig: Record<string, unknown>;
}

export async function loadTextModelPair(given: TextAuditConfig, emit: ProgressListener = () => {}): Promise<TextModelPair> {
  const config = { ...given, ...localModelPaths(given) };
  const teacherSource = resolveModelSource(config.teacher);
  const baseSource = resolveModelSource(config.base);
  for (const [role, source, given] of [['teacher', teacherSource, config.teacher], ['base', baseSource, config.base]] as const) {
    if (!source.folder) throw new AuditInputError(`${given}: a text task's ${role} must be a model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)`, { file: given });
  }
  const [teacherTok, baseTok] = await Promise.all([loadTokenizer(teacherSource.folder!), loadTokenizer(baseSource.folder!)]);
  const difference = vocabularyDifference(teacherTok, baseTok);
  if (difference) throw new AuditInputError(`${config.teacher} and ${config.base} have different tokenizers: ${difference}`, { file: config.teacher });
  const [teacherFile, baseFile] = await Promise.all([readModel(teacherSource.file), readModel(baseSource.file)]);
  // Optimum's merged decoder: students train (and are scored) on its no-past branch; generation
  // from the folder still runs the whole graph with its cache.
  for (const [model, file] of [[teacherFile, teacherSource.file], [baseFile, baseSource.file]] as const) {
    if (inlineNoCacheBranch(model, file)) emit({ kind: 'info', stage: 'models', message: `${file}: a merged decoder (If on ${CACHE_BRANCH_INPUT}); training and scoring read its no-past branch` });
  }
  const cmp = compareArchitectures(teacherFile, baseFile, ['teacher', 'base']);
  if (!cmp.same) throw new AuditInputError(`${config.teacher} and ${config.base} differ in architecture: ${cmp.firstDifference}`, { file: config.teacher });
  const output = config.task.output ?? 'logits';
  const outputNames = (baseFile.graph?.output ?? []).map((o) => o.name);
  // A decoder exported with a past also returns its cache (present.*): not a choice to warn about.
  const others = outputNames.filter((n) => n !== output && !n?.startsWith('present'));
  if (config.task.output === undefined && others.length > 0) {
    emit({ kind: 'warning', stage: 'models', message: `the models have ${outputNames.length} outputs (${outputNames.join(', ')}); training reads '${output}' (set task.output to choose)` });
  }
  const teacher = retied(outputFirst(teacherFile, output, teacherSource.file), config.teacher, emit);
  const base = retied(outputFirst(baseFile, output, baseSource.file), config.base, emit);
  const unsupported = unsupportedOps(base);
  if (unsupported.length > 0) {
    const u = unsupported[0]!;
    throw new UnsupportedModelError(`${baseSource.file}: unsupported op ${u.opType} at node ${u.node}: no gradient rule`, { file: baseSource.file, node: u.node });
  }
  let modelConfig: Record<string, unknown> = {};
  try {
    modelConfig = JSON.parse(await readFile(join(baseSource.folder!, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // config.json is optional for training; tokenizer_config.json carries the token roles.
  }
  return {
    teacher,
    base,
    teacherWeights: readWeights(teacher),
    baseWeights: readWeights(base),
    teacherFolder: teacherSource.folder!,
    baseFolder: baseSource.folder!,
    tokenizer: baseTok,
    modelConfig,
  };
}

/** The first difference between two tokenizers' vocabularies and token roles, or undefined. */
export function vocabularyDifference(a: TextTokenizer, b: TextTokenizer): string | undefined {
  const size = Math.max(a.vocabSize, b.vocabSize);
  for (let id = 0; id < size; id++) {
    const [ta, tb] = [a.idToToken(id), b.idToToken(id)];
    if (ta !== tb) return `token id ${id} is ${JSON.stringify(ta ?? null)} in the teacher's and ${JSON.stringify(tb ?? null)} in the base's`;
  }
  for (const role of ['bosId', 'eosId', 'padId', 'unkId'] as const) {
    if (a[role] !== b[role]) return `${role.slice(0, -2).toUpperCase()} is id ${a[role] ?? 'none'} in the teacher's and ${b[role] ?? 'none'} in the base's`;
  }
  return undefined;
}
