/** The walker on whole models: symbolic batch, unsupported ops on and off the gradient path. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradients } from '../../src/autodiff/gradients.js';
import type { GradientRule } from '../../src/autodiff/api.js';
import { trainingOpset } from '../../src/autodiff/opset.js';
import { RULES } from '../../src/autodiff/rules.js';
import { unsupportedOps } from '../../src/autodiff/unsupported.js';
import { UnsupportedModelError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { defaultOpset, makeModel, onnx, tensorValueInfo, type GraphProto, type ModelProto } from '../../src/onnx/proto.js';
import { inferShapes } from '../../src/onnx/shapes.js';
import { mlpModel, seededRandom, uniform } from '../helpers/models.js';

/** Appends loss = mean(logits^2) (a scalar) to a copy of the model. */
function withLoss(model: ModelProto): { model: ModelProto; graph: GraphProto; loss: string } {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = copy.graph as GraphProto;
  const b = new GraphBuilder(graph, 'loss/');
  const loss = b.op('ReduceMean', [b.op('Mul', ['logits', 'logits'])], { keepdims: 0 }, 'loss');
  graph.output = [tensorValueInfo(loss, [])];
  return { model: copy, graph, loss };
}

describe('walker on an MLP with a symbolic batch dim', () => {
  for (const style of ['gemm', 'matmul'] as const) {
    it(`${style}: gradients at batch 7 (shapes inferred at 2 and 3) match finite differences`, async () => {
      const { model, graph, loss } = withLoss(mlpModel({ sizes: [6, 5, 4, 3], style, seed: 5, activation: 'Tanh' }));
      const shapes = await inferShapes(model);
      expect(shapes.get('input')).toEqual(['N', 6]);
      const forwardBytes = onnx.ModelProto.encode(model).finish();
      const params = ['fc1.weight', 'fc1.bias', 'fc3.weight'];
      const grads = buildGradients({ graph, loss, wrt: params, shapes });
      for (const p of params) graph.output.push(onnx.ValueInfoProto.create({ name: grads.get(p)! }));
      const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
      const input = new ort.Tensor('float32', uniform(seededRandom(3), 7 * 6), [7, 6]);
      const out = await session.run({ input });
      // Finite difference on fc1.weight[2] by editing the initializer in the forward model.
      const lossWith = async (delta: number): Promise<number> => {
        const m = onnx.ModelProto.decode(forwardBytes);
        const t = m.graph!.initializer!.find((x) => x.name === 'fc1.weight')!;
        const data = new Float32Array(new Uint8Array(t.rawData!).buffer);
        data[2]! += delta;
        t.rawData = new Uint8Array(data.buffer);
        const s = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
        return ((await s.run({ input }))[loss]!.data as Float32Array)[0]!;
      };
      const numeric = ((await lossWith(1e-2)) - (await lossWith(-1e-2))) / 2e-2;
      const analytic = (out[grads.get('fc1.weight')!]!.data as Float32Array)[2]!;
      expect(Math.abs(analytic - numeric)).toBeLessThan(1e-3 + 2e-2 * Math.abs(numeric));
      expect(out[grads.get('fc1.bias')!]!.dims).toEqual([5]);
    });
  }
});

describe('walker on a Concat with a symbolic axis (an empty past_key_values fed for training)', () => {
  it('splits the gradient at run-time sizes, for a past of length 0 and 3', async () => {
    const graph = onnx.GraphProto.create({ name: 'past' });
    graph.input.push(tensorValueInfo('past', [1, 'past_sequence', 4]));
    const b = new GraphBuilder(graph);
    const w = uniform(seededRandom(4), 8);
    b.constFloat([...w], [1, 2, 4], 'w');
    const y = b.op('Concat', ['past', b.op('Mul', ['w', 'w'])], { axis: 1 });
    const loss = b.op('ReduceSum', [b.op('Mul', [y, y])], { keepdims: 0 }, 'loss');
    graph.output.push(tensorValueInfo(loss, []));
    const model = makeModel(graph, 17);
    const shapes = await inferShapes(model);
    expect(typeof shapes.get(y)![1]).toBe('string'); // symbolic
    const grads = buildGradients({ graph, loss, wrt: ['w'], shapes });
    graph.output.push(onnx.ValueInfoProto.create({ name: grads.get('w')! }));
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    for (const length of [0, 3]) {
      const r = await s.run({ past: new ort.Tensor('float32', new Float32Array(length * 4).fill(0.5), [1, length, 4]) });
      // loss = sum(past^2) + sum(w^4): d/dw = 4 w^3
      const g = Array.from(r[grads.get('w')!]!.data as Float32Array);
      g.forEach((v, i) => expect(v).toBeCloseTo(4 * w[i]! ** 3, 5));
    }
    await s.release();
  });
});

