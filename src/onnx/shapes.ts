/**
 * Static shapes of every value, without hand-written shape inference: run a copy of the model that
 * outputs every intermediate value with onnxruntime, twice, at two sizes of each symbolic input
 * dim; dims that differ between the runs are symbolic (named after the input dim they follow).
 * A decoder's cache inputs (`past_key_values.*`, as Optimum and transformers.js export "with
 * past") are fed empty in both runs, as training feeds them: a symbol only they use (the past
 * length) is 0, so the attention mask's length is the new tokens' length.
 */
import * as ort from './ort.js';
import { AuditInputError } from '../errors.js';
import { Random } from '../random.js';
import { DataType, dimsOf, graphOf, initializersOf, nodesOf, onnx, valueInfoDims, valueInfoElemType, type ModelProto } from './proto.js';

/** Static shape of a value: numbers for known dims, a string for a symbolic (batch) dim. */
export type Shape = readonly (number | string)[];
export type ShapeMap = ReadonlyMap<string, Shape>;

export interface ShapeOptions {
  /** Size of each symbolic input dim (by dim_param) in the first run; the second adds 1. Default 2. */
  dims?: Record<string, number>;
  /** File named in error messages. */
  file?: string;
}

/** Graph inputs holding a decoder's key/value cache (fed with past length 0 for whole sequences). */
export const isPastInput = (name: string): boolean => name.startsWith('past_key_values.') || name.startsWith('past.');

/**
 * A cache input fed empty (past length 0) for `rows` rows, as training, scoring and a first
 * generation step feed it: the batch axis is `rows`, a symbolic axis (the past length) 0.
 */
export function emptyPastTensor(dims: readonly (number | string | undefined)[], rows: number): ort.Tensor {
  return new ort.Tensor('float32', new Float32Array(0), dims.map((d, axis) => (axis === 0 ? rows : typeof d === 'number' ? d : 0)));
}

/** dtype name (onnxruntime's) of every value, filled as a by-product of inferShapes. */
export type DtypeMap = ReadonlyMap<string, string>;

export interface ShapeInference {
  shapes: ShapeMap;
  dtypes: DtypeMap;
}

export async function inferShapes(model: ModelProto, opts: ShapeOptions = {}): Promise<ShapeMap> {
  return (await inferShapesAndTypes(model, opts)).shapes;
}

export async function inferShapesAndTypes(model: ModelProto, opts: ShapeOptions = {}): Promise<ShapeInference> {
  if (!model.graph) throw new AuditInputError(`${opts.file ?? 'model'}: no graph`);
  const graph = graphOf(model);
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const pg = graphOf(probe);
  const initializerNames = new Set(initializersOf(pg).map((t) => t.name));
  const outputs = new Set(pg.output.map((o) => o.name!));
  for (const node of nodesOf(pg)) for (const out of node.output) if (out && !outputs.has(out)) {
    outputs.add(out);
    pg.output.push(onnx.ValueInfoProto.create({ name: out }));
  }
  const feeds = pg.input.filter((i) => !initializerNames.has(i.name!));
  const symbolNames = new Set<string>();
  const pastSymbols = new Set<string>();
  for (const input of feeds) {
    (valueInfoDims(input) ?? []).forEach((d, axis) => {
      if (typeof d !== 'string') return;
      if (isPastInput(input.name!) && axis > 0) pastSymbols.add(d);
      else symbolNames.add(d);
    });
  }
  // A past-length symbol that another input also uses (not one exporter does) is left as a size.
  for (const s of symbolNames) pastSymbols.delete(s);
  const base = (sym: string): number => opts.dims?.[sym] ?? 2;
  // Sample values from a fixed seed: the same model always gets the same probe runs.
  const random = new Random(0x5eed);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { graphOptimizationLevel: 'disabled' });
  } catch (e) {
    throw new AuditInputError(`${opts.file ?? 'model'}: onnxruntime cannot load the model: ${(e as Error).message.split('\n')[0]}`);
  }
  const runAt = async (delta: number): Promise<Map<string, { dims: number[]; type: string }>> => {
    const feed: Record<string, ort.Tensor> = {};
    for (const input of feeds) {
      const dims = (valueInfoDims(input) ?? []).map((d) => (typeof d === 'number' ? d : pastSymbols.has(d) ? 0 : base(d) + delta));
      feed[input.name!] = randomTensor(valueInfoElemType(input), dims, input.name!, random, opts.file);
    }
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feed);
    } catch (e) {
      throw new AuditInputError(`${opts.file ?? 'model'}: running the model on sample inputs failed: ${(e as Error).message.split('\n')[0]}`);
    }
    const map = new Map<string, { dims: number[]; type: string }>();
    for (const [name, t] of Object.entries(result)) map.set(name, { dims: [...t.dims], type: t.type });
    for (const [name, t] of Object.entries(feed)) map.set(name, { dims: [...t.dims], type: t.type });
    return map;
  };
  const first = await runAt(0);
  const second = await runAt(1);
  await session.release();

  const symbolAt = (delta: number): Map<string, number> => new Map([...symbolNames].map((s) => [s, base(s) + delta]));
  const s0 = symbolAt(0);
  const s1 = symbolAt(1);
  const shapes = new Map<string, Shape>();
  const dtypes = new Map<string, string>();
  for (const [name, a] of first) {
    const b = second.get(name);
    dtypes.set(name, a.type);
    shapes.set(name, a.dims.map((d, i) => {
      const d1 = b?.dims[i];
      return d1 === d ? d : symbolicLabel(d, d1 ?? -1, s0, s1);
    }));
  }
  for (const t of initializersOf(graph)) {
    shapes.set(t.name, dimsOf(t));
    dtypes.set(t.name, ORT_TYPE[t.dataType] ?? 'unknown');
  }
  return { shapes, dtypes };
}

/** Names a varying dim after the symbol it is a multiple of, e.g. "N" or "N*4"; "?" otherwise. */
function symbolicLabel(d0: number, d1: number, s0: Map<string, number>, s1: Map<string, number>): string {
  for (const [sym, v0] of s0) {
    const v1 = s1.get(sym)!;
    if (d0 % v0 === 0 && d1 === (d0 / v0) * v1) return d0 === v0 ? sym : `${sym}*${d0 / v0}`;
  }
  return '?';
}

const ORT_TYPE: Record<number, string> = {
  [DataType.FLOAT]: 'float32', [DataType.DOUBLE]: 'float64', [DataType.INT64]: 'int64', [DataType.INT32]: 'int32',
  [DataType.BOOL]: 'bool', [DataType.UINT8]: 'uint8', [DataType.INT8]: 'int8', [DataType.FLOAT16]: 'float16',
};

/** Sample input: small random floats; zeros for integer inputs (valid token ids and indices). */
function randomTensor(elemType: number, dims: number[], name: string, random: Random, file?: string): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (elemType) {
    case DataType.FLOAT: return new ort.Tensor('float32', Float32Array.from({ length: n }, () => random.next() - 0.5), dims);
    case DataType.DOUBLE: return new ort.Tensor('float64', Float64Array.from({ length: n }, () => random.next() - 0.5), dims);
    case DataType.INT64: return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case DataType.INT32: return new ort.Tensor('int32', new Int32Array(n), dims);
    case DataType.BOOL: return new ort.Tensor('bool', new Uint8Array(n), dims);
    case DataType.UINT8: return new ort.Tensor('uint8', new Uint8Array(n), dims);
    default: throw new AuditInputError(`${file ?? 'model'}: input ${name} has unsupported element type ${elemType}`);
  }
}
