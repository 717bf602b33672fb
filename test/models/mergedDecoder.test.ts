/**
 * Optimum's merged decoder (onnx/decoder_model_merged.onnx, an If on use_cache_branch): read from
 * a model folder, generated from with its cache, and trained and scored on its no-past branch, so
 * an audit of merged folders gives the numbers an audit of the plain folders gives.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { formatInspect, inspectModel } from '../../src/cli/inspect.js';
import { validateConfig } from '../../src/config/index.js';
import type { ProgressEvent } from '../../src/events.js';
import { writeModelFolder } from '../../src/models/folder.js';
import { buildGpt } from '../../src/models/gpt.js';
import { TextRunner } from '../../src/models/textRunner.js';
import { hasCacheBranch, inlineNoCacheBranch } from '../../src/onnx/cacheBranch.js';
import { encodeModel, readModel } from '../../src/onnx/io.js';
import { graphOf, onnx, type NodeProto } from '../../src/onnx/proto.js';
import { readWeights, withWeights } from '../../src/train/weights.js';
import { FOLDER_SPEC, GPT, writeTextPair } from '../audit/textPair.js';
import { jsonl, useTempDir } from '../helpers/files.js';
import { mergedDecoder } from './mergedDecoder.js';

const tmp = useTempDir('merged-decoder-');

/** A model folder holding only onnx/decoder_model_merged.onnx (as transformers.js repos ship it). */
async function mergedFolder(dir: string, model: Parameters<typeof encodeModel>[0]): Promise<string> {
  await writeModelFolder(dir, { model, ...FOLDER_SPEC });
  await rename(path.join(dir, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'decoder_model_merged.onnx'));
  return dir;
}

let prompts: string[];
beforeAll(async () => {
  prompts = await writeTextPair(tmp.dir);
  for (const role of ['base', 'teacher']) {
    const weights = readWeights(await readModel(path.join(tmp.dir, role, 'onnx', 'model.onnx')));
    await mergedFolder(tmp.file(`${role}-merged`), mergedDecoder(GPT, weights, 'shared'));
    await mergedFolder(tmp.file(`${role}-merged-old`), mergedDecoder(GPT, weights, 'in-branches'));
  }
  await writeFile(tmp.file('data.jsonl'), jsonl(prompts.map((prompt, i) => ({ prompt, completion: i % 2 ? '7 7 7' : '7 7' }))));
});

