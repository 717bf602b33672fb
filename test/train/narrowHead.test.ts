/**
 * The narrowed output layer (src/train/narrowHead.ts): token losses computed from the loss
 * positions' hidden states only train like the full logits (same losses and weights up to float
 * summation order), hard and soft; heads it cannot narrow keep the full graph; an all-masked batch
 * is loss 0; the host's gather of loss positions keeps exactly the masked-in slots.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { buildGpt } from '../../src/models/gpt.js';
import { float32Tensor, graphOf, tensorValueInfo, type GraphProto } from '../../src/onnx/proto.js';
import { gatherLossPositions, narrowTokenHead } from '../../src/train/narrowHead.js';
import { textBatch, type TokenRow } from '../../src/train/textBatches.js';
import type { LossSpec } from '../../src/train/losses.js';
import { Trainer } from '../../src/train/trainer.js';

const GPT = { vocabSize: 40, width: 16, layers: 2, heads: 2, maxPositions: 24, seed: 9 };
const model = buildGpt(GPT);
const PAD = 0;

/** Rows shaped like the audit's: a long prompt, a short completion; soft targets over k = 4 on some. */
function rowsOf(count: number, soft: boolean): TokenRow[] {
  return Array.from({ length: count }, (_, r) => {
    const length = 10 + (r % 7);
    const ids = Int32Array.from({ length }, (_, t) => 1 + ((r * 7 + t * 5) % (GPT.vocabSize - 1)));
    const lossFrom = length - 3 - (r % 2);
    const positions = length - lossFrom;
    if (!soft || r % 3 === 2) return { ids, lossFrom };
    const k = 4;
    const softIds = Int32Array.from({ length: positions * k }, (_, i) => 1 + ((r + i * 3) % (GPT.vocabSize - 1)));
    const probs = Float32Array.from({ length: positions * k }, (_, i) => [0.5, 0.25, 0.15, 0.1][i % k]!);
    return { ids, lossFrom, soft: { k, ids: softIds, probs } };
  });
}

async function train(loss: LossSpec, narrow: boolean, rows: readonly TokenRow[], softK?: number) {
  const trainer = await Trainer.create(model, { loss, optimizer: { kind: 'adam', lr: 1e-2, weightDecay: 0 }, narrowTokenHead: narrow });
  try {
    const losses: number[] = [];
    for (const indices of [[0, 1, 2, 3], [4, 5, 6, 7], [0, 2, 4, 6], [1, 3, 5, 7]]) losses.push(await trainer.step(textBatch(rows, indices, PAD, softK)));
    return { losses, weights: trainer.weights(), positions: trainer.io.lossPositions };
  } finally {
    await trainer.dispose();
  }
}

function maxRelativeGap(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): number {
  let gap = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) gap = Math.max(gap, Math.abs(x[i]! - y[i]!) / Math.max(1e-3, Math.abs(x[i]!)));
  }
  return gap;
}

describe('narrowed output layer for token losses', () => {
  it('hard targets: the same losses and weights as the full logits, four Adam steps', async () => {
    const rows = rowsOf(8, false);
    const full = await train({ kind: 'tokenCrossEntropy' }, false, rows);
    const narrow = await train({ kind: 'tokenCrossEntropy' }, true, rows);
    expect(full.positions).toBeUndefined();
    expect(narrow.positions).toBeDefined();
    for (let i = 0; i < full.losses.length; i++) expect(narrow.losses[i]).toBeCloseTo(full.losses[i]!, 5);
    expect(full.losses[3]).toBeLessThan(full.losses[0]!);
    expect(maxRelativeGap(full.weights, narrow.weights)).toBeLessThan(1e-3);
  });

  it('soft targets (k = 4, some rows hard): the same losses and weights as the full logits', async () => {
    const rows = rowsOf(8, true);
    const full = await train({ kind: 'tokenKlDivergence', k: 4 }, false, rows, 4);
    const narrow = await train({ kind: 'tokenKlDivergence', k: 4 }, true, rows, 4);
    expect(narrow.positions).toBeDefined();
    for (let i = 0; i < full.losses.length; i++) expect(narrow.losses[i]).toBeCloseTo(full.losses[i]!, 5);
    expect(maxRelativeGap(full.weights, narrow.weights)).toBeLessThan(1e-3);
  });

  it('an all-masked batch is loss 0 and moves nothing', async () => {
    const trainer = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'sgd', lr: 1, momentum: 0, weightDecay: 0 } });
    try {
      const before = trainer.weights();
      // lossFrom past the end: no position predicts a completion token.
      const loss = await trainer.step(textBatch([{ ids: Int32Array.from([1, 2, 3]), lossFrom: 3 }], [0], PAD));
      expect(loss).toBe(0);
      expect(maxRelativeGap(before, trainer.weights())).toBe(0);
    } finally {
      await trainer.dispose();
    }
  });
});

