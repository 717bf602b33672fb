/** Each loss fragment's value, run by onnxruntime, against the formula computed by hand in JS. */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { onnx, tensorValueInfo } from '../../src/onnx/proto.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { appendLoss, type LossSpec } from '../../src/train/losses.js';
import { Random } from '../../src/random.js';

async function runLoss(spec: LossSpec, dims: number[], z: Float32Array, targets: Float32Array | BigInt64Array, mask?: Float32Array, opset = 17): Promise<number> {
  const graph = onnx.GraphProto.create({ name: 'loss' });
  graph.input.push(tensorValueInfo('z', ['batch', ...dims.slice(1)]));
  const b = new GraphBuilder(graph);
  const fragment = appendLoss({ builder: b, opset, output: 'z', outputDims: ['batch', ...dims.slice(1)] }, spec);
  graph.input.push(...fragment.inputs);
  graph.output.push(tensorValueInfo(fragment.loss, []));
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const feeds: Record<string, ort.Tensor> = { z: new ort.Tensor('float32', z, dims) };
  const [t, m] = fragment.inputs.map((i) => i.name!);
  const tDims = spec.kind === 'crossEntropy' ? [dims[0]!] : spec.kind === 'tokenCrossEntropy' ? dims.slice(0, 2) : [dims[0]!, targets.length / dims[0]!];
  feeds[t!] = targets instanceof BigInt64Array ? new ort.Tensor('int64', targets, tDims) : new ort.Tensor('float32', targets, tDims);
  if (m) feeds[m] = new ort.Tensor('float32', mask!, tDims);
  const out = await session.run(feeds);
  await session.release();
  return (out[fragment.loss]!.data as Float32Array)[0]!;
}

const rows = (x: Float32Array, n: number): number[][] => Array.from({ length: n }, (_, i) => Array.from(x.subarray((i * x.length) / n, ((i + 1) * x.length) / n)));
const logSoftmax = (v: number[]): number[] => {
  const m = Math.max(...v);
  const lse = m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
  return v.map((x) => x - lse);
};
const randomArray = (r: Random, n: number, scale = 3): Float32Array => Float32Array.from({ length: n }, () => r.uniform(-scale, scale));
const softmaxRows = (x: Float32Array, n: number): Float32Array => Float32Array.from(rows(x, n).flatMap((v) => logSoftmax(v).map(Math.exp)));

