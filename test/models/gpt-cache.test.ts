/**
 * The GPT builder's KV cache: the same logits with and without it (prefill + one token per step),
 * generation identical cached or re-running the prefix, and training through the cached graph
 * (past fed empty) gives the same update as training the graph without a cache.
 */
import { describe, expect, it } from 'vitest';
import * as ort from '../../src/onnx/ort.js';
import { buildGpt } from '../../src/models/gpt.js';
import { TextRunner } from '../../src/models/textRunner.js';
import { encodeModel } from '../../src/onnx/io.js';
import { DataType, graphOf } from '../../src/onnx/proto.js';
import { Random } from '../../src/train/random.js';
import { trainText, type TokenRow } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { readWeights, withWeights } from '../../src/train/weights.js';

const OPTIONS = { vocabSize: 50, width: 16, layers: 2, heads: 2, maxPositions: 32, seed: 5 };
const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** The cached graph with the plain graph's weights (the builder's init may differ by graph). */
function pair(): { plain: ReturnType<typeof buildGpt>; cached: ReturnType<typeof buildGpt> } {
  const plain = buildGpt(OPTIONS);
  return { plain, cached: withWeights(buildGpt({ ...OPTIONS, kvCache: true }), readWeights(plain)) };
}

describe('GPT KV cache', () => {
  it('declares past_key_values.{i}.key/value inputs and present.{i}.key/value outputs', () => {
    const g = graphOf(buildGpt({ ...OPTIONS, kvCache: true }));
    expect(g.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(g.output.map((o) => o.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
  });

  it('logits with the cache (prefill, then one token per run) equal the full sequence without it (1e-5)', async () => {
    const { plain, cached } = pair();
    const a = await ort.InferenceSession.create(encodeModel(plain));
    const b = await ort.InferenceSession.create(encodeModel(cached));
    const B = 2;
    const seqs = [[1, 7, 9, 20, 31, 4, 8], [1, 3, 3, 12, 40, 41, 2]];
    const T = seqs[0]!.length;
    const full = await a.run({ input_ids: int64(seqs.flat(), [B, T]), attention_mask: int64(new Array(B * T).fill(1), [B, T]) });
    const want = full.logits!.data as Float32Array;
    const V = OPTIONS.vocabSize;
    const H = OPTIONS.heads;
    const D = OPTIONS.width / H;
    let past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < OPTIONS.layers; l++) for (const k of ['key', 'value']) past[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
    const P = 3; // prefill 3 tokens, then one at a time
    let maxDiff = 0;
    for (let t = 0; t < T; ) {
      const n = t === 0 ? P : 1;
      const ids = seqs.flatMap((s) => s.slice(t, t + n));
      const out = await b.run({ input_ids: int64(ids, [B, n]), attention_mask: int64(new Array(B * (t + n)).fill(1), [B, t + n]), ...past });
      const got = out.logits!.data as Float32Array;
      expect(out['present.0.key']!.dims).toEqual([B, H, t + n, D]);
      for (let r = 0; r < B; r++) for (let j = 0; j < n; j++) for (let v = 0; v < V; v++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[(r * n + j) * V + v]! - want[(r * T + t + j) * V + v]!));
      }
      past = {};
      for (let l = 0; l < OPTIONS.layers; l++) for (const k of ['key', 'value']) past[`past_key_values.${l}.${k}`] = out[`present.${l}.${k}`]!;
      t += n;
    }
    expect(maxDiff).toBeLessThan(1e-5);
    await a.release();
    await b.release();
  });

  it('the runner generates the same tokens and log-probs cached or re-running the prefix', async () => {
    const runner = await TextRunner.load(buildGpt({ ...OPTIONS, kvCache: true }), { maxPositions: 32 });
    expect(runner.hasKvCache).toBe(true);
    const prompts = [[1, 4, 5], [1, 6, 7], [1, 8, 9, 10, 11]];
    const opts = { seed: 3, maxNewTokens: 12, topLogprobs: 3 };
    const withCache = await runner.generate(prompts, opts);
    const without = await runner.generate(prompts, { ...opts, noCache: true });
    expect(withCache.map((g) => g.tokens)).toEqual(without.map((g) => g.tokens));
    withCache.forEach((g, i) => g.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(without[i]!.logprobs[j]!, 4)));
    await runner.dispose();
  });

  it('rows that end early leave the batch and its cache; the others draw what they would alone', async () => {
    const model = buildGpt({ ...OPTIONS, kvCache: true });
    const batched = await TextRunner.load(model, { maxPositions: 32 });
    const alone = await TextRunner.load(model, { maxPositions: 32, maxBatch: 1 });
    // 40 prompts of one length share a batch; with token 7 as EOS (1 in 50 per draw) rows end at many steps.
    const prompts = Array.from({ length: 40 }, (_, i) => [1, 2 + (i % 40), 3 + ((7 * i) % 40)]);
    const opts = { seed: 11, maxNewTokens: 28, topLogprobs: 2, eosId: 7 };
    const together = await batched.generate(prompts, opts);
    const separately = await alone.generate(prompts, opts);
    const lengths = new Set(together.map((g) => g.tokens.length));
    expect(together.filter((g) => g.finish === 'eos').length).toBeGreaterThan(6);
    expect(lengths.size).toBeGreaterThan(3);
    expect(together.map((g) => g.tokens)).toEqual(separately.map((g) => g.tokens));
    together.forEach((g, i) => g.logprobs.forEach((lp, j) => expect(lp).toBeCloseTo(separately[i]!.logprobs[j]!, 5)));
    await Promise.all([batched.dispose(), alone.dispose()]);
  });

  it('refuses to train a graph whose cache input is not float32, naming the node that cannot take it', async () => {
    const model = buildGpt({ ...OPTIONS, kvCache: true });
    const past = graphOf(model).input.find((i) => i.name === 'past_key_values.1.value')!;
    past.type!.tensorType!.elemType = DataType.FLOAT16;
    await expect(Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-2 } })).rejects.toThrow(/^model: onnxruntime cannot load the model: .*float16.*in node \(\/transformer\/h\.1\/attn\/Concat/);
  });

  it('trains through the cached graph (past fed empty): the same weights as the graph without a cache', async () => {
    const { plain, cached } = pair();
    const random = new Random(1);
    const rows: TokenRow[] = Array.from({ length: 24 }, () => {
      const n = 4 + random.int(6);
      return { ids: Int32Array.from([1, ...Array.from({ length: n }, () => 4 + random.int(40)), 2]), lossFrom: 3 };
    });
    const train = async (model: typeof plain) => {
      const trainer = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-2 } });
      const { epochLosses } = await trainText(trainer, rows, { epochs: 3, batchSize: 8, seed: 4, padId: 0 });
      const weights = trainer.weights();
      await trainer.dispose();
      return { epochLosses, weights };
    };
    const a = await train(plain);
    const b = await train(cached);
    expect(b.epochLosses).toEqual(a.epochLosses.map((l) => expect.closeTo(l, 4)));
    expect(b.epochLosses[2]!).toBeLessThan(b.epochLosses[0]!);
    let maxDiff = 0;
    for (const [name, w] of a.weights) {
      const v = b.weights.get(name)!;
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i]! - v[i]!));
    }
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
