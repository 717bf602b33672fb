import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditInputError, UnsupportedModelError } from '../../src/errors.js';
import { encodeModel } from '../../src/onnx/io.js';
import { TextRunner, topTokens } from '../../src/models/textRunner.js';
import { logSumExp } from '../../src/rows.js';
import { cumDecoder } from './cumDecoder.js';
import { useTempDir } from '../helpers/files.js';

const V = 24;
const spec = { vocab: V, width: 8, maxPositions: 40, seed: 3 };
let cached: TextRunner;
let full: TextRunner;
let withPositions: TextRunner;
const tmp = useTempDir('runner-');

beforeAll(async () => {
  cached = await TextRunner.load(cumDecoder({ ...spec, kvCache: true }), { maxPositions: 40 });
  full = await TextRunner.load(cumDecoder({ ...spec, kvCache: false }), { maxPositions: 40 });
  withPositions = await TextRunner.load(cumDecoder({ ...spec, kvCache: true, positionIds: true }), { maxPositions: 40 });
});

const prompts = [[1, 5, 7], [2, 9], [3, 4, 6, 8, 10], [11], [12, 13, 14]];

describe('TextRunner', () => {
  it('reads the graph: vocabulary width and KV cache', () => {
    expect(cached.vocab).toBe(V);
    expect(cached.hasKvCache).toBe(true);
    expect(full.hasKvCache).toBe(false);
    expect(withPositions.hasPositionIds).toBe(true);
  });

  it('sequence log-probs are the sum of next-token log-probs along the sequence, batched or not', async () => {
    const rows = [
      { prompt: [1, 2], continuation: [3, 4, 5] },
      { prompt: [7], continuation: [8] },
      { prompt: [9, 10, 11, 12, 13, 14], continuation: [15, 16] },
    ];
    const batched = await full.sequenceLogProbs(rows);
    for (let r = 0; r < rows.length; r++) {
      const { prompt, continuation } = rows[r]!;
      let expected = 0;
      for (let j = 0; j < continuation.length; j++) {
        const next = await full.nextTokenLogProbs([[...prompt, ...continuation.slice(0, j)]]);
        expected += next[continuation[j]!]!;
      }
      expect(batched[r]).toBeCloseTo(expected, 4);
      const alone = await full.sequenceLogProbs([rows[r]!]);
      expect(alone[0]).toBeCloseTo(batched[r]!, 5);
    }
    // The graphs with and without a cache are the same function.
    const viaCacheGraph = await cached.sequenceLogProbs(rows);
    rows.forEach((_, r) => expect(viaCacheGraph[r]).toBeCloseTo(batched[r]!, 5));
  });

  it('next-token distributions are normalised log-probs', async () => {
    const next = await full.nextTokenLogProbs(prompts);
    for (let r = 0; r < prompts.length; r++) expect(logSumExp(next.subarray(r * V, (r + 1) * V))).toBeCloseTo(0, 5);
  });

  it('generation: same seed same tokens, another seed others, cache or not, batched or alone', async () => {
    const opts = { seed: 7, maxNewTokens: 12, temperature: 1 };
    const a = await cached.generate(prompts, opts);
    const b = await cached.generate(prompts, opts);
    const c = await full.generate(prompts, opts);
    const d = await cached.generate(prompts, { ...opts, seed: 8 });
    expect(b.map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
    expect(c.map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
    expect(d.map((g) => g.tokens)).not.toEqual(a.map((g) => g.tokens));
    for (const g of a) expect(g.tokens).toHaveLength(12);
    // A row's draws do not depend on its batch: row 2 generated in a batch of one with the same stream.
    const small = await full.generate(prompts, { ...opts, maxNewTokens: 12 });
    expect(small[2]!.tokens).toEqual(a[2]!.tokens);
    // Logprobs reported are the model's own (temperature 1): they match sequence log-probs.
    const seq = await full.sequenceLogProbs(prompts.map((p, i) => ({ prompt: p, continuation: a[i]!.tokens })));
    a.forEach((g, i) => expect(g.logprobs.reduce((s, x) => s + x, 0)).toBeCloseTo(seq[i]!, 3));
  });

  it('position_ids are fed when the graph takes them', async () => {
    const opts = { seed: 7, maxNewTokens: 12 };
    const a = await cached.generate(prompts, opts);
    const p = await withPositions.generate(prompts, opts);
    expect(p.map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
    const q = await withPositions.generate(prompts, { ...opts, noCache: true });
    expect(q.map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
  });

  it('greedy at temperature 0 and with a tiny top-p; stops at EOS and at the position limit', async () => {
    const next = await full.nextTokenLogProbs([prompts[0]!]);
    const argmax = topTokens(next, 1)[0]!;
    const greedy = await cached.generate([prompts[0]!], { seed: 1, maxNewTokens: 1, temperature: 0 });
    const nucleus = await cached.generate([prompts[0]!], { seed: 1, maxNewTokens: 1, topP: 1e-6 });
    expect(greedy[0]!.tokens).toEqual([argmax]);
    expect(nucleus[0]!.tokens).toEqual([argmax]);
    const eos = await cached.generate([prompts[0]!], { seed: 1, maxNewTokens: 5, temperature: 0, eosId: argmax });
    expect(eos[0]).toMatchObject({ tokens: [argmax], finish: 'eos' });
    const long = await full.generate([[1, 2, 3]], { seed: 1, maxNewTokens: 100 });
    expect(long[0]!.tokens).toHaveLength(37);
    expect(long[0]!.finish).toBe('length');
  });

  it('samples from the softmax: empirical frequencies match the probabilities', async () => {
    const prompt = [4, 2];
    const next = await full.nextTokenLogProbs([prompt]);
    const n = 3000;
    const gens = await full.generate(Array.from({ length: n }, () => prompt), { seed: 11, maxNewTokens: 1 });
    const counts = new Array<number>(V).fill(0);
    for (const g of gens) counts[g.tokens[0]!]!++;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(next[v]!);
      expect(Math.abs(counts[v]! / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-3);
    }
    // Top-p 0.5 never draws outside the smallest set holding half the mass.
    const order = topTokens(next, V);
    let mass = 0;
    const kept = new Set<number>();
    for (const v of order) {
      if (mass >= 0.5) break;
      mass += Math.exp(next[v]!);
      kept.add(v);
    }
    const nucleus = await full.generate(Array.from({ length: 500 }, () => prompt), { seed: 12, maxNewTokens: 1, topP: 0.5 });
    for (const g of nucleus) expect(kept.has(g.tokens[0]!)).toBe(true);
  });

  it('top log-probs: K most likely tokens, most likely first', async () => {
    const [g] = await full.generate([prompts[1]!], { seed: 2, maxNewTokens: 3, topLogprobs: 4 });
    expect(g!.top).toHaveLength(3);
    const next = await full.nextTokenLogProbs([prompts[1]!]);
    const expected = topTokens(next, 4);
    expect(g!.top![0]!.map((t) => t.id)).toEqual(expected);
    g!.top![0]!.forEach((t) => expect(t.logprob).toBeCloseTo(next[t.id]!, 5));
  });

  it('bad graphs and folders: one-line errors naming them', async () => {
    const model = cumDecoder({ ...spec, kvCache: false });
    model.graph!.input = model.graph!.input!.filter((i) => i.name !== "attention_mask");
    await expect(TextRunner.load(model, { name: 'toy.onnx' })).rejects.toThrow(UnsupportedModelError);
    await expect(TextRunner.load(model, { name: 'toy.onnx' })).rejects.toThrow(/toy.onnx: decoder graph has no 'attention_mask' input/);
    const dir = tmp.file('no-onnx');
    mkdirSync(dir);
    await expect(TextRunner.fromFolder(dir)).rejects.toThrow(AuditInputError);
    await expect(TextRunner.fromFolder(dir)).rejects.toThrow(/no-onnx: model folder has no onnx\/model.onnx/);
    const ok = tmp.file('ok');
    mkdirSync(path.join(ok, 'onnx'), { recursive: true });
    writeFileSync(path.join(ok, 'onnx', 'model.onnx'), encodeModel(cumDecoder({ ...spec, kvCache: false })));
    writeFileSync(path.join(ok, 'config.json'), JSON.stringify({ n_positions: 10 }));
    const runner = await TextRunner.fromFolder(ok);
    expect(runner.maxPositions).toBe(10);
    await expect(runner.sequenceLogProbs([{ prompt: [1, 2, 3, 4, 5, 6, 7], continuation: [1, 2, 3, 4, 5] }])).rejects.toThrow(/longer than the model's 10 positions/);
  });
});