/** A model with an op that has no gradient rule (HardSigmoid), on or off the path from w to the output. */
function modelWithUnruled(onPath: boolean): { model: ModelProto; graph: GraphProto } {
  const graph = onnx.GraphProto.create({ name: 'm' });
  graph.input.push(tensorValueInfo('x', [2, 3]));
  const b = new GraphBuilder(graph);
  b.constFloat(Array.from({ length: 9 }, (_, i) => i / 10), [3, 3], 'w');
  const h = b.op('MatMul', ['x', 'w'], {}, 'h');
  const main = onPath ? b.node('HardSigmoid', [h], {}, { outputs: ['z'], name: 'odd_node' })[0]! : h;
  const out = b.op('ReduceSum', [main], { keepdims: 0 }, 'out');
  graph.output.push(tensorValueInfo(out, []));
  if (!onPath) {
    // A side branch on the input only (no parameter reaches it).
    b.node('HardSigmoid', ['x'], {}, { outputs: ['side'], name: 'odd_node' });
    graph.output.push(tensorValueInfo('side', [2, 3]));
  }
  return { model: makeModel(graph, 17), graph };
}

describe('unsupported ops', () => {
  it('an op with no rule on the gradient path is a one-line UnsupportedModelError naming op and node', async () => {
    const { model, graph } = modelWithUnruled(true);
    const shapes = await inferShapes(model);
    expect(() => buildGradients({ graph, loss: 'out', wrt: ['w'], shapes })).toThrow(UnsupportedModelError);
    expect(() => buildGradients({ graph, loss: 'out', wrt: ['w'], shapes })).toThrow('unsupported op HardSigmoid at node odd_node: no gradient rule');
    expect(unsupportedOps(model)).toEqual([{ opType: 'HardSigmoid', node: 'odd_node' }]);
  });
  it('an op with no rule off the gradient path is fine', async () => {
    const { model, graph } = modelWithUnruled(false);
    const shapes = await inferShapes(model);
    const grads = buildGradients({ graph, loss: 'out', wrt: ['w'], shapes });
    expect(grads.get('w')).toBeTruthy();
    expect(unsupportedOps(model)).toEqual([]);
  });
  it('a backward graph below opset 16 is refused; trainingOpset raises 13-15 to 16 and refuses older models', async () => {
    const { graph } = modelWithUnruled(false);
    expect(() => buildGradients({ graph, loss: 'out', wrt: ['w'], shapes: new Map(), opset: 14 })).toThrow(
      'the backward graph needs opset 16 or later, the graph runs at opset 14',
    );
    const at = (opset: number): ModelProto => makeModel(modelWithUnruled(false).graph, opset);
    const m14 = at(14);
    expect(trainingOpset(m14)).toBe(16);
    expect(defaultOpset(m14)).toBe(16);
    expect(trainingOpset(at(17))).toBe(17);
    expect(() => trainingOpset(at(12))).toThrow('unsupported model opset 12: training needs opset 13 or later');
  });
  it('a rule that answers the wrong number of inputs is a bug naming the op and node', async () => {
    const { model, graph } = modelWithUnruled(false);
    const shapes = await inferShapes(model);
    const rules = RULES as Record<string, GradientRule>;
    const matmul = rules.MatMul!;
    rules.MatMul = (ctx) => matmul(ctx).slice(0, 1);
    try {
      expect(() => buildGradients({ graph, loss: 'out', wrt: ['w'], shapes })).toThrow(/the MatMul rule returned 1 gradients for 2 inputs at node MatMul_node/);
    } finally {
      rules.MatMul = matmul;
    }
  });
  it('a parameter the loss does not reach gets a zero gradient', async () => {
    const { model, graph } = modelWithUnruled(false);
    const b = new GraphBuilder(graph);
    b.constFloat([1, 2], [2], 'unused');
    const shapes = await inferShapes(model);
    const grads = buildGradients({ graph, loss: 'out', wrt: ['w', 'unused'], shapes });
    graph.output.push(onnx.ValueInfoProto.create({ name: grads.get('unused')! }));
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
    expect(Array.from(r[grads.get('unused')!]!.data as Float32Array)).toEqual([0, 0]);
  });
});
