/** Every gradient rule against central finite differences, including broadcasting cases. */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/autodiff/rules.js';
import { f, GraphBuilder } from '../../src/onnx/builder.js';
import { onnx } from '../../src/onnx/proto.js';
import { checkGradients, type GradCase } from './check.js';
import { seededRandom } from '../helpers/models.js';

const rand = seededRandom(99);
/** Values in [0.5, 1.5): safe for Log, Sqrt, Div, Pow. */
const positive = (n: number): number[] => Array.from({ length: n }, () => 0.5 + rand());
/** Values at least 0.15 away from 0: FD steps never cross a Relu kink. */
const awayFromZero = (n: number): number[] => Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1) * (0.15 + rand()));
/** Distinct, well-separated values (no ties for MaxPool), shuffled. */
const distinct = (n: number): number[] => {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
};

async function expectGradientsMatch(c: GradCase): Promise<string[]> {
  const r = await checkGradients(c);
  expect(r.details).toEqual([]);
  expect(r.checked).toBeGreaterThan(0);
  return r.backwardOps;
}

const cases: Record<string, GradCase> = {
  'Gemm transA alpha beta, C broadcast [1,3]': {
    inputs: { a: { dims: [5, 4] }, w: { dims: [5, 3] }, c: { dims: [1, 3] } },
    wrt: ['a', 'w', 'c'],
    build: (b) => b.op('Gemm', ['a', 'w', 'c'], { transA: 1, alpha: f(0.5), beta: f(2) }),
  },
  'Gemm transA transB, C [4,1]': {
    inputs: { a: { dims: [5, 4] }, w: { dims: [3, 5] }, c: { dims: [4, 1] } },
    wrt: ['a', 'w', 'c'],
    build: (b) => b.op('Gemm', ['a', 'w', 'c'], { transA: 1, transB: 1 }),
  },
  'Gemm plain, scalar C': {
    inputs: { a: { dims: [4, 5] }, w: { dims: [5, 3] }, c: { dims: [] } },
    wrt: ['a', 'w', 'c'],
    build: (b) => b.op('Gemm', ['a', 'w', 'c'], { beta: f(-1.5) }),
  },
  'MatMul 2-D': { inputs: { a: { dims: [4, 5] }, w: { dims: [5, 3] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']) },
  'MatMul 3-D @ 2-D': { inputs: { a: { dims: [2, 4, 5] }, w: { dims: [5, 3] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']) },
  'MatMul batched with broadcast batch dims': {
    inputs: { a: { dims: [2, 1, 3, 4] }, w: { dims: [3, 4, 5] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']),
  },
  'MatMul 1-D @ 3-D': { inputs: { a: { dims: [4] }, w: { dims: [2, 4, 3] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']) },
  'MatMul 2-D @ 1-D': { inputs: { a: { dims: [3, 4] }, w: { dims: [4] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']) },
  'MatMul 1-D @ 1-D': { inputs: { a: { dims: [4] }, w: { dims: [4] } }, wrt: ['a', 'w'], build: (b) => b.op('MatMul', ['a', 'w']) },
  'Add broadcast [2,3,4] + [3,1]': { inputs: { a: { dims: [2, 3, 4] }, c: { dims: [3, 1] } }, wrt: ['a', 'c'], build: (b) => b.op('Add', ['a', 'c']) },
  'Sub broadcast [4] - [2,3,4]': { inputs: { a: { dims: [4] }, c: { dims: [2, 3, 4] } }, wrt: ['a', 'c'], build: (b) => b.op('Sub', ['a', 'c']) },
  'Mul broadcast [2,3,1] * [1,4]': { inputs: { a: { dims: [2, 3, 1] }, c: { dims: [1, 4] } }, wrt: ['a', 'c'], build: (b) => b.op('Mul', ['a', 'c']) },
  'Div broadcast [2,3] / [3]': {
    inputs: { a: { dims: [2, 3] }, c: { dims: [3], data: positive(3) } }, wrt: ['a', 'c'], build: (b) => b.op('Div', ['a', 'c']),
  },
  Neg: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Neg', ['x']) },
  Relu: { inputs: { x: { dims: [3, 4], data: awayFromZero(12) } }, wrt: ['x'], build: (b) => b.op('Relu', ['x']) },
  LeakyRelu: { inputs: { x: { dims: [3, 4], data: awayFromZero(12) } }, wrt: ['x'], build: (b) => b.op('LeakyRelu', ['x'], { alpha: f(0.2) }) },
  Sigmoid: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Sigmoid', ['x']) },
  Tanh: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Tanh', ['x']) },
  Exp: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Exp', ['x']) },
  Log: { inputs: { x: { dims: [3, 4], data: positive(12) } }, wrt: ['x'], build: (b) => b.op('Log', ['x']) },
  Reciprocal: { inputs: { x: { dims: [6], data: positive(6) } }, wrt: ['x'], build: (b) => b.op('Reciprocal', ['x']) },
  Abs: { inputs: { x: { dims: [6], data: awayFromZero(6) } }, wrt: ['x'], build: (b) => b.op('Abs', ['x']) },
  'Softmax last axis': { inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('Softmax', ['x']) },
  'Softmax axis 1': { inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('Softmax', ['x'], { axis: 1 }) },
  'LogSoftmax axis 0': { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('LogSoftmax', ['x'], { axis: 0 }) },
  'LogSoftmax last axis': { inputs: { x: { dims: [3, 5] } }, wrt: ['x'], build: (b) => b.op('LogSoftmax', ['x']) },
  'Flatten axis 2': { inputs: { x: { dims: [2, 3, 2, 2] } }, wrt: ['x'], build: (b) => b.op('Flatten', ['x'], { axis: 2 }) },
  Reshape: { inputs: { x: { dims: [2, 6] } }, wrt: ['x'], build: (b) => b.op('Reshape', ['x', b.constInt64([3, -1])]) },
  Transpose: { inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('Transpose', ['x'], { perm: [1, 2, 0] }) },
  'Squeeze then Unsqueeze (axes inputs)': {
    inputs: { x: { dims: [2, 1, 3] } }, wrt: ['x'],
    build: (b) => b.op('Unsqueeze', [b.op('Squeeze', ['x', b.constInt64([1])]), b.constInt64([0, -1])]),
  },
  'Concat axis 1': {
    inputs: { a: { dims: [2, 1, 3] }, c: { dims: [2, 2, 3] }, d: { dims: [2, 3, 3] } }, wrt: ['a', 'd'],
    build: (b) => b.op('Concat', ['a', 'c', 'd'], { axis: 1 }),
  },
  'Split with an unused output': {
    inputs: { x: { dims: [2, 6] } }, wrt: ['x'],
    build: (b) => {
      const [p, , r] = b.node('Split', ['x', b.constInt64([1, 2, 3])], { axis: 1 }, { outputs: 3 });
      return b.op('Mul', [p!, b.op('ReduceSum', [r!, b.constInt64([1])], { keepdims: 1 })]);
    },
  },
  'Slice with negative end and axes': {
    inputs: { x: { dims: [3, 5, 4] } }, wrt: ['x'],
    build: (b) => b.op('Slice', ['x', b.constInt64([1, 0]), b.constInt64([-1, 2]), b.constInt64([1, 2])]),
  },
  'Gather axis 0 (embedding, repeated ids)': {
    inputs: { emb: { dims: [5, 3] }, ids: { dims: [2, 3], int64: [1, 4, 1, 0, 1, -1] } }, wrt: ['emb'],
    build: (b) => b.op('Gather', ['emb', 'ids']),
  },
  'GatherElements last axis (token log-probs, repeated and negative ids)': {
    inputs: { x: { dims: [2, 3, 5] }, ids: { dims: [2, 3, 2], int64: [1, 1, 4, 0, -1, 2, 0, 0, 3, -5, 2, 4] } }, wrt: ['x'],
    build: (b) => b.op('GatherElements', ['x', 'ids'], { axis: 2 }),
  },
  'GatherElements axis 0': {
    inputs: { x: { dims: [3, 2] }, ids: { dims: [4, 2], int64: [2, 0, 2, 1, 0, 0, -1, 1] } }, wrt: ['x'],
    build: (b) => b.op('GatherElements', ['x', 'ids'], { axis: 0 }),
  },
  'Gather axis 1 scalar index (last token)': {
    inputs: { x: { dims: [2, 4, 3] } }, wrt: ['x'],
    build: (b) => b.op('Gather', ['x', b.constInt64([-1], [])], { axis: 1 }),
  },
  'ReduceMean axes attr keepdims 0': {
    inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('ReduceMean', ['x'], { axes: [0, 2], keepdims: 0 }),
  },
  'ReduceSum axes input keepdims 1': {
    inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('ReduceSum', ['x', b.constInt64([-1])], { keepdims: 1 }),
  },
  'ReduceMean axes input (opset 18)': {
    inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], opset: 18,
    build: (b) => b.op('ReduceMean', ['x', b.constInt64([1])], { keepdims: 0 }),
  },
  'LayerNormalization axis 1 (opset 18)': {
    inputs: { x: { dims: [2, 3, 4] }, s: { dims: [3, 4] } }, wrt: ['x', 's'], opset: 18,
    build: (b) => b.op('LayerNormalization', ['x', 's'], { axis: 1 }),
  },
  'ReduceSum all axes': { inputs: { x: { dims: [2, 3] } }, wrt: ['x'], build: (b) => b.op('ReduceSum', ['x'], { keepdims: 0 }) },
  LayerNormalization: {
    inputs: { x: { dims: [2, 3, 4] }, s: { dims: [4] }, bias: { dims: [4] } }, wrt: ['x', 's', 'bias'],
    build: (b) => b.op('LayerNormalization', ['x', 's', 'bias'], { axis: -1, epsilon: f(1e-5) }),
  },
  'Pow by constant 2': { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Pow', ['x', b.constFloat(2)]) },
  'Pow general broadcast': {
    inputs: { x: { dims: [3, 4], data: positive(12) }, e: { dims: [4], data: positive(4) } }, wrt: ['x', 'e'], build: (b) => b.op('Pow', ['x', 'e']),
  },
  Sqrt: { inputs: { x: { dims: [3, 4], data: positive(12) } }, wrt: ['x'], build: (b) => b.op('Sqrt', ['x']) },
  Erf: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Erf', ['x']) },
  'Where with broadcasting': {
    inputs: { x: { dims: [2, 3] }, y: { dims: [3] } }, wrt: ['x', 'y'],
    build: (b) => b.op('Where', [b.op('Greater', ['x', b.constFloat(0)]), 'x', 'y']),
  },
  'Expand [3,1] -> [2,3,4]': { inputs: { x: { dims: [3, 1] } }, wrt: ['x'], build: (b) => b.op('Expand', ['x', b.constInt64([2, 3, 4])]) },
  'Identity, Dropout, Cast float->float': {
    inputs: { x: { dims: [3, 4] } }, wrt: ['x'],
    build: (b) => b.op('Cast', [b.op('Dropout', [b.op('Identity', ['x'])])], { to: 1 }),
  },
  'Conv stride 2 pad 1 with bias': {
    inputs: { x: { dims: [2, 3, 7, 6] }, w: { dims: [4, 3, 3, 3] }, c: { dims: [4] } }, wrt: ['x', 'w', 'c'], samples: 16,
    build: (b) => b.op('Conv', ['x', 'w', 'c'], { strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
  },
  'Conv dilation 2, asymmetric pads': {
    inputs: { x: { dims: [1, 2, 6, 6] }, w: { dims: [3, 2, 2, 2] } }, wrt: ['x', 'w'], samples: 16,
    build: (b) => b.op('Conv', ['x', 'w'], { dilations: [2, 2], pads: [0, 1, 1, 0] }),
  },
  'Conv SAME_UPPER': {
    inputs: { x: { dims: [1, 2, 5, 5] }, w: { dims: [2, 2, 3, 3] } }, wrt: ['x', 'w'], samples: 16,
    build: (b) => b.op('Conv', ['x', 'w'], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  },
  'Conv group=2 (input gradient)': {
    inputs: { x: { dims: [1, 4, 5, 5] }, w: { dims: [4, 2, 3, 3] } }, wrt: ['x'], samples: 16,
    build: (b) => b.op('Conv', ['x', 'w'], { group: 2 }),
  },
  'MaxPool 2x2 stride 2': {
    inputs: { x: { dims: [2, 2, 4, 4], data: distinct(64) } }, wrt: ['x'], eps: 1e-3,
    build: (b) => b.op('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2] }),
  },
  'AveragePool 3x3 stride 2 pad 1 count_include_pad': {
    inputs: { x: { dims: [1, 2, 5, 5] } }, wrt: ['x'],
    build: (b) => b.op('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }),
  },
  GlobalAveragePool: { inputs: { x: { dims: [2, 3, 2, 2] } }, wrt: ['x'], build: (b) => b.op('GlobalAveragePool', ['x']) },
  'Gemm without C': { inputs: { a: { dims: [4, 5] }, w: { dims: [3, 5] } }, wrt: ['a', 'w'], build: (b) => b.op('Gemm', ['a', 'w'], { transB: 1 }) },
  'Dropout with a ratio input (inference: identity)': {
    inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Dropout', ['x', b.constFloat(0.5)]),
  },
  'Squeeze without axes (all size-1 dims)': { inputs: { x: { dims: [1, 3, 1, 2] } }, wrt: ['x'], build: (b) => b.op('Squeeze', ['x']) },
  // Float16 and float64 round trips: each Cast's gradient goes back in its input's type (CastLike).
  'Cast float32 -> float16 -> float32': {
    inputs: { x: { dims: [3, 4] } }, wrt: ['x'], eps: 0.1,
    build: (b) => b.op('Cast', [b.op('Cast', ['x'], { to: 10 })], { to: 1 }),
  },
  'Cast float32 -> float64 -> float32': {
    inputs: { x: { dims: [3, 4] } }, wrt: ['x'],
    build: (b) => b.op('Cast', [b.op('Cast', ['x'], { to: 11 })], { to: 1 }),
  },
  Sin: { inputs: { x: { dims: [3, 4], data: Array.from({ length: 12 }, (_, i) => i - 6) } }, wrt: ['x'], build: (b) => b.op('Sin', ['x']) },
  Cos: { inputs: { x: { dims: [3, 4], data: Array.from({ length: 12 }, (_, i) => i - 6) } }, wrt: ['x'], build: (b) => b.op('Cos', ['x']) },
  Softplus: { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], build: (b) => b.op('Softplus', ['x']) },
  'Trilu lower, k=1, batched': {
    inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], build: (b) => b.op('Trilu', ['x', b.constInt64([1], [])], { upper: 0 }),
  },
  'Trilu upper, no k': { inputs: { x: { dims: [4, 3] } }, wrt: ['x'], build: (b) => b.op('Trilu', ['x']) },
  // As torch.onnx.export writes rotate_half: x[..., : x.shape[-1] // 2] with bounds from Shape.
  'Slice with run-time bounds (rotate_half)': {
    inputs: { x: { dims: [2, 3, 8] } }, wrt: ['x'],
    build: (b) => {
      const half = b.op('Unsqueeze', [b.op('Div', [b.op('Gather', [b.op('Shape', ['x']), b.constInt64([2], [])]), b.constInt64([2], [])]), b.constInt64([0])]);
      const x1 = b.op('Slice', ['x', b.constInt64([0]), half, b.constInt64([-1]), b.constInt64([1])]);
      const x2 = b.op('Slice', ['x', half, b.constInt64([Number.MAX_SAFE_INTEGER]), b.constInt64([-1])]);
      return b.op('Concat', [b.op('Neg', [x2]), x1], { axis: -1 });
    },
  },
  'Slice with steps 2 and -1 on two axes': {
    inputs: { x: { dims: [3, 7, 4] } }, wrt: ['x'],
    build: (b) => b.op('Slice', ['x', b.constInt64([1, -1]), b.constInt64([7, -100]), b.constInt64([1, 2]), b.constInt64([2, -1])]),
  },
  'Split num_outputs (opset 18)': {
    inputs: { x: { dims: [2, 6] } }, wrt: ['x'], opset: 18,
    build: (b) => {
      const [p, q] = b.node('Split', ['x'], { axis: 1, num_outputs: 3 }, { outputs: 3 });
      return b.op('Mul', [p!, q!]);
    },
  },
  // Gelu is an op from opset 20 (torch.onnx.export up to opset 17 writes it out with Erf or Tanh).
  'Gelu exact (opset 20)': { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], opset: 20, build: (b) => b.op('Gelu', ['x']) },
  'Gelu tanh (opset 20)': { inputs: { x: { dims: [3, 4] } }, wrt: ['x'], opset: 20, build: (b) => b.op('Gelu', ['x'], { approximate: 'tanh' }) },
  'ReduceSum axes input keepdims 0 (opset 18)': {
    inputs: { x: { dims: [2, 3, 4] } }, wrt: ['x'], opset: 18, build: (b) => b.op('ReduceSum', ['x', b.constInt64([0, -1])], { keepdims: 0 }),
  },
};

/** Op types of a case's forward graph (built without running anything). */
function opsOf(c: GradCase): string[] {
  const graph = onnx.GraphProto.create({ name: 'ops' });
  for (const name of Object.keys(c.inputs)) graph.input.push(onnx.ValueInfoProto.create({ name }));
  c.build(new GraphBuilder(graph), graph);
  return graph.node.map((n) => n.opType!);
}

describe('the rules table', () => {
  it('every rule in RULES has a finite-difference case', () => {
    const covered = new Set(Object.values(cases).flatMap(opsOf));
    const missing = Object.keys(RULES).filter((op) => !covered.has(op));
    expect(missing, `rules without a finite-difference case in test/autodiff/rules.test.ts: ${missing.join(', ')}`).toEqual([]);
  });
});

describe('gradient rules match finite differences', () => {
  for (const [name, c] of Object.entries(cases)) it(name, async () => void (await expectGradientsMatch(c)));
});

describe('walker', () => {
  it('sums fan-out: x used twice by one node and again by another', async () => {
    await expectGradientsMatch({
      inputs: { x: { dims: [3, 4] } }, wrt: ['x'],
      build: (b) => b.op('Add', [b.op('Mul', ['x', 'x']), b.op('Tanh', ['x'])]),
    });
  });
  it('a Reshape whose target comes from Shape carries no gradient into the shape path', async () => {
    const ops = await expectGradientsMatch({
      inputs: { x: { dims: [2, 6] }, y: { dims: [3, 4] } }, wrt: ['x', 'y'],
      build: (b) => b.op('Mul', [b.op('Reshape', ['x', b.op('Shape', ['y'])]), 'y']),
    });
    expect(ops).not.toContain('Shape'); // static target: no run-time shape needed either
  });
  it('MLP-style Gemm backward emits no Transpose and no no-op nodes', async () => {
    const ops = await expectGradientsMatch({
      inputs: { x: { dims: [4, 5] }, w: { dims: [3, 5] }, c: { dims: [3] } }, wrt: ['w', 'c'],
      build: (b) => b.op('Gemm', ['x', 'w', 'c'], { transB: 1 }),
    });
    // The loss sum(out * R) contributes Expand + Mul; the Gemm itself exactly one Gemm (dW) and one ReduceSum (db).
    expect(ops.sort()).toEqual(['Expand', 'Gemm', 'Mul', 'ReduceSum']);
  });
  it('GELU (erf form, as torch exports it)', async () => {
    await expectGradientsMatch({
      inputs: { x: { dims: [3, 4] } }, wrt: ['x'],
      build: (b) => {
        const e = b.op('Erf', [b.op('Div', ['x', b.constFloat(Math.SQRT2)])]);
        return b.op('Mul', [b.op('Mul', ['x', b.op('Add', [e, b.constFloat(1)])]), b.constFloat(0.5)]);
      },
    });
  });
});
