/** The audit's model stage: teacher and base read, checked for the same trainable architecture, sized. */
import type { AuditConfig } from '../config/schema.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { unsupportedOps } from '../autodiff/index.js';
import { compareArchitectures, fingerprint } from '../onnx/fingerprint.js';
import { readModel } from '../onnx/io.js';
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

export async function loadModelPair(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener = () => {}): Promise<ModelPair> {
  const [teacherFile, baseFile] = await Promise.all([readModel(config.teacher), readModel(config.base)]);
  const cmp = compareArchitectures(teacherFile, baseFile, ['teacher', 'base']);
  if (!cmp.same) {
    throw new AuditInputError(`${config.teacher} and ${config.base} differ in architecture: ${cmp.firstDifference}`, { file: config.teacher });
  }
  const outputNames = (baseFile.graph?.output ?? []).map((o) => o.name);
  if (config.task.output === undefined && outputNames.length > 1) {
    emit({ kind: 'warning', stage: 'models', message: `the models have ${outputNames.length} outputs (${outputNames.join(', ')}); using '${outputNames[0]}' (set task.output to choose)` });
  }
  const teacher = selectOutput(teacherFile, config.task.output, config.teacher);
  const base = selectOutput(baseFile, config.task.output, config.base);
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
    if (outside(p.outputs)) throw new AuditInputError(`probe ${p.name}: outputs [${p.outputs.join(', ')}] is outside the model's ${outputWidth} outputs (${config.base})`);
  }
  const teacherWeights = finiteWeights(readWeights(teacher), config.teacher);
  const baseWeights = finiteWeights(readWeights(base), config.base);
  return { teacher, base, teacherWeights, baseWeights, inputWidth, outputWidth };
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
