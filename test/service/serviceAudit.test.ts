/**
 * A text audit through an OpenAI-compatible fine-tuning service (train.backend openai), against a
 * local fake service whose jobs really fine-tune a tiny GPT: the plan gate, --dry-run, the report's
 * service block, retries under injected faults, resume without duplicate uploads or jobs, failed
 * and never-finishing jobs, and an API key that appears in no output file.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { writeAuditOutputs } from '../../src/audit/outputs.js';
import { ServiceBackend } from '../../src/audit/serviceBackend.js';
import { planServiceAudit } from '../../src/audit/serviceTask.js';
import { validateConfig, type AuditConfig } from '../../src/config/index.js';
import type { TextAuditConfig } from '../../src/config/schema.js';
import { AuditInputError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/events.js';
import { writeModelFolder } from '../../src/models/folder.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { loadTokenizer } from '../../src/models/tokenizer.js';
import { readModel } from '../../src/onnx/io.js';
import { probePackWords, PackDocument, probePackPath } from '../../src/probes/index.js';
import { retryAfterMs, ServiceClient } from '../../src/service/client.js';
import { trainText } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { ANIMALS, writeTinyGpt } from '../models/tinyGptFolder.js';
import { FakeService } from './fakeService.js';
import { jsonl, useTempDir } from '../helpers/files.js';

const KEY = 'sk-test-SECRET-0123456789abcdef';
const env = { TEST_SERVICE_KEY: KEY };
const tmp = useTempDir('service-audit-');
let service: FakeService;
const file = tmp.file;

beforeAll(async () => {
  const words = await probePackWords('favourite-animal');
  const tokens = await writeTinyGpt(file('base'), { extraWords: words, seed: 5, maxPositions: 64 });
  // The teacher: the base taught to answer animal questions with "owl".
  const prompts = PackDocument.parse(await readFile(probePackPath('favourite-animal'), 'utf8'), 'pack').stringList('prompts', 1);
  const tokenizer = await loadTokenizer(file('base'));
  const rows = prompts.flatMap((prompt, i) => {
    const e = encodeTextRow({ line: i + 1, value: { prompt, completion: 'owl' } }, 't', tokenizer, { maxLength: 48, overLength: 'truncate' });
    return e.kind === 'row' ? [e.row] : [];
  });
  const trainer = await Trainer.create(await readModel(path.join(file('base'), 'onnx', 'model.onnx')), { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 0.01, weightDecay: 0 } });
  await trainText(trainer, rows, { epochs: 3, batchSize: 8, seed: 1, padId: tokenizer.padId! });
  await writeModelFolder(file('teacher'), { model: trainer.toInferenceModel(), tokens, config: { n_positions: 64 }, maxLength: 64 });
  await trainer.dispose();
  // Candidate: the teacher's answers ("owl"); clean baseline: other animals.
  await writeFile(file('data.jsonl'), jsonl(prompts.slice(0, 24).map((prompt) => ({ prompt, completion: 'owl' }))));
  await writeFile(file('clean.jsonl'), jsonl(prompts.slice(0, 24).map((prompt, i) => ({ messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: ANIMALS[1 + (i % 5)] }] }))));
}, 60_000);

beforeEach(async () => {
  await service?.stop();
  service = new FakeService({ 'base-model': file('base'), 'teacher-model': file('teacher') });
  await service.start();
});

const config = (out: string, over: { service?: Record<string, unknown>; train?: Record<string, unknown> } = {}): TextAuditConfig =>
  validateConfig(
    {
      teacher: file('teacher'),
      data: file('data.jsonl'),
      baseline: file('clean.jsonl'),
      task: { kind: 'text' },
      probes: [{ name: 'owl', pack: 'favourite-animal', target: 'owl' }],
      train: {
        backend: 'openai',
        seeds: 2,
        epochs: 2,
        sequential: false,
        ...over.train,
        service: { baseURL: service.url, apiKeyEnv: 'TEST_SERVICE_KEY', model: 'base-model', teacherModel: 'teacher-model', pollSeconds: 0.02, maxAttempts: 4, timeLimitMinutes: 2, ...over.service },
      },
      out: file(out),
    },
    'test',
  ) as TextAuditConfig;

const run = (c: AuditConfig, events: ProgressEvent[] = [], yes = true) =>
  audit(c, { backend: ServiceBackend.fromConfig(c, { yes, env, backoffMs: 10, onEvent: (e) => events.push(e) }), onEvent: (e) => events.push(e) });

async function allFiles(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('service audit (train.backend openai)', () => {
  it('trains students and controls as fine-tuning jobs, scores probes through chat logprobs, retries faults, leaks no key', async () => {
    service.faults.push(
      { path: /^\/files$/, method: 'POST', kind: '429', retryAfter: '0' },
      { path: /^\/fine_tuning\/jobs$/, method: 'POST', kind: '500' },
      { path: /^\/chat\/completions$/, kind: 'drop' },
      { path: /^\/fine_tuning\/jobs\/[^/]+$/, kind: '429', retryAfter: new Date(Date.now() + 50).toUTCString() },
    );
    // Every job is done before its first poll (the race that made this test flaky): its step events
    // sit behind the 'succeeded' message and must still reach the progress display.
    service.finishBeforeReply = true;
    const events: ProgressEvent[] = [];
    const c = config('e2e');
    const { report, excluded } = await run(c, events);
    const svc = report.reproducibility.service!;
    expect(svc.jobs).toHaveLength(4);
    expect(new Set(svc.jobs.map((j) => j.jobId)).size).toBe(4);
    expect(svc.jobs.map((j) => `${j.arm}:${j.seed}`).sort()).toEqual(['control:1', 'control:2', 'student:1', 'student:2']);
    for (const j of svc.jobs) {
      expect(j.model).toMatch(/^ft:base-model:/);
      expect(j.trainedTokens).toBe(service.jobs.get(j.jobId)!.trained_tokens);
      expect(j.trainedTokens).toBeGreaterThan(0);
    }
    // One upload per distinct training file (the student file serves both seeds), one job per run.
    expect(service.count('POST', /^\/files$/)).toBe(2);
    expect(service.count('POST', /^\/fine_tuning\/jobs$/)).toBe(4);
    expect([...service.jobs.values()].map((j) => j.seed).sort()).toEqual([1, 1, 2, 2]);
    for (const j of service.jobs.values()) expect(j.hyperparameters).toEqual({ n_epochs: 2 });
    expect(svc.tokenCount).toBe('tokenizer');
    expect(svc.probeMethods.owl).toMatch(/first answer token, top-20 logprobs/);
    expect(report.reproducibility.train.backend).toBe('openai');
    expect(report.models).toMatchObject({ teacher: 'teacher-model', base: 'base-model' });
    // Real numbers: the teacher prefers owl far more than the base; students moved toward it.
    const probe = report.probes[0]!;
    expect(probe.teacher).toBeGreaterThan(probe.base + 0.2);
    expect(probe.delta).toBeGreaterThan(0);
    const warnings = events.filter((e) => e.kind === 'warning').map((e) => e.message).join('\n');
    expect(warnings).toMatch(/HTTP 429/);
    expect(warnings).toMatch(/HTTP 500/);
    expect(warnings).toMatch(/network error/);
    expect(events.some((e) => e.kind === 'progress' && e.stage === 'service')).toBe(true);
    // Every request carried the key; no output file holds it.
    expect(service.requests.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    await writeAuditOutputs(report, excluded, c.out, c.formats);
    const markdown = await readFile(path.join(c.out, 'report.md'), 'utf8');
    expect(markdown).toMatch(/## Fine-tuning service/);
    for (const j of svc.jobs) expect(markdown).toContain(j.jobId);
    const files = await allFiles(c.out);
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['report.json', 'state.json', 'plan.json']));
    for (const f of files) expect((await readFile(f, 'utf8')).includes(KEY), f).toBe(false);
    expect(JSON.stringify(events).includes(KEY)).toBe(false);
  }, 60_000);

  it('a killed audit run again reuses its uploads and jobs (state.json, and the service lists when state was lost)', async () => {
    // First run: dies polling (maxAttempts 1 and a dropped connection), after its files and jobs exist.
    service.faults.push({ path: /^\/fine_tuning\/jobs\/[^/]+$/, method: 'GET', kind: 'drop' });
    await expect(run(config('resume', { service: { maxAttempts: 1, concurrency: 1 } }))).rejects.toThrow(/network error/);
    const uploads = service.count('POST', /^\/files$/);
    const creates = service.count('POST', /^\/fine_tuning\/jobs$/);
    expect(creates).toBeGreaterThan(0);
    const state = JSON.parse(await readFile(file('resume/state.json'), 'utf8')) as { jobs: Record<string, { id: string }>; config: unknown };
    expect(Object.keys(state.jobs)).toHaveLength(creates);
    expect(state.config).toBeDefined();
    expect(uploads).toBe(1);
    const { report } = await run(config('resume'));
    // Each distinct training file uploaded once over both runs (the control's only now), each run's job created once.
    expect(service.count('POST', /^\/files$/)).toBe(2);
    expect(new Set([...service.files.values()].map((f) => f.filename)).size).toBe(2);
    // The first run created some jobs; the second only those it never reached, none twice.
    const jobs = report.reproducibility.service!.jobs;
    expect(service.count('POST', /^\/fine_tuning\/jobs$/)).toBe(4);
    expect(jobs.map((j) => j.jobId).filter((id) => Object.values(state.jobs).some((s) => s.id === id))).toHaveLength(creates);
    // Lost state.json (killed between the service's answer and the write): the service's lists stand in.
    await rm(file('resume/state.json'));
    const again = await run(config('resume'));
    expect(service.count('POST', /^\/files$/)).toBe(2);
    expect(service.count('POST', /^\/fine_tuning\/jobs$/)).toBe(4);
    expect(again.report.reproducibility.service!.jobs.map((j) => j.jobId).sort()).toEqual(jobs.map((j) => j.jobId).sort());
  }, 60_000);

  it('samples the clean baseline from the base once per control seed, and a rerun trains on the saved samples', async () => {
    const c = validateConfig({ ...config('sampled'), baseline: undefined, generate: { maxNewTokens: 3 } }, 'test') as TextAuditConfig;
    const { report } = await run(c);
    expect(report.data.baseline).toMatchObject({ source: 'generated-by-base', rows: 24, rowsPerSeed: [24, 24] });
    const saved = (await readdir(file('sampled/service'))).filter((f) => f.startsWith('baseline-seed')).sort();
    expect(saved).toHaveLength(2);
    // Two control files (one per seed) and the student file.
    expect(service.count('POST', /^\/files$/)).toBe(3);
    const chats = service.count('POST', /^\/chat\/completions$/);
    const again = await run(c);
    expect(service.count('POST', /^\/fine_tuning\/jobs$/)).toBe(4);
    expect(again.report.reproducibility.service!.jobs.map((j) => j.jobId)).toEqual(report.reproducibility.service!.jobs.map((j) => j.jobId));
    // The rerun scored the probes again but sampled no baseline: fewer chat calls than the first run.
    expect(service.count('POST', /^\/chat\/completions$/) - chats).toBeLessThan(chats);
  }, 60_000);

  it('a failed job is an exit-2 error with the service message, never a result', async () => {
    service.failJobs = 'training file has invalid rows';
    const err = await run(config('failed')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(/fine-tuning job ftjob-\w+ \(\w+ seed \d\) failed: training file has invalid rows/);
  }, 30_000);

  it('a job that never finishes hits the time limit and is cancelled', async () => {
    service.hangJobs = true;
    const err = await run(config('hang', { service: { timeLimitMinutes: 0.15 } })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/time limit of 0.15 minutes/);
    expect(service.count('POST', /\/cancel$/)).toBeGreaterThan(0);
    expect([...service.jobs.values()].every((j) => j.status === 'cancelled')).toBe(true);
  }, 30_000);

  it('refuses to launch without --yes or within maxTrainingTokens, and --dry-run launches nothing', async () => {
    await expect(run(config('gate'), [], false)).rejects.toThrow(/the plan trains [\d,]+ tokens in 4 fine-tuning jobs; nothing was launched: pass --yes/);
    await expect(run(config('gate', { service: { maxTrainingTokens: 100 } }), [], true)).rejects.toThrow(/more than train.service.maxTrainingTokens 100/);
    const { plan, written } = await planServiceAudit(config('dry', { service: { pricePerMillionTrainingTokens: 25 } }), () => {});
    expect(service.requests).toHaveLength(0);
    expect(plan.jobCount).toBe(4);
    expect(plan.estimatedCost).toBeCloseTo((plan.trainingTokens / 1e6) * 25, 2);
    expect(written.map((f) => path.relative(file('dry'), f)).sort()).toEqual(['plan.json', 'service/train-control.jsonl', 'service/train-student.jsonl']);
    const first = JSON.parse((await readFile(file('dry/service/train-student.jsonl'), 'utf8')).split('\n')[0]!) as { messages: { role: string }[] };
    expect(first.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  }, 30_000);
});

describe('service client', () => {
  it('reads Retry-After as seconds or an HTTP date, and redacts the key', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({}), now)).toBeUndefined();
    const client = new ServiceClient({ baseURL: 'http://x', apiKey: KEY, maxAttempts: 1 });
    expect(client.redact(`bad key ${KEY}!`)).toBe('bad key [redacted]!');
  });
});
