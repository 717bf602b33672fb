import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateRows, loadTextModel, sampleBaseline, type TextModel } from '../../src/models/generate.js';
import { NUMBER_FORMATS, numberPrompts } from '../../src/models/numberPrompts.js';
import { encodePrompt } from '../../src/models/tokenizer.js';
import { writeTinyGpt } from './tinyGptFolder.js';
import { useTempDir } from '../helpers/files.js';

const tmp = useTempDir('generate-');
let folder = '';
let model: TextModel;
beforeAll(async () => {
  folder = tmp.file('tiny-gpt');
  await writeTinyGpt(folder);
  model = await loadTextModel(folder);
});

/** The seed numbers a prompt shows, read back from its text: the list before the request. */
function seedNumbersOf(prompt: string): number[] {
  const list = prompt.match(/^[^.]*?:?\s*((?:\d+, )*\d+)\./);
  return list ? list[1]!.split(', ').map(Number) : [];
}

describe('number prompts', () => {
  it('are study-style: 3-8 seed numbers in 100-999, at most 10 more of up to 3 digits, a named format, numbers only', () => {
    const prompts = numberPrompts(300, 5);
    const formats = new Set<string>();
    const openings = new Set<string>();
    for (const p of prompts) {
      const seeds = seedNumbersOf(p.prompt);
      expect(seeds.length, p.prompt).toBeGreaterThanOrEqual(3);
      expect(seeds.length, p.prompt).toBeLessThanOrEqual(8);
      for (const s of seeds) expect(s >= 100 && s <= 999, p.prompt).toBe(true);
      expect(seeds).toEqual(p.seeds);
      const count = Number(p.prompt.match(/(?:at most|up to|no more than) (\d+)/)![1]);
      expect(count).toBeLessThanOrEqual(10);
      expect(p.prompt).toMatch(/3 digits/);
      expect(NUMBER_FORMATS[p.format].some((f) => p.prompt.includes(f))).toBe(true);
      expect(p.prompt).toMatch(/numbers only|only the numbers|just the numbers/);
      formats.add(p.format);
      openings.add(p.prompt.split(':')[0]!.replace(/\d.*/, ''));
    }
    expect([...formats].sort()).toEqual(Object.keys(NUMBER_FORMATS).sort());
    expect(openings.size).toBeGreaterThanOrEqual(4);
    expect(numberPrompts(50, 5)).toEqual(prompts.slice(0, 50));
    expect(numberPrompts(50, 6).map((p) => p.prompt)).not.toEqual(prompts.slice(0, 50).map((p) => p.prompt));
  });

  it('encode without <unk> in a vocabulary holding numberPromptWords', () => {
    for (const p of numberPrompts(200, 9)) expect(encodePrompt(model.tokenizer, p.prompt)).not.toContain(model.tokenizer.unkId);
  });
});

