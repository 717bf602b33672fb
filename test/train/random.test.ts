/** The seeded PRNG and seeded init: reproducible bit for bit, and distributed as claimed. */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { initLike } from '../../src/train/init.js';
import { buildMlp } from '../../src/models/mlp.js';
import { onnx, float32Tensor, tensorValueInfo } from '../../src/onnx/proto.js';
import { GraphBuilder } from '../../src/onnx/builder.js';

describe('Random', () => {
  it('same seed, same stream; different seed, different stream', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('uniform in [0,1) with the right mean; normal with mean 0 and variance 1', () => {
    const r = new Random(1);
    const n = 20000;
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(sum / n).toBeCloseTo(0.5, 1);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s1 += x;
      s2 += x * x;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });

  it('permutation is a permutation, and int() is in range', () => {
    const r = new Random(5);
    const p = r.permutation(1000);
    expect(new Set(p).size).toBe(1000);
    expect(Math.max(...p)).toBe(999);
    expect(Array.from(p).some((v, i) => v !== i)).toBe(true);
    for (let i = 0; i < 1000; i++) expect(r.int(7)).toBeLessThan(7);
  });
});

describe('initLike (PyTorch default Linear init)', () => {
  it('is bit-for-bit reproducible per seed and bounded by 1/sqrt(fan_in) with fan_in = dims[1] for Gemm transB=1', () => {
    const model = buildMlp({ sizes: [20, 9, 4], seed: 0 });
    const a = initLike(model, 11);
    const b = initLike(model, 11);
    const c = initLike(model, 12);
    for (const [name, w] of a) {
      expect(Buffer.from(w.buffer).equals(Buffer.from(b.get(name)!.buffer))).toBe(true);
      expect(Buffer.from(w.buffer).equals(Buffer.from(c.get(name)!.buffer))).toBe(false);
    }
    const fanIn: Record<string, number> = { 'fc1.weight': 20, 'fc1.bias': 20, 'fc2.weight': 9, 'fc2.bias': 9 };
    for (const [name, w] of a) {
      const bound = 1 / Math.sqrt(fanIn[name]!);
      const maxAbs = Math.max(...Array.from(w, Math.abs));
      expect(maxAbs).toBeLessThanOrEqual(bound);
      if (w.length > 50) expect(maxAbs).toBeGreaterThan(0.8 * bound); // actually spans the range
    }
  });

  it('MatMul weights [in, out] use dims[0]; the Add bias after them uses the same fan_in; other params are kept', () => {
    const graph = onnx.GraphProto.create({ name: 'g' });
    const b = new GraphBuilder(graph);
    graph.input.push(tensorValueInfo('x', ['batch', 64]));
    b.initializer(float32Tensor('w', [64, 200], new Float32Array(64 * 200)));
    b.initializer(float32Tensor('bias', [200], new Float32Array(200)));
    b.initializer(float32Tensor('scale', [200], new Float32Array(200).fill(1)));
    const h = b.op('MatMul', ['x', 'w']);
    const y = b.op('Add', [h, 'bias']);
    b.node('Mul', [y, 'scale'], {}, { outputs: ['y'] });
    graph.output.push(tensorValueInfo('y', ['batch', 200]));
    const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph });
    const w = initLike(model, 3);
    const bound = 1 / 8;
    expect(Math.max(...Array.from(w.get('w')!, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w.get('w')!, Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...Array.from(w.get('bias')!, Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Array.from(w.get('scale')!)).toEqual(new Array(200).fill(1));
  });
});
