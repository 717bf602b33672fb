/**
 * Finite-difference checker for gradient rules: builds a one-op (or few-op) model, a scalar loss
 * sum(out * R) with fixed random R, differentiates it, and compares every analytic gradient
 * element (up to `samples` per input) with a central difference of the float32 forward pass.
 */
import * as ort from 'onnxruntime-node';
import { buildGradients } from '../../src/autodiff/gradients.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { DataType, float32Tensor, makeModel, onnx, tensorValueInfo, type GraphProto, type ModelProto } from '../../src/onnx/proto.js';
import { inferShapes } from '../../src/onnx/shapes.js';
import { seededRandom, uniform } from '../helpers/models.js';

export interface InputSpec {
  dims: number[];
  /** Float data; random U(-1,1) when absent. */
  data?: Float32Array | number[];
  /** An int64 input (indices, shapes) instead of a float one. */
  int64?: number[];
}

export interface GradCase {
  inputs: Record<string, InputSpec>;
  wrt: string[];
  /** Emits the op(s) under test; returns the output to put the loss on. */
  build: (b: GraphBuilder, graph: GraphProto) => string;
  opset?: number;
  seed?: number;
  eps?: number;
  samples?: number;
}

export interface GradCheck {
  /** Largest |analytic - numeric| / (atol + rtol * scale) over all checked elements (<= 1 passes). */
  worst: number;
  details: string[];
  /** Op types of the backward nodes emitted. */
  backwardOps: string[];
  checked: number;
}

const ATOL = 2e-3;
const RTOL = 2e-2;

export async function checkGradients(c: GradCase): Promise<GradCheck> {
  const rand = seededRandom(c.seed ?? 7);
  const feeds: Record<string, ort.Tensor> = {};
  const graph = onnx.GraphProto.create({ name: 'case' });
  for (const [name, spec] of Object.entries(c.inputs)) {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    if (spec.int64) {
      graph.input.push(tensorValueInfo(name, spec.dims, DataType.INT64));
      feeds[name] = new ort.Tensor('int64', BigInt64Array.from(spec.int64.map(BigInt)), spec.dims);
    } else {
      graph.input.push(tensorValueInfo(name, spec.dims));
      feeds[name] = new ort.Tensor('float32', spec.data ? Float32Array.from(spec.data) : uniform(rand, n), spec.dims);
    }
  }
  const b = new GraphBuilder(graph);
  const out = c.build(b, graph);
  graph.output.push(onnx.ValueInfoProto.create({ name: out }));
  const outShape = (await inferShapes(makeModel(graph, c.opset ?? 17))).get(out)!;
  const numel = (outShape as number[]).reduce((a, d) => a * d, 1);
  const weights = b.initializer(float32Tensor('R', outShape as number[], uniform(rand, numel)));
  const loss = b.op('ReduceSum', [b.op('Mul', [out, weights])], { keepdims: 0 }, 'loss');
  graph.output = [tensorValueInfo(loss, [])];
  const forward: ModelProto = makeModel(graph, c.opset ?? 17);
  const shapes = await inferShapes(forward);

  const training = onnx.ModelProto.decode(onnx.ModelProto.encode(forward).finish());
  const tg = training.graph as GraphProto;
  const before = tg.node.length;
  const grads = buildGradients({ graph: tg, loss, wrt: c.wrt, shapes, opset: c.opset ?? 17 });
  const backwardOps = tg.node.slice(before).map((n) => n.opType!);
  for (const w of c.wrt) tg.output.push(onnx.ValueInfoProto.create({ name: grads.get(w)! }));

  const fwd = await ort.InferenceSession.create(onnx.ModelProto.encode(forward).finish());
  const bwd = await ort.InferenceSession.create(onnx.ModelProto.encode(training).finish());
  const analytic = await bwd.run(feeds);
  const eps = c.eps ?? 1e-2;
  const lossAt = async (name: string, index: number, delta: number): Promise<number> => {
    const base = feeds[name]!.data as Float32Array;
    const data = Float32Array.from(base);
    data[index]! += delta;
    const r = await fwd.run({ ...feeds, [name]: new ort.Tensor('float32', data, feeds[name]!.dims) });
    return (r[loss]!.data as Float32Array)[0]!;
  };
  let worst = 0;
  let checked = 0;
  const details: string[] = [];
  for (const w of c.wrt) {
    const g = analytic[grads.get(w)!]!.data as Float32Array;
    const size = (feeds[w]!.data as Float32Array).length;
    if (g.length !== size) throw new Error(`gradient of ${w} has ${g.length} elements, expected ${size}`);
    const samples = Math.min(size, c.samples ?? 24);
    for (let s = 0; s < samples; s++) {
      const index = samples === size ? s : Math.floor(rand() * size);
      const numeric = ((await lossAt(w, index, eps)) - (await lossAt(w, index, -eps))) / (2 * eps);
      const err = Math.abs(g[index]! - numeric) / (ATOL + RTOL * Math.max(Math.abs(numeric), Math.abs(g[index]!)));
      checked++;
      if (err > worst) worst = err;
      if (err > 1) details.push(`${w}[${index}]: analytic ${g[index]} vs numeric ${numeric}`);
    }
  }
  await fwd.release();
  await bwd.release();
  return { worst, details: details.slice(0, 5), backwardOps, checked };
}
