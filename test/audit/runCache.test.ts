/**
 * The run cache (`cache: DIR`): a re-run reads every probe run instead of training it and reports
 * the same results as a fresh audit; anything that decides a run changes its key; a damaged or
 * foreign entry is reported and trained again, never used.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import type { TextStudentJob, TrainerBackend } from '../../src/audit/backend.js';
import { LocalOnnxBackend } from '../../src/audit/localBackend.js';
import { CachingBackend, contentHash, runKey } from '../../src/audit/runCache.js';
import fc from 'fast-check';
import { validateConfig } from '../../src/config/index.js';
import type { ProgressEvent } from '../../src/events.js';
import { buildMlp } from '../../src/models/mlp.js';
import { renderJson } from '../../src/report/json.js';
import { renderSummary } from '../../src/report/markdown.js';
import { configFlags } from '../../src/cli/audit.js';
import type { AuditReport } from '../../src/report/schema.js';
import { readWeights } from '../../src/train/weights.js';
import { jsonl, useTempDir } from '../helpers/files.js';
import { writeTextPair } from './textPair.js';
import { tinyCase } from './tiny.js';

const tmp = useTempDir('run-cache-');

/** report.json without the wall-clock block. */
const results = (r: AuditReport): string =>
  renderJson({ ...r, run: { startedAt: '', durationMs: 0, trainingMs: 0, steps: r.run.steps }, reproducibility: { ...r.reproducibility, config: { ...r.reproducibility.config, out: '' } } });

/** A backend that counts the runs it really trains. */
function counting(inner: TrainerBackend = new LocalOnnxBackend()): TrainerBackend & { trained: number } {
  const b = {
    name: inner.name,
    trained: 0,
    train: async (job: Parameters<TrainerBackend['train']>[0]) => {
      b.trained++;
      return inner.train(job);
    },
    predict: inner.predict.bind(inner),
    shape: inner.shape.bind(inner),
    ...(inner.gradient ? { gradient: inner.gradient.bind(inner) } : {}),
  };
  return b;
}