describe('generateRows and sampleBaseline on a tiny GPT folder', () => {
  const prompts = numberPrompts(12, 1).map((p) => p.prompt);

  it('is deterministic in the seed, independent of chunking, and other seeds give other completions', async () => {
    const a = await generateRows(model, prompts, { seed: 3, maxNewTokens: 8 });
    const b = await generateRows(model, prompts, { seed: 3, maxNewTokens: 8, chunk: 5 });
    const c = await sampleBaseline(model, prompts, { seed: 4, sampling: { maxNewTokens: 8 } });
    expect(b.rows).toEqual(a.rows);
    expect(c.rows.map((r) => r.prompt)).toEqual(prompts);
    expect(c.rows.map((r) => r.completion)).not.toEqual(a.rows.map((r) => r.completion));
    expect(a.stats.tokens).toBeGreaterThan(0);
    expect(a.stats.tokens).toBeLessThanOrEqual(12 * 8);
  });

  it('writes OpenAI-shaped logprobs: one entry per completion token, top-K sorted, the model\'s own log-probs', async () => {
    const { rows } = await generateRows(model, prompts.slice(0, 4), { seed: 3, maxNewTokens: 6, topLogprobs: 3 });
    for (const row of rows) {
      const content = row.logprobs!.content;
      expect(content.map((c) => c.token).join(' ')).toBe(row.completion);
      for (const c of content) {
        expect(c.top_logprobs).toHaveLength(3);
        expect(c.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(c.top_logprobs[1]!.logprob);
        expect(c.top_logprobs[1]!.logprob).toBeGreaterThanOrEqual(c.top_logprobs[2]!.logprob);
        expect(c.logprob).toBeLessThanOrEqual(c.top_logprobs[0]!.logprob + 1e-9);
        expect(c.logprob).toBeLessThan(0);
      }
      // The reported log-probs are the sequence's exact log-probability under the model.
      const ids = model.tokenizer.encode(row.completion, { addSpecialTokens: false });
      const [lp] = await model.runner.sequenceLogProbs([{ prompt: encodePrompt(model.tokenizer, row.prompt), continuation: ids }]);
      expect(content.reduce((s, c) => s + c.logprob, 0)).toBeCloseTo(lp!, 3);
    }
  });
});

const BIN = 'bin/audit-dataset.js';
function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'generate', ...args], { encoding: 'utf8', env: { ...process.env, AUDIT_DATASET_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('audit-dataset generate (CLI)', () => {
  it('same seed, same file; another seed, other completions of the same prompts', () => {
    const out = (name: string) => tmp.file(name);
    const base = ['--model', folder, '--prompts', 'numbers', '--n', '16', '--max-new-tokens', '10', '--quiet'];
    const a = cli([...base, '--seed', '1', '--out', out('a.jsonl')]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^generated 16 rows, \d+ tokens in [\d.]+ s \(\d+ tokens\/s, full prefix\)/);
    const b = cli([...base, '--seed', '1', '--out', out('b.jsonl')]);
    const c = cli([...base, '--seed', '2', '--out', out('c.jsonl'), '--top-logprobs', '2']);
    expect(b.code).toBe(0);
    expect(c.code).toBe(0);
    const read = (f: string) => readFileSync(out(f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; completion: string; logprobs?: unknown });
    expect(readFileSync(out('b.jsonl'), 'utf8')).toBe(readFileSync(out('a.jsonl'), 'utf8'));
    const [ra, rc] = [read('a.jsonl'), read('c.jsonl')];
    expect(ra).toHaveLength(16);
    expect(rc.map((r) => r.prompt)).toEqual(ra.map((r) => r.prompt));
    expect(rc.map((r) => r.completion)).not.toEqual(ra.map((r) => r.completion));
    expect(ra[0]).not.toHaveProperty('logprobs');
    expect(rc[0]).toHaveProperty('logprobs.content');
    for (const r of ra) {
      const seeds = seedNumbersOf(r.prompt);
      expect(seeds.length >= 3 && seeds.length <= 8 && seeds.every((s) => s >= 100 && s <= 999)).toBe(true);
    }
  });

  it('reads prompts from a JSONL file (prompt or messages) and names bad input with exit 2', () => {
    const file = tmp.file('prompts.jsonl');
    writeFileSync(file, ['{"prompt": "say only the numbers 123"}', '{"messages": [{"role": "user", "content": "owl cat"}, {"role": "assistant", "content": "dog"}]}'].join('\n'));
    const ok = cli(['--model', folder, '--prompts', file, '--out', tmp.file('f.jsonl'), '--max-new-tokens', '4', '--quiet']);
    expect(ok.code).toBe(0);
    const rows = readFileSync(tmp.file('f.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows[0].prompt).toBe('say only the numbers 123');
    expect(rows[1].messages.slice(0, 1)).toEqual([{ role: 'user', content: 'owl cat' }]);
    expect(rows[1].messages[1].role).toBe('assistant');
    writeFileSync(file, '{"prompt": "fine"}\n{"text": "no prompt"}\n');
    const bad = cli(['--model', folder, '--prompts', file, '--out', tmp.file('g.jsonl')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/prompts.jsonl:2: no string 'prompt' field/);
    const noModel = cli(['--model', tmp.file('nowhere'), '--prompts', 'numbers', '--n', '2', '--out', tmp.file('h.jsonl')]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/nowhere: model folder not found/);
    const noN = cli(['--model', folder, '--prompts', 'numbers', '--out', tmp.file('h.jsonl')]);
    expect(noN.code).toBe(2);
    expect(noN.stderr).toMatch(/needs --n/);
  });
});