/** A graph: hidden [N, T, 4] -> head -> logits, the head built by `head`. */
function headGraph(head: (b: GraphBuilder, hidden: string) => void): { graph: GraphProto; shapes: Map<string, (number | string)[]> } {
  const graph = graphOf(buildGpt({ vocabSize: 6, width: 4, layers: 1, heads: 1, maxPositions: 4, seed: 1 }));
  graph.node = [];
  graph.initializer = [];
  graph.input = [tensorValueInfo('hidden', ['n', 't', 4])];
  graph.output = [tensorValueInfo('logits', ['n', 't', 6])];
  const b = new GraphBuilder(graph);
  b.initializer(float32Tensor('w', [4, 6], new Float32Array(24)));
  b.initializer(float32Tensor('w3', [1, 4, 6], new Float32Array(24)));
  b.initializer(float32Tensor('bias', [6], new Float32Array(6)));
  head(b, 'hidden');
  // Only the computed value's shape: the initializers' come from themselves.
  const shapes = new Map<string, (number | string)[]>([['hidden', ['n', 't', 4]]]);
  return { graph, shapes };
}

describe('narrowTokenHead: which heads it rewrites', () => {
  it('MatMul by a [W, V] matrix, with or without a [V] bias: rewritten, the old head removed', () => {
    for (const withBias of [false, true]) {
      const { graph, shapes } = headGraph((b, h) => {
        if (withBias) b.node('Add', [b.op('MatMul', [h, 'w']), 'bias'], {}, { outputs: ['logits'] });
        else b.node('MatMul', [h, 'w'], {}, { outputs: ['logits'] });
      });
      const narrowed = narrowTokenHead(graph, new GraphBuilder(graph, 'train/'), 'logits', shapes);
      expect(narrowed?.outputDims).toEqual([1, 'loss_positions', 6]);
      expect(graph.node.some((n) => (n.output ?? []).includes('logits'))).toBe(false);
      expect(graph.node.filter((n) => n.opType === 'Gather')).toHaveLength(1);
      expect(graph.node.some((n) => n.opType === 'Add')).toBe(withBias);
    }
  });
  it('a batched [1, W, V] matrix, or logits that feed another node: left alone', () => {
    const batched = headGraph((b, h) => void b.node('MatMul', [h, 'w3'], {}, { outputs: ['logits'] }));
    expect(narrowTokenHead(batched.graph, new GraphBuilder(batched.graph), 'logits', batched.shapes)).toBeUndefined();
    const reused = headGraph((b, h) => {
      b.node('MatMul', [h, 'w'], {}, { outputs: ['logits'] });
      b.op('Relu', ['logits']);
    });
    const nodes = reused.graph.node.length;
    expect(narrowTokenHead(reused.graph, new GraphBuilder(reused.graph), 'logits', reused.shapes)).toBeUndefined();
    expect(reused.graph.node).toHaveLength(nodes);
  });
});

describe('gatherLossPositions', () => {
  it('keeps exactly the masked-in positions, their k target slots and probabilities, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (bits, k) => {
        const mask = Float32Array.from(bits, (x) => (x ? 1 : 0));
        const targets = BigInt64Array.from({ length: mask.length * k }, (_, i) => BigInt(i));
        const probs = Float32Array.from({ length: mask.length * k }, (_, i) => i / 1000);
        const got = gatherLossPositions(mask, targets, probs);
        const kept = bits.flatMap((x, i) => (x ? [i] : []));
        const expected = kept.length > 0 ? kept : [0];
        expect(Array.from(got.positions, Number)).toEqual(expected);
        expect(Array.from(got.mask)).toEqual(kept.length > 0 ? kept.map(() => 1) : [0]);
        expect(Array.from(got.targets, Number)).toEqual(expected.flatMap((i) => Array.from({ length: k }, (_, j) => i * k + j)));
        expect(Array.from(got.targetProbs!)).toEqual(expected.flatMap((i) => Array.from({ length: k }, (_, j) => Math.fround((i * k + j) / 1000))));
      }),
    );
  });
});