describe('loss fragments', () => {
  const r = new Random(7);
  const N = 5;
  const W = 7;
  const z = randomArray(r, N * W);
  const slice = [2, 6] as const;
  const zs = rows(z, N).map((v) => v.slice(slice[0], slice[1]));

  it('soft cross-entropy on a slice, targets as probabilities and as logits', async () => {
    const tLogits = randomArray(r, N * 4);
    const tProbs = softmaxRows(tLogits, N);
    const expected = zs.reduce((acc, v, i) => acc - logSoftmax(v).reduce((a, lp, k) => a + tProbs[i * 4 + k]! * lp, 0), 0) / N;
    expect(await runLoss({ kind: 'softCrossEntropy', slice, targets: 'probabilities' }, [N, W], z, tProbs)).toBeCloseTo(expected, 5);
    expect(await runLoss({ kind: 'softCrossEntropy', slice, targets: 'logits' }, [N, W], z, tLogits)).toBeCloseTo(expected, 5);
  });

  it('KL divergence = CE - H(target), zero at a perfect match, handles zero probabilities', async () => {
    const tLogits = randomArray(r, N * 4);
    const tProbs = softmaxRows(tLogits, N);
    let expected = 0;
    zs.forEach((v, i) => {
      const lp = logSoftmax(v);
      for (let k = 0; k < 4; k++) {
        const t = tProbs[i * 4 + k]!;
        expected += t * (Math.log(t) - lp[k]!);
      }
    });
    expected /= N;
    expect(expected).toBeGreaterThan(0.01);
    expect(await runLoss({ kind: 'klDivergence', slice, targets: 'probabilities' }, [N, W], z, tProbs)).toBeCloseTo(expected, 5);
    expect(await runLoss({ kind: 'klDivergence', slice, targets: 'logits' }, [N, W], z, tLogits)).toBeCloseTo(expected, 5);
    // The student's own slice as target logits: KL must vanish.
    const own = Float32Array.from(zs.flat());
    expect(Math.abs(await runLoss({ kind: 'klDivergence', slice, targets: 'logits' }, [N, W], z, own))).toBeLessThan(1e-6);
    // One-hot targets (zeros) stay finite: KL = -log p(class).
    const oneHot = new Float32Array(N * 4);
    for (let i = 0; i < N; i++) oneHot[i * 4 + (i % 4)] = 1;
    const expectedOneHot = zs.reduce((a, v, i) => a - logSoftmax(v)[i % 4]!, 0) / N;
    expect(await runLoss({ kind: 'klDivergence', slice, targets: 'probabilities' }, [N, W], z, oneHot)).toBeCloseTo(expectedOneHot, 5);
  });

  it('hard-label cross-entropy on a slice (opset 17 and 13 reductions)', async () => {
    const labels = BigInt64Array.from([0n, 3n, 1n, 2n, 3n]);
    const expected = zs.reduce((a, v, i) => a - logSoftmax(v)[Number(labels[i])]!, 0) / N;
    expect(await runLoss({ kind: 'crossEntropy', slice }, [N, W], z, labels)).toBeCloseTo(expected, 5);
    expect(await runLoss({ kind: 'crossEntropy', slice }, [N, W], z, labels, undefined, 13)).toBeCloseTo(expected, 5);
    // Full width, no slice.
    const full = rows(z, N).reduce((a, v, i) => a - logSoftmax(v)[Number(labels[i])]!, 0) / N;
    expect(await runLoss({ kind: 'crossEntropy' }, [N, W], z, labels)).toBeCloseTo(full, 5);
  });

  it('is stable for huge logits (LogSoftmax, no overflow)', async () => {
    const big = Float32Array.from([1000, -1000, 0, 1000, -1000, 0]);
    const value = await runLoss({ kind: 'crossEntropy' }, [2, 3], big, BigInt64Array.from([1n, 0n]));
    expect(value).toBeCloseTo((2000 + 0) / 2, 2);
  });

  it('token cross-entropy with a mask', async () => {
    const T = 3;
    const V = 4;
    const logits = randomArray(r, 2 * T * V);
    const tokens = BigInt64Array.from([1n, 2n, 3n, 0n, 0n, 1n]);
    const mask = Float32Array.from([1, 1, 0, 1, 0, 1]);
    let sum = 0;
    rows(logits, 2 * T).forEach((v, i) => {
      sum += mask[i]! * -logSoftmax(v)[Number(tokens[i])]!;
    });
    const expected = sum / 4;
    expect(await runLoss({ kind: 'tokenCrossEntropy' }, [2, T, V], logits, tokens, mask)).toBeCloseTo(expected, 5);
    expect(await runLoss({ kind: 'tokenCrossEntropy' }, [2, T, V], logits, tokens, new Float32Array(6))).toBe(0);
  });

  it('squared error on a slice is the mean over rows and slice elements', async () => {
    const t = randomArray(r, N * 4);
    let sum = 0;
    zs.forEach((v, i) => v.forEach((x, k) => (sum += (x - t[i * 4 + k]!) ** 2)));
    expect(await runLoss({ kind: 'squaredError', slice }, [N, W], z, t)).toBeCloseTo(sum / (N * 4), 4);
  });

  it('rejects a slice outside the output', () => {
    const graph = onnx.GraphProto.create({ name: 'g' });
    const b = new GraphBuilder(graph);
    expect(() => appendLoss({ builder: b, opset: 17, output: 'z', outputDims: ['batch', 5] }, { kind: 'crossEntropy', slice: [3, 9] })).toThrow(/outside/);
  });
});
