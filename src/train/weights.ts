/**
 * Parameters of an inference model: which initializers are trainable, reading them out, and
 * writing a new set back (a student is the same graph with new initializers).
 */
import { decodeModel, readModel } from '../onnx/io.js';
import { trainableParameters } from '../onnx/graph.js';
import { onnx, DataType, dimsOf, graphOf, tensorToFloat32, type ModelProto, type TensorProto } from '../onnx/proto.js';

export type Weights = Map<string, Float32Array>;

/**
 * Trainable by default: FLOAT initializers a differentiable input reads (src/onnx/graph.ts), of
 * rank >= 1 (rank-0 floats are op constants such as GELU's 0.5, not parameters).
 */
export function trainableParams(model: ModelProto): TensorProto[] {
  if (!model.graph) return [];
  return trainableParameters(graphOf(model)).filter((t) => t.dataType === DataType.FLOAT && dimsOf(t).length >= 1);
}

export function readWeights(model: ModelProto, names?: readonly string[]): Weights {
  const wanted = names ? new Set(names) : new Set(trainableParams(model).map((t) => t.name));
  const out: Weights = new Map();
  for (const t of (model.graph?.initializer ?? []) as TensorProto[]) if (wanted.has(t.name)) out.set(t.name, tensorToFloat32(t));
  return out;
}

export function cloneModel(model: ModelProto): ModelProto {
  return onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
}

/** A copy of `model` whose initializers named in `weights` carry the new values (sizes checked). */
export function withWeights(model: ModelProto, weights: ReadonlyMap<string, Float32Array>): ModelProto {
  const copy = cloneModel(model);
  const seen = new Set<string>();
  for (const t of (copy.graph?.initializer ?? []) as TensorProto[]) {
    const w = weights.get(t.name);
    if (!w) continue;
    const size = dimsOf(t).reduce((a, d) => a * d, 1);
    if (w.length !== size) throw new RangeError(`weight ${t.name}: ${w.length} values for a tensor of ${size}`);
    if (t.dataType !== DataType.FLOAT) throw new RangeError(`weight ${t.name}: initializer is not FLOAT`);
    t.rawData = new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
    t.floatData = [];
    seen.add(t.name);
  }
  for (const name of weights.keys()) if (!seen.has(name)) throw new RangeError(`weight ${name} is not an initializer of the model`);
  return copy;
}

/** A model from a file (external data inlined, errors name the file), bytes, or as given. */
export async function loadModelProto(source: string | Uint8Array | ModelProto): Promise<ModelProto> {
  if (typeof source === 'string') return readModel(source);
  if (source instanceof Uint8Array) return decodeModel(source);
  return source;
}
