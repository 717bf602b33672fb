/** retieWeights: folded copies of tied weights re-tied; parameters that merely start equal left alone. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { retieWeights, untieMergedWeights } from '../../src/autodiff/tied.js';
import { trainableParams } from '../../src/train/weights.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { makeModel, onnx, tensorValueInfo, type ModelProto } from '../../src/onnx/proto.js';
import { seededRandom, uniform } from '../helpers/models.js';

/** x [2,4] -> Gather-free stand-in of a tied head: (x @ emb^T) + (x @ emb^T as a folded copy) + ln ones. */
function model(): ModelProto {
  const rand = seededRandom(3);
  const emb = uniform(rand, 12); // [3,4]
  const embT = new Float32Array(12);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) embT[j * 3 + i] = emb[i * 4 + j]!;
  const graph = onnx.GraphProto.create({ name: 'm' });
  graph.input.push(tensorValueInfo('x', [2, 4]));
  const b = new GraphBuilder(graph);
  b.constFloat([...emb], [3, 4], 'wte.weight');
  b.constFloat([...embT], [4, 3], 'onnx::MatMul_9');
  b.constFloat([1, 1, 1, 1], [4], 'ln_1.weight');
  b.constFloat([1, 1, 1, 1], [4], 'onnx::Mul_5'); // uniform: equal by construction, not a tie
  b.constFloat([...embT], [4, 3], 'head.weight_copy'); // not exporter-named: left alone
  const scaled = b.op('Mul', [b.op('Mul', ['x', 'ln_1.weight']), 'onnx::Mul_5']);
  const viaGemm = b.op('Gemm', [scaled, 'wte.weight'], { transB: 1 });
  const viaFolded = b.op('MatMul', [scaled, 'onnx::MatMul_9']);
  const out = b.op('Add', [b.op('Add', [viaGemm, viaFolded]), b.op('MatMul', [scaled, 'head.weight_copy'])], {}, 'logits');
  graph.output.push(tensorValueInfo(out, [2, 3]));
  return makeModel(graph, 17);
}

async function run(m: ModelProto): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
  const x = new ort.Tensor('float32', uniform(seededRandom(8), 8), [2, 4]);
  const out = (await s.run({ x })).logits!.data as Float32Array;
  await s.release();
  return out;
}

describe('retieWeights', () => {
  it('replaces only the exporter-named transposed copy, and the outputs stay bit-identical', async () => {
    const m = model();
    const before = await run(m);
    expect(retieWeights(m)).toEqual([{ copy: 'onnx::MatMul_9', original: 'wte.weight', transposed: true }]);
    expect(m.graph!.initializer!.map((t) => t.name)).toEqual(['wte.weight', 'ln_1.weight', 'onnx::Mul_5', 'head.weight_copy']);
    expect(m.graph!.node![0]!.opType).toBe('Transpose');
    expect(Array.from(await run(m))).toEqual(Array.from(before));
    expect(retieWeights(m)).toEqual([]);
  });
});

describe('untieMergedWeights', () => {
  /** Two LayerNorm-like scales and two "tied" heads, merged by the exporter into Identity(kept). */
  function merged(): ModelProto {
    const graph = onnx.GraphProto.create({ name: 'm' });
    graph.input.push(tensorValueInfo('x', [2, 4]));
    const b = new GraphBuilder(graph);
    b.constFloat([1, 1, 1, 1], [4], 'h.0.ln_1.weight');
    const emb = uniform(seededRandom(5), 16);
    b.constFloat([...emb], [4, 4], 'wte.weight');
    const ln2 = b.node('Identity', ['h.0.ln_1.weight'], {}, { outputs: ['h.0.ln_2.weight'] })[0]!; // merged by value: ones
    const head = b.node('Identity', ['wte.weight'], {}, { outputs: ['lm_head.weight'] })[0]!; // a real tie: same non-uniform values
    const y = b.op('MatMul', [b.op('Mul', [b.op('Mul', ['x', 'h.0.ln_1.weight']), ln2]), 'wte.weight']);
    const out = b.op('MatMul', [y, head], {}, 'logits');
    graph.output.push(tensorValueInfo(out, [2, 4]));
    return makeModel(graph, 17);
  }

  it('gives a parameter merged with equal uniform values its own initializer back; a non-uniform tie stays shared', async () => {
    const m = merged();
    const before = await run(m);
    expect(untieMergedWeights(m)).toEqual([{ name: 'h.0.ln_2.weight', original: 'h.0.ln_1.weight' }]);
    expect(m.graph!.initializer!.map((t) => t.name)).toEqual(['h.0.ln_1.weight', 'wte.weight', 'h.0.ln_2.weight']);
    expect(m.graph!.node!.filter((n) => n.opType === 'Identity').map((n) => n.output![0])).toEqual(['lm_head.weight']);
    expect(trainableParams(m).map((t) => t.name).sort()).toEqual(['h.0.ln_1.weight', 'h.0.ln_2.weight', 'wte.weight']);
    expect(Array.from(await run(m))).toEqual(Array.from(before));
    expect(untieMergedWeights(m)).toEqual([]);
  });
});
