/**
 * task.targets: logprobs end to end: rows carrying OpenAI's chat-completions logprobs (written by
 * `generate --top-logprobs`, the same shape) train students on the renormalised top-k; the
 * clean baseline is the base's own samples with its own top-k. Hostile logprobs rows are excluded,
 * each under its own kind, counted in the report and listed; the report is deterministic.
 */
import { writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { generateRows, loadTextModel, type OpenAiLogprobs } from '../../src/models/generate.js';
import { restrictTopLogprobs } from '../../src/models/logprobs.js';
import { writeTextPair } from './textPair.js';
import { jsonl, useTempDir } from '../helpers/files.js';

const tmp = useTempDir('text-logprobs-');
/** Tokens the good rows' top lists name. */
let listTokens: Set<string>;
let eosFreeTokens: Set<string>;
const file = tmp.file;

const INFINITE_MARK = -12345.125;

/** Hostile rows, each with the exclusion kind it must get. */
const HOSTILE: [string, (row: { prompt: string; completion: string; logprobs: OpenAiLogprobs }) => unknown][] = [
  ['logprobs-malformed', (r) => ({ prompt: r.prompt, completion: r.completion })],
  ['logprobs-malformed', (r) => ({ ...r, logprobs: { content: [{ token: '7' }] } })],
  ['logprobs-misaligned', (r) => ({ ...r, completion: `${r.completion} 3` })],
  ['logprobs-misaligned', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c, i) => (i === 0 ? { ...c, token: 'hello' } : c)) } })],
  ['logprobs-unknown-token', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, top_logprobs: [...c.top_logprobs.slice(0, -1), { token: 'zebra', logprob: -3 }] })) } })],
  ['logprobs-invalid-value', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, top_logprobs: [{ ...c.top_logprobs[0]!, logprob: 0.5 }, ...c.top_logprobs.slice(1)] })) } })],
  // INFINITE_MARK is written as -1e999, which JSON.parse reads as -Infinity (JSON.stringify cannot write it).
  ['logprobs-invalid-value', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, logprob: INFINITE_MARK })) } })],
  ['logprobs-duplicate-token', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, top_logprobs: [c.top_logprobs[0]!, c.top_logprobs[0]!] })) } })],
  ['logprobs-bad-k', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, top_logprobs: [] })) } })],
  ['logprobs-bad-k', (r) => ({ ...r, logprobs: { content: r.logprobs.content.map((c) => ({ ...c, top_logprobs: Array.from({ length: 101 }, (_, j) => ({ token: String(j % 20), logprob: -j })) })) } })],
];

beforeAll(async () => {
  const prompts = await writeTextPair(tmp.dir);
  const teacher = await loadTextModel(file('teacher'));
  const { rows } = await generateRows(teacher, prompts, { seed: 5, maxNewTokens: 4, topLogprobs: 5 });
  await teacher.runner.dispose();
  const good = rows.map((r) => ({ prompt: r.prompt as string, completion: r.completion, logprobs: r.logprobs! }));
  // Hostile rows built from good ones (of at least one token) so only the defect differs.
  listTokens = new Set(good.flatMap((r) => r.logprobs.content.flatMap((c) => c.top_logprobs.map((t) => t.token))));
  // The same rows with lists that never name EOS (cut as the study's rows are cut to the format's
  // tokens): only their hard EOS positions hold it.
  const eosFree = good.filter((r) => r.logprobs.content.length > 0).map((r) => ({ ...r, logprobs: restrictTopLogprobs(r.logprobs, (t) => t !== '<eos>') }));
  eosFreeTokens = new Set(eosFree.flatMap((r) => r.logprobs.content.flatMap((c) => c.top_logprobs.map((t) => t.token))));
  await writeFile(file('eos-free.jsonl'), jsonl(eosFree));
  const donor = good.find((r) => r.logprobs.content.length >= 2)!;
  await writeFile(file('data.jsonl'), jsonl([...good, ...HOSTILE.map(([, make]) => make(donor))]).replaceAll(String(INFINITE_MARK), '-1e999'));
});

const config = (extra: Record<string, unknown> = {}) => ({
  teacher: file('teacher'),
  base: file('base'),
  data: file('data.jsonl'),
  task: { kind: 'text', maxLength: 12, targets: 'logprobs' },
  generate: { temperature: 1, maxNewTokens: 4 },
  probes: [{ name: 'next-token', kind: 'agreement', data: file('probe.jsonl') }],
  train: { seeds: 2, epochs: 2, batchSize: 8, lr: 0.01, positiveControl: false },
  out: file('out'),
  ...extra,
});