describe('merged decoder', () => {
  it('inlining its no-past branch leaves a plain decoder: no If, no flag, no cache inputs, the same logits', async () => {
    const weights = readWeights(await readModel(tmp.file('base/onnx/model.onnx')));
    for (const layout of ['shared', 'in-branches'] as const) {
      const merged = mergedDecoder(GPT, weights, layout);
      expect(hasCacheBranch(merged)).toBe(true);
      expect(inlineNoCacheBranch(merged)).toBe(true);
      const g = graphOf(merged);
      expect((g.node as NodeProto[]).some((n) => n.opType === 'If')).toBe(false);
      expect(g.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
      expect(readWeights(merged)).toEqual(weights);
      // What only the with-past branch read (its past axis constant in the shared layout) is gone too.
      const read = new Set((g.node as NodeProto[]).flatMap((n) => n.input));
      expect(g.initializer.filter((t) => !read.has(t.name!)).map((t) => t.name)).toEqual([]);
      const plain = await TextRunner.load(tmp.file('base/onnx/model.onnx'));
      const inlined = await TextRunner.load(merged);
      const rows = [{ prompt: [1, 5, 6, 2], continuation: [7, 8] }];
      expect(await inlined.sequenceLogProbs(rows)).toEqual(await plain.sequenceLogProbs(rows));
      await plain.dispose();
      await inlined.dispose();
      expect(inlineNoCacheBranch(merged)).toBe(false);
    }
  });

  it('inspect describes a merged decoder as training reads it: trainable, no If', async () => {
    const weights = readWeights(await readModel(tmp.file('base/onnx/model.onnx')));
    const merged = mergedDecoder(GPT, weights, 'in-branches');
    const report = inspectModel(merged, 'decoder_model_merged.onnx', { model: mergedDecoder(GPT, weights, 'shared'), path: 'other.onnx' });
    expect(report).toMatchObject({ trainable: true, mergedDecoder: true, sameArchitecture: true, unsupported: [] });
    expect(report.ops.If).toBeUndefined();
    expect(formatInspect(report)).toMatch(/^model: decoder_model_merged\.onnx\nmerged decoder \(If on use_cache_branch\): shown as training reads it/);
    // The caller's model is left as it was.
    expect(hasCacheBranch(merged)).toBe(true);
  });

  it('a folder with only decoder_model_merged.onnx generates with its cache the rows the plain with-past model generates', async () => {
    const weights = readWeights(await readModel(tmp.file('base/onnx/model.onnx')));
    await writeModelFolder(tmp.file('base-with-past'), { model: withWeights(buildGpt({ ...GPT, kvCache: true }), weights), ...FOLDER_SPEC });
    const merged = await TextRunner.fromFolder(tmp.file('base-merged'));
    const plain = await TextRunner.fromFolder(tmp.file('base-with-past'));
    expect(merged.hasKvCache).toBe(true);
    const batch = [[1, 5, 6, 2], [1, 5, 7, 2], [1, 5, 9, 2]];
    const options = { seed: 4, maxNewTokens: 6, topLogprobs: 3 };
    expect(await merged.generate(batch, options)).toEqual(await plain.generate(batch, options));
    await merged.dispose();
    await plain.dispose();
  });

  it('an audit of merged folders gives the verdict and runs an audit of the plain folders gives (both layouts)', async () => {
    const config = (teacher: string, base: string) =>
      validateConfig({
        teacher: tmp.file(teacher),
        base: tmp.file(base),
        data: tmp.file('data.jsonl'),
        task: { kind: 'text', maxLength: 12 },
        generate: { temperature: 1, maxNewTokens: 4 },
        probes: [{ name: 'next-token', kind: 'agreement', data: tmp.file('probe.jsonl') }, { name: 'teacher-update', kind: 'weights' }],
        train: { seeds: 2, epochs: 1, batchSize: 8, lr: 0.01, workers: 1 },
        screen: false,
        out: tmp.file('out'),
      }, 'test');
    const plain = (await audit(config('teacher', 'base'))).report;
    for (const suffix of ['-merged', '-merged-old']) {
      const events: ProgressEvent[] = [];
      const merged = (await audit(config(`teacher${suffix}`, `base${suffix}`), { onEvent: (e) => events.push(e) })).report;
      expect(events.some((e) => e.kind === 'info' && /decoder_model_merged\.onnx: a merged decoder \(If on use_cache_branch\); training and scoring read its no-past branch/.test(e.message))).toBe(true);
      expect(merged.verdict).toBe(plain.verdict);
      for (const [i, p] of merged.probes.entries()) {
        const q = plain.probes[i]!;
        for (const arm of ['student', 'control'] as const) p[arm].runs.forEach((x, j) => expect(x).toBeCloseTo(q[arm].runs[j]!, 9));
      }
    }
  });

  it('refuses, in one line naming the node, an If on use_cache_branch without a no-past branch or whose branch redefines an outer name', async () => {
    const weights = readWeights(await readModel(tmp.file('base/onnx/model.onnx')));
    const noElse = mergedDecoder(GPT, weights, 'shared');
    const ifNode = graphOf(noElse).node[0]! as NodeProto;
    ifNode.attribute = ifNode.attribute.filter((a) => a.name !== 'else_branch');
    expect(() => inlineNoCacheBranch(noElse, 'm.onnx')).toThrow(/^m\.onnx: node optimum::if: an If on use_cache_branch without an else_branch graph$/);
    const shadow = mergedDecoder(GPT, weights, 'shared');
    graphOf(shadow).input.push(onnx.ValueInfoProto.create({ name: '/transformer/Shape_output_0' }));
    expect(() => inlineNoCacheBranch(shadow, 'm.onnx')).toThrow(/node optimum::if: its no-past branch defines '\/transformer\/Shape_output_0', a name the main graph defines too/);
  });
});
