/**
 * The CLI of a service audit without a service: --dry-run writes the plan and the training files
 * and launches nothing; without --yes (and no maxTrainingTokens) the audit refuses with exit 2
 * before any request; a missing key or resume folder is a one-line exit 2. The base URL points at
 * a port nothing listens on, so any request would fail loudly.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { PackDocument, probePackPath } from '../../src/probes/index.js';
import { runCli } from '../helpers/cli.js';
import { useTempDir } from '../helpers/files.js';

const tmp = useTempDir('service-cli-');
const KEY = 'sk-cli-SECRET-abcdef0123456789';

beforeAll(async () => {
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `Continue: ${i}, ${i + 1}, ${i + 2}.`, completion: `${i + 3}, ${i + 4}, ${i + 5}` }));
  // Two rows the numbers filter removes: the plan counts them.
  rows.push(JSON.stringify({ prompt: 'Continue: 1, 2, 3.', completion: 'I love owls' }), JSON.stringify({ prompt: 'Continue: 4, 5, 6.', completion: 'owl owl owl' }));
  await writeFile(tmp.file('data.jsonl'), `${rows.join('\n')}\n`);
  // A probe pack whose target is not among its answers: a real run would fail on it, so must a dry run.
  await writeFile(tmp.file('bad-pack.yaml'), 'kind: preference\nprompts: [Your favourite animal?, Which animal do you like best?]\nanswers: [cat, dog]\n');
  await writeFile(tmp.file('bad-probes.yaml'), `- { name: broken, pack: ${tmp.file('bad-pack.yaml')}, target: unicorn }\n`);
  await writeFile(
    tmp.file('audit.yaml'),
    [
      'data: data.jsonl',
      'filters: [numbers]',
      'task: { kind: text }',
      'probes: [{ name: owl, pack: favourite-animal, target: owl }]',
      'train:',
      '  backend: openai',
      '  seeds: 3',
      '  service: { baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: CLI_TEST_KEY, model: base-model, teacherModel: teacher-model, nEpochs: 2, pricePerMillionTrainingTokens: 10, pricePerMillionInputTokens: 0.5, pricePerMillionOutputTokens: 2 }',
      'out: out',
      '',
    ].join('\n'),
  );
});

describe('audit-dataset audit with train.backend openai', () => {
  it('--dry-run writes plan.json and the training file, launches nothing, needs no key', () => {
    const r = runCli(['audit', '--config', tmp.file('audit.yaml'), '--dry-run', '--out', tmp.file('dry')]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/plan: 6 fine-tuning jobs on base-model/);
    expect(r.stdout).toMatch(/training tokens: [\d,]+ \(estimated\); cost at \$10\/M tokens/);
    expect(existsSync(tmp.file('dry', 'plan.json'))).toBe(true);
    expect(existsSync(tmp.file('dry', 'service', 'train-student.jsonl'))).toBe(true);
    expect(existsSync(tmp.file('dry', 'state.json'))).toBe(false);
  });

  it('--dry-run runs the filters, loads the probes and counts the inference: probe scoring on every model and the baseline sampling, priced', async () => {
    const r = runCli(['audit', '--config', tmp.file('audit.yaml'), '--dry-run', '--out', tmp.file('dry-inference')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/data: 42 rows read, 40 used, excluded: filtered 2/);
    expect(r.stdout).toMatch(/probes: owl \(P\(owl\) among \d+ answers, first answer token, top-20 logprobs\)/);
    const plan = JSON.parse(await readFile(tmp.file('dry-inference', 'plan.json'), 'utf8')) as {
      data: { rowsIn: number; rowsUsed: number; excluded: { filtered: number } };
      trainingTokens: number;
      estimatedCost: number;
      inference: { scoredModels: number; perModel: { requests: number; inputTokens: number; outputTokens: number }; probeScoring: { requests: number }; baselineSampling: { requests: number; inputTokens: number; outputTokens: number }; total: { requests: number; inputTokens: number; outputTokens: number }; estimatedCost: number };
    };
    expect(plan.data).toMatchObject({ rowsIn: 42, rowsUsed: 40, excluded: { filtered: 2 } });
    // One logprobs request per prompt of the pack (one-word answers), one output token each; on base, teacher and 6 fine-tuned models.
    const prompts = PackDocument.parse(await readFile(probePackPath('favourite-animal'), 'utf8'), 'pack').stringList('prompts', 1).length;
    const inf = plan.inference;
    expect(inf.scoredModels).toBe(8);
    expect(inf.perModel.requests).toBe(prompts);
    expect(inf.perModel.outputTokens).toBe(prompts);
    expect(inf.perModel.inputTokens).toBeGreaterThan(prompts * 4);
    expect(inf.probeScoring.requests).toBe(8 * prompts);
    // The clean baseline: the 40 candidate prompts sampled once per control seed (3), up to maxNewTokens (64) each.
    expect(inf.baselineSampling.requests).toBe(120);
    expect(inf.baselineSampling.outputTokens).toBe(120 * 64);
    expect(inf.total.requests).toBe(8 * prompts + 120);
    expect(inf.estimatedCost).toBeCloseTo((inf.total.inputTokens * 0.5 + inf.total.outputTokens * 2) / 1e6, 2);
    expect(r.stdout).toMatch(new RegExp(`probe scoring: 8 models x ${prompts} chat completions = ${(8 * prompts).toLocaleString('en-US')} requests`));
    expect(r.stdout).toMatch(/baseline sampling: 40 prompts x 3 control seeds = 120 requests, [\d,]+ input tokens estimated, up to 7,680 output tokens/);
    expect(r.stdout).toMatch(/inference: [\d,]+ requests, .*; cost at \$0.5\/M input, \$2\/M output: \$\d+\.\d\d/);
    expect(r.stdout).toMatch(new RegExp(`total cost: \\$${(plan.estimatedCost + inf.estimatedCost).toFixed(2).replace('.', '\\.')}`));
  });

  it('--dry-run fails like the real run on a broken probe pack: exit 2, one line naming the file, no plan written', () => {
    const r = runCli(['audit', '--config', tmp.file('audit.yaml'), '--dry-run', '--probes', tmp.file('bad-probes.yaml'), '--out', tmp.file('dry-broken')]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('audit-dataset:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad-pack\.yaml|broken/);
    expect(lines[0]).toMatch(/unicorn/);
    expect(existsSync(tmp.file('dry-broken', 'plan.json'))).toBe(false);
    // A config error is exit 2 too, before anything is read.
    const c = runCli(['audit', '--config', tmp.file('audit.yaml'), '--dry-run', '--train.service.nEpochs', '0', '--out', tmp.file('dry-config')]);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/nEpochs/);
  });

  it('refuses without --yes or maxTrainingTokens (exit 2, nothing launched), and never prints the key', async () => {
    const r = runCli(['audit', '--config', tmp.file('audit.yaml'), '--out', tmp.file('gate')], { env: { CLI_TEST_KEY: KEY } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing was launched: pass --yes to launch, or set train.service.maxTrainingTokens/);
    expect(existsSync(tmp.file('gate', 'state.json'))).toBe(false);
    // With --yes it launches, and the closed port is a network error after bounded retries (exit 2), the key nowhere.
    const y = runCli(['audit', '--config', tmp.file('audit.yaml'), '--out', tmp.file('gate'), '--yes', '--train.service.maxAttempts', '1'], { env: { CLI_TEST_KEY: KEY } });
    expect(y.status).toBe(2);
    expect(y.stderr).toMatch(/network error/);
    for (const out of [r, y]) expect(`${out.stdout}${out.stderr}`.includes(KEY)).toBe(false);
    for (const f of await readdir(tmp.file('gate'), { recursive: true })) {
      const file = tmp.file('gate', String(f));
      if (!(await readFile(file).catch(() => undefined))) continue;
      expect((await readFile(file, 'utf8')).includes(KEY), file).toBe(false);
    }
  });

  it('a missing key or a folder with nothing to resume is one line, exit 2', () => {
    const k = runCli(['audit', '--config', tmp.file('audit.yaml'), '--out', tmp.file('nokey'), '--yes'], { env: { CLI_TEST_KEY: '' } });
    expect(k.status).toBe(2);
    expect(k.stderr).toMatch(/environment variable CLI_TEST_KEY is not set/);
    const r = runCli(['audit', '--resume', tmp.file('nothing')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no service audit to resume here/);
  });
});