describe('run cache', () => {
  it('a re-run reads every run from the cache, trains none, and reports what a fresh audit reports', async () => {
    const c = await tinyCase();
    try {
      const cache = tmp.file('tiny-cache');
      const config = (withCache: boolean, out: string) => validateConfig({ ...c.config, ...(withCache ? { cache } : {}), train: { seeds: 3, epochs: 2, batchSize: 32, crossInit: true, workers: 1 }, out: tmp.file(out) }, 'test');
      const fresh = (await audit(config(false, 'fresh'))).report;
      const firstBackend = counting();
      const first = (await audit(config(true, 'first'), { backend: firstBackend })).report;
      const events: ProgressEvent[] = [];
      const secondBackend = counting();
      const second = (await audit(config(true, 'second'), { backend: secondBackend, onEvent: (e) => events.push(e) })).report;

      const runs = firstBackend.trained;
      expect(runs).toBeGreaterThanOrEqual(9); // 3 seeds x (student, control, cross-init), plus the positive control's
      expect(first.run.cachedRuns).toBe(0);
      expect(secondBackend.trained).toBe(0);
      expect(second.run.cachedRuns).toBe(runs);
      expect(second.run.trainingMs).toBe(0);
      expect(second.run.steps).toBe(first.run.steps);
      expect(events.filter((e) => e.kind === 'info' && e.stage === 'train').map((e) => (e as { message: string }).message)).toEqual([`run cache ${cache}: ${runs} of ${runs} probe runs read, 0 trained and stored`]);
      // The same report as without a cache: the config's `cache` is not part of it.
      expect(results(first)).toBe(results(fresh));
      expect(results(second)).toBe(results(fresh));
      expect(second.probes.map((p) => [p.student.runs, p.control.runs, p.crossInit!.runs])).toEqual(fresh.probes.map((p) => [p.student.runs, p.control.runs, p.crossInit!.runs]));
      expect(JSON.stringify(second.reproducibility)).not.toContain('tiny-cache');
      expect(renderSummary(second)).toContain(`run cache: ${runs} probe run(s) read instead of trained`);
      expect(renderSummary(first)).not.toContain('run cache');
      // The CLI takes it as --cache (flags come from the config schema); paths resolve like `out`.
      expect(configFlags()).toHaveProperty('cache');

      // Another first seed is other runs: nothing is reused, and the cache grows.
      const before = (await readdir(path.join(cache, 'v1'))).length;
      const other = counting();
      const shifted = (await audit(validateConfig({ ...c.config, cache, train: { seeds: 3, seed: 50, epochs: 2, batchSize: 32, crossInit: true, workers: 1 }, out: tmp.file('shifted') }, 'test'), { backend: other })).report;
      expect(shifted.run.cachedRuns).toBe(0);
      expect(other.trained).toBe(runs);
      expect((await readdir(path.join(cache, 'v1'))).length).toBe(before + 2 * runs);
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('a gate auditing batch after batch against one given baseline trains the controls once', async () => {
    const c = await tinyCase();
    try {
      const rows = (await readFile(c.data, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { x: number[]; t: number[] });
      const write = async (name: string, f: (r: { x: number[]; t: number[] }, i: number) => { x: number[]; t: number[] }) => {
        await writeFile(tmp.file(name), jsonl(rows.map(f)));
        return tmp.file(name);
      };
      const baseline = await write('gate-baseline.jsonl', (r) => ({ x: r.x, t: [...r.t].reverse() }));
      const batchB = await write('gate-b.jsonl', (r, i) => ({ x: r.x.map((v) => -v), t: i % 2 ? r.t : [...r.t].reverse() }));
      const cache = tmp.file('gate-cache');
      const config = (data: string) => validateConfig({ ...c.config, data, baseline, cache, train: { seeds: 3, sequential: false, epochs: 1, batchSize: 32, workers: 1 }, out: tmp.file('gate-out') }, 'test');
      const first = counting();
      await audit(config(c.data), { backend: first });
      const second = counting();
      const report = (await audit(config(batchB), { backend: second })).report;
      // Students and positive controls are the new batch's; the 3 controls are the baseline's, read.
      expect(report.run.cachedRuns).toBe(3);
      expect(second.trained).toBe(first.trained - 3);
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('a damaged, truncated or foreign entry is reported and trained again; the report does not change', async () => {
    const c = await tinyCase();
    try {
      const cache = tmp.file('damaged-cache');
      const config = (out: string) => validateConfig({ ...c.config, cache, train: { seeds: 2, epochs: 1, batchSize: 32, workers: 1 }, out: tmp.file(out) }, 'test');
      const first = (await audit(config('d1'))).report;
      const folder = path.join(cache, 'v1');
      const bins = (await readdir(folder)).filter((f) => f.endsWith('.bin')).sort();
      const jsons = (await readdir(folder)).filter((f) => f.endsWith('.json')).sort();
      expect(bins.length).toBeGreaterThanOrEqual(4);
      // One flipped byte, one truncated file, one entry that names a tensor the job does not have, one that is not JSON.
      const flipped = await readFile(path.join(folder, bins[0]!));
      flipped[5] = flipped[5]! ^ 0xff;
      await writeFile(path.join(folder, bins[0]!), flipped);
      await writeFile(path.join(folder, bins[1]!), (await readFile(path.join(folder, bins[1]!))).subarray(0, 12));
      const meta = JSON.parse(await readFile(path.join(folder, jsons[2]!), 'utf8')) as { tensors: [string, number][] };
      meta.tensors[0]![0] = '../../etc/passwd';
      await writeFile(path.join(folder, jsons[2]!), JSON.stringify(meta));
      await writeFile(path.join(folder, jsons[3]!), '{"format": "audit-dataset run cache", "version": 1, "key": ');

      const events: ProgressEvent[] = [];
      const backend = counting();
      const second = (await audit(config('d2'), { backend, onEvent: (e) => events.push(e) })).report;
      const warnings = events.filter((e) => e.kind === 'warning' && /run cache entry .* is not usable/.test(e.message)).map((e) => e.message);
      expect(warnings).toHaveLength(4);
      expect(warnings.join('\n')).toMatch(/does not match its SHA-256/);
      expect(warnings.join('\n')).toMatch(/holds 12 bytes/);
      expect(warnings.join('\n')).toMatch(/names a tensor '\.\.\/\.\.\/etc\/passwd' the job does not train/);
      expect(warnings.join('\n')).toMatch(/not valid JSON/);
      expect(backend.trained).toBe(4);
      expect(second.run.cachedRuns).toBe(bins.length - 4);
      expect(results(second)).toBe(results(first));
      // The damaged entries were replaced: a third run reads everything.
      const third = (await audit(config('d3'))).report;
      expect(third.run.cachedRuns).toBe(bins.length);
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('a text audit re-run reads its students and controls (generated baselines included) from the cache', async () => {
    const dir = tmp.file('text');
    const prompts = await writeTextPair(dir);
    await writeFile(path.join(dir, 'data.jsonl'), jsonl(prompts.map((prompt, i) => ({ prompt, completion: i % 2 ? '7 7 7' : '7 7' }))));
    const config = (out: string) =>
      validateConfig({
        teacher: path.join(dir, 'teacher'),
        base: path.join(dir, 'base'),
        data: path.join(dir, 'data.jsonl'),
        task: { kind: 'text', maxLength: 12 },
        generate: { temperature: 1, maxNewTokens: 4 },
        probes: [{ name: 'next-token', kind: 'agreement', data: path.join(dir, 'probe.jsonl') }, { name: 'teacher-update', kind: 'weights' }],
        train: { seeds: 2, epochs: 1, batchSize: 8, lr: 0.01, workers: 1 },
        cache: path.join(dir, 'cache'),
        out: path.join(dir, out),
      }, 'test');
    const firstEvents: ProgressEvent[] = [];
    const first = (await audit(config('o1'), { onEvent: (e) => firstEvents.push(e) })).report;
    const backend = counting();
    const events: ProgressEvent[] = [];
    const second = (await audit(config('o2'), { backend, onEvent: (e) => events.push(e) })).report;
    expect(backend.trained).toBe(0);
    // The generated baselines' sampling passes are read too, one message per control seed.
    const read = (list: ProgressEvent[]) => list.filter((e) => e.kind === 'info' && /^clean baseline \(seed \d+\): \d+ sampling pass\(es\) read from the run cache$/.test(e.message));
    expect(read(firstEvents)).toHaveLength(0);
    expect(read(events)).toHaveLength(2);
    expect((await readdir(path.join(dir, 'cache', 'v1'))).filter((f) => f.startsWith('baseline-rows-')).length).toBeGreaterThanOrEqual(2);
    expect(second.run.cachedRuns).toBeGreaterThanOrEqual(4);
    expect(results(second)).toBe(results(first));
    // A stored baseline whose rows were edited no longer matches its hash: sampled again, same report.
    const stored = (await readdir(path.join(dir, 'cache', 'v1'))).filter((f) => f.startsWith('baseline-rows-')).sort()[0]!;
    const file = path.join(dir, 'cache', 'v1', stored);
    await writeFile(file, (await readFile(file, 'utf8')).replace(/"completion":"([^"]*)"/, '"completion":"7 7 7 7"'));
    const thirdEvents: ProgressEvent[] = [];
    const third = (await audit(config('o3'), { onEvent: (e) => thirdEvents.push(e) })).report;
    expect(thirdEvents.filter((e) => e.kind === 'warning' && e.message.includes(`${stored} is not usable (the value does not match its SHA-256); making it again`))).toHaveLength(1);
    expect(results(third)).toBe(results(first));
  });
});

describe('runKey', () => {
  const model = buildMlp({ sizes: [3, 4, 2], seed: 1 });
  const init = readWeights(model);
  const row = (ids: number[]) => ({ line: 1, prompt: 'p', completion: 'c', tokens: { ids: Int32Array.from(ids), lossFrom: 1 } });
  const job = (over: Partial<TextStudentJob> = {}): TextStudentJob => ({
    kind: 'text',
    model,
    init,
    train: { epochs: 1, batchSize: 2, optimizer: 'adam', lr: 0.001, weightDecay: 0, seed: 1 },
    label: 'student seed 1',
    task: { targets: 'tokens', padId: 0 },
    data: { rows: [row([1, 2, 3]), row([4, 5])] },
    ...over,
  });

  it('is the same for equal content in other objects, and ignores the label and listener', () => {
    const copy = job({ init: new Map([...init].map(([k, v]) => [k, Float32Array.from(v)])), label: 'control seed 9', onEvent: () => {}, data: { rows: [row([1, 2, 3]), row([4, 5])] } });
    expect(runKey(copy)).toBe(runKey(job()));
  });

  it('changes with the seed, the recipe, one token, one weight, the task, the graph and the row order', () => {
    const key = runKey(job());
    const weight = new Map(init);
    const [name, values] = [...init][0]!;
    weight.set(name, Float32Array.from(values, (v, i) => (i === 0 ? v + 1e-7 : v)));
    const variants = [
      job({ train: { ...job().train, seed: 2 } }),
      job({ train: { ...job().train, lr: 0.002 } }),
      job({ data: { rows: [row([1, 2, 4]), row([4, 5])] } }),
      job({ data: { rows: [row([4, 5]), row([1, 2, 3])] } }),
      job({ init: weight }),
      job({ task: { targets: 'tokens', padId: 1 } }),
      job({ model: buildMlp({ sizes: [3, 4, 2], seed: 2 }) }),
    ];
    const keys = variants.map(runKey);
    expect(new Set([key, ...keys]).size).toBe(keys.length + 1);
  });
});

describe('contentHash (the keys)', () => {
  // Values as jobs hold them: JSON-like data, typed arrays of several kinds, Maps of weights.
  const leaf = fc.oneof(
    fc.jsonValue(),
    fc.float32Array({ maxLength: 4 }),
    fc.int32Array({ maxLength: 4 }),
    fc.constantFrom(undefined, -0, Number.NaN, Infinity),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), tie('node'), { maxKeys: 3 }), fc.array(fc.tuple(fc.string({ maxLength: 3 }), tie('node')), { maxLength: 3 }).map((e) => new Map(e))),
  })).node;
  /** Equality as a run depends on it: the same types, keys and bytes (key order and undefined fields aside). */
  const same = (a: unknown, b: unknown): boolean => {
    if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
      return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && a.constructor === b.constructor && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
    }
    if (a instanceof Map || b instanceof Map) return a instanceof Map && b instanceof Map && same(Object.fromEntries([...a].map(([k, v]) => [String(k), v])), Object.fromEntries([...b].map(([k, v]) => [String(k), v]))) && a.size === b.size;
    if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined).sort();
      const [ka, kb] = [keys(a), keys(b)];
      return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    }
    return Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
  };

  it('property: two values hash alike exactly when they are the same (no ambiguous encoding)', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(contentHash(a) === contentHash(b)).toBe(same(a, b));
      }),
      { numRuns: 400 },
    );
  });

  it('tells apart values a naive join would merge', () => {
    const pairs: [unknown, unknown][] = [
      [['ab', 'c'], ['a', 'bc']],
      [{ a: 1, b: 2 }, { a: 12 }],
      [Float32Array.of(1), Int32Array.of(1065353216)],
      [new Map([['a', 1]]), { a: 1 }],
      [[1, [2]], [[1], 2]],
      ['1', 1],
      [0, -0],
    ];
    for (const [a, b] of pairs) expect(contentHash(a), JSON.stringify([a, b])).not.toBe(contentHash(b));
    expect(contentHash({ b: 1, a: 2, c: undefined })).toBe(contentHash({ a: 2, b: 1 }));
  });
});

describe('CachingBackend', () => {
  it('passes fine-tuning-service jobs through uncached', async () => {
    let calls = 0;
    const inner: TrainerBackend = {
      name: 'service',
      train: async () => {
        calls++;
        return { weights: new Map(), steps: 0, trainingMs: 0, finalLoss: 0, remote: { jobId: 'j', trainingFile: 'f', model: 'm', trainedTokens: 1 } };
      },
      predict: async () => ({ outputs: new Float32Array(0), width: 0 }),
      shape: async () => ({ inputWidth: 0, outputWidth: 0 }),
    };
    const b = new CachingBackend(inner, tmp.file('service-cache'));
    const chat = { kind: 'chat' as const, model: buildMlp({ sizes: [2, 2], seed: 1 }), init: new Map(), train: { epochs: 1, batchSize: 1, optimizer: 'adam' as const, lr: 1, weightDecay: 0, seed: 1 }, label: 'x', task: {}, data: { jsonl: '', rows: 0, tokensPerEpoch: 0, arm: 'student' } };
    await b.train(chat);
    await b.train(chat);
    expect(calls).toBe(2);
    expect(b.stats).toEqual({ hits: 0, misses: 0, damaged: 0 });
  });
});
