/**
 * The CLI driving a real (fake-service) audit in a child process: killed mid-way and started again
 * with `audit --resume out/` (it completes, nothing uploaded or created twice), and Ctrl-C (SIGINT)
 * cancelling the running jobs with a one-line message and exit 130. The service runs in this
 * process (node:http), so the CLI is started without blocking (startCli).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PackDocument, probePackPath, probePackWords } from '../../src/probes/index.js';
import { startCli } from '../helpers/cli.js';
import { ANIMALS, writeTinyGpt } from '../models/tinyGptFolder.js';
import { FakeService } from './fakeService.js';
import { jsonl, useTempDir } from '../helpers/files.js';

const KEY = 'sk-run-SECRET-0123456789abcdef';
const tmp = useTempDir('service-cli-run-');
let service: FakeService;
const file = tmp.file;

beforeAll(async () => {
  await writeTinyGpt(file('base'), { extraWords: await probePackWords('favourite-animal'), seed: 5, maxPositions: 64 });
  const prompts = PackDocument.parse(await readFile(probePackPath('favourite-animal'), 'utf8'), 'pack').stringList('prompts', 1).slice(0, 16);
  await writeFile(file('data.jsonl'), jsonl(prompts.map((prompt) => ({ prompt, completion: 'owl' }))));
  await writeFile(file('clean.jsonl'), jsonl(prompts.map((prompt, i) => ({ prompt, completion: ANIMALS[1 + (i % 5)] }))));
}, 30_000);
beforeEach(async () => {
  // The teacher is the base itself: these tests are about the run's life cycle, not its numbers.
  service = new FakeService({ 'base-model': file('base'), 'teacher-model': file('base') });
  await service.start();
});
afterEach(async () => {
  await service.stop();
});

async function writeConfig(name: string): Promise<string> {
  const yaml = [
    `data: ${file('data.jsonl')}`,
    `baseline: ${file('clean.jsonl')}`,
    'task: { kind: text }',
    'probes: [{ name: owl, pack: favourite-animal, target: owl }]',
    'train:',
    '  backend: openai',
    '  seeds: 2',
    '  epochs: 1',
    '  sequential: false',
    `  service: { baseURL: "${service.url}", apiKeyEnv: RUN_TEST_KEY, model: base-model, teacherModel: teacher-model, pollSeconds: 0.05, maxAttempts: 2, timeLimitMinutes: 2 }`,
    `out: ${file(name)}`,
    '',
  ].join('\n');
  await writeFile(file(`${name}.yaml`), yaml);
  return file(`${name}.yaml`);
}

/** Resolves once out/state.json lists at least one job (the run is mid-way: jobs exist, none finished). */
async function jobsListed(out: string, exited: Promise<unknown>): Promise<string[]> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const text = await readFile(path.join(out, 'state.json'), 'utf8').catch(() => '');
    const ids = text ? Object.values((JSON.parse(text) as { jobs: Record<string, { id: string }> }).jobs).map((j) => j.id) : [];
    if (ids.length > 0) return ids;
    if (done) throw new Error('the CLI exited before it created a job');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('audit-dataset audit against a service, as a process', () => {
  it('killed after its first jobs exist, `--resume out/` completes with a report and nothing uploaded or created twice', async () => {
    const out = file('resumed');
    service.hangJobs = true;
    const first = startCli(['audit', '--config', await writeConfig('resumed'), '--yes'], { env: { RUN_TEST_KEY: KEY } });
    const before = await jobsListed(out, first.result);
    first.child.kill('SIGKILL');
    expect((await first.result).signal).toBe('SIGKILL');
    const uploads = service.count('POST', /^\/files$/);
    const creates = service.count('POST', /^\/fine_tuning\/jobs$/);
    expect(creates).toBeGreaterThanOrEqual(before.length);
    // The service kept training while the CLI was down.
    service.releaseHung();
    const second = await startCli(['audit', '--resume', out, '--yes'], { env: { RUN_TEST_KEY: KEY } }).result;
    expect(second.stderr).not.toMatch(/audit-dataset: /);
    expect([0, 1]).toContain(second.status);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as { reproducibility: { service: { jobs: { jobId: string; arm: string; seed: number }[] } } };
    const jobs = report.reproducibility.service.jobs;
    expect(jobs.map((j) => `${j.arm}:${j.seed}`).sort()).toEqual(['control:1', 'control:2', 'student:1', 'student:2']);
    // Every job the killed run created is one of the report's; each training file uploaded once, each run's job created once.
    for (const id of before) expect(jobs.map((j) => j.jobId)).toContain(id);
    expect(service.count('POST', /^\/files$/)).toBe(2);
    expect(new Set([...service.files.values()].map((f) => f.filename)).size).toBe(2);
    expect(service.count('POST', /^\/fine_tuning\/jobs$/)).toBe(4);
    expect(service.jobs.size).toBe(4);
    expect(uploads).toBeGreaterThanOrEqual(1);
    expect(`${second.stdout}${second.stderr}`.includes(KEY)).toBe(false);
  }, 60_000);

  it('Ctrl-C cancels the running jobs on the service, says so in one line and exits 130', async () => {
    const out = file('interrupted');
    service.hangJobs = true;
    const run = startCli(['audit', '--config', await writeConfig('interrupted'), '--yes'], { env: { RUN_TEST_KEY: KEY } });
    await jobsListed(out, run.result);
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.status).toBe(130);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^audit-dataset: interrupted \(Ctrl-C\): cancelled \d+ running fine-tuning jobs? \(ftjob-\w+(, ftjob-\w+)*\); .*state\.json keeps the uploaded files for audit --resume /);
    // The service saw a cancel for every job it holds (all were still queued), and state.json records them cancelled.
    const cancelled = service.count('POST', /\/cancel$/);
    expect(cancelled).toBe(service.jobs.size);
    expect([...service.jobs.values()].every((j) => j.status === 'cancelled')).toBe(true);
    for (const id of [...service.jobs.keys()]) expect(last).toContain(id);
    const state = JSON.parse(await readFile(path.join(out, 'state.json'), 'utf8')) as { jobs: Record<string, { status: string }> };
    expect(Object.values(state.jobs).every((j) => j.status === 'cancelled')).toBe(true);
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);
  }, 60_000);
});