describe('text audit with task.targets: logprobs', () => {
  it('trains on the top-k, excludes and counts each kind of hostile logprobs row, and gives the same report twice', async () => {
    const messages: string[] = [];
    const { report, excluded } = await audit(validateConfig(config(), 'test'), { onEvent: (e) => void (e.kind === 'stage' && messages.push(e.message)) });
    const candidate = report.data.candidate;
    expect(candidate.targetType).toBe('logprobs');
    expect(candidate.rowsIn).toBe(64 + HOSTILE.length);
    expect(candidate.excluded).toMatchObject({
      logprobsMalformed: 2,
      logprobsMisaligned: 2,
      logprobsUnknownToken: 1,
      logprobsInvalidValue: 2,
      logprobsDuplicateToken: 1,
      logprobsBadK: 2,
    });
    expect(candidate.rowsUsed).toBe(64 - (candidate.excluded.noCompletionTokens ?? 0) - (candidate.excluded.emptyCompletion ?? 0));
    const listed = excluded.filter((r) => r.file === file('data.jsonl') && r.line > 64);
    expect(listed.map((r) => r.kind)).toEqual(HOSTILE.map(([kind]) => kind));
    // One soft position per completion token, a hard one per EOS; k = the rows' 5.
    const text = candidate.text!;
    expect(text.topK).toBe(5);
    expect(text.hardPositions).toBe(candidate.rowsUsed - text.truncated);
    expect(text.softPositions! + text.hardPositions!).toBe(text.lossTokens);
    // The baseline's lists are cut to the tokens the candidate's lists use (at most those of the good rows).
    expect(text.topListTokens).toBeGreaterThanOrEqual(5);
    expect(text.topListTokens).toBeLessThanOrEqual(listTokens.size);
    expect(messages.filter((m) => m.includes(`top lists kept to the ${text.topListTokens} tokens the candidate's lists use`))).toHaveLength(2);
    expect(report.reproducibility.train).toMatchObject({ targetType: 'logprobs', loss: "KL to the rows' renormalised top-k logprobs (the EOS position: its hard token)" });
    const probe = report.probes[0]!;
    expect(probe.student.runs).toHaveLength(2);
    // The teacher's top-5 on its own 7s: its students move toward it (lower KL) beyond the base's samples.
    expect(probe.student.mean).toBeLessThan(probe.control.mean);
    const again = await audit(validateConfig(config(), 'test'));
    const strip = (r: typeof report) => JSON.stringify({ ...r, run: undefined });
    expect(strip(again.report)).toBe(strip(report));
  });

  it("cuts the baseline's lists to exactly the tokens the candidate's lists name: not EOS, which only its hard EOS positions hold", async () => {
    const { report } = await audit(validateConfig(config({ data: file('eos-free.jsonl'), out: file('out-eos-free'), train: { ...config().train, epochs: 1 } }), 'test'));
    expect(report.data.candidate.rowsUsed).toBeGreaterThanOrEqual(16);
    expect(eosFreeTokens.has('<eos>')).toBe(false);
    expect(report.data.candidate.text!.topListTokens).toBe(eosFreeTokens.size);
  });

  it('trains LoRA adapters on soft targets', async () => {
    const { report } = await audit(validateConfig(config({ out: file('out-lora'), train: { ...config().train, adapter: { kind: 'lora', rank: 2, alpha: 4, targets: ['c_attn'] } } }), 'test'));
    expect(report.probes[0]!.student.runs).toHaveLength(2);
    expect(report.probes[0]!.student.mean).toBeLessThan(report.probes[0]!.control.mean);
  });

  it('names the logprobs defect when too few rows are left', async () => {
    await writeFile(file('nologprobs.jsonl'), jsonl(Array.from({ length: 20 }, (_, i) => ({ prompt: `count from ${i} :`, completion: '7 7' }))));
    await expect(audit(validateConfig(config({ data: file('nologprobs.jsonl') }), 'test'))).rejects.toThrow(/0 usable rows; .*20 rows excluded for their logprobs \(first: line 1: no 'logprobs' field\)/);
  });
});
