/**
 * The CLI of a service audit without a service: --dry-run writes the plan and the training files
 * and launches nothing; without --yes (and no maxTrainingTokens) the audit refuses with exit 2
 * before any request; a missing key or resume folder is a one-line exit 2. The base URL points at
 * a port nothing listens on, so any request would fail loudly.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
const KEY = 'sk-cli-SECRET-abcdef0123456789';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'service-cli-'));
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `Continue: ${i}, ${i + 1}, ${i + 2}.`, completion: `${i + 3}, ${i + 4}, ${i + 5}` }));
  await writeFile(path.join(dir, 'data.jsonl'), `${rows.join('\n')}\n`);
  await writeFile(
    path.join(dir, 'audit.yaml'),
    [
      'data: data.jsonl',
      'task: { kind: text }',
      'probes: [{ name: owl, pack: favourite-animal, target: owl }]',
      'train:',
      '  backend: openai',
      '  seeds: 3',
      '  service: { baseURL: "http://127.0.0.1:9/v1", apiKeyEnv: CLI_TEST_KEY, model: base-model, teacherModel: teacher-model, nEpochs: 2, pricePerMillionTrainingTokens: 10 }',
      'out: out',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit-dataset audit with train.backend openai', () => {
  it('--dry-run writes plan.json and the training file, launches nothing, needs no key', () => {
    const r = runCli(['audit', '--config', path.join(dir, 'audit.yaml'), '--dry-run', '--out', path.join(dir, 'dry')]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/plan: 6 fine-tuning jobs on base-model/);
    expect(r.stdout).toMatch(/training tokens: [\d,]+ \(estimated\); cost at \$10\/M tokens/);
    expect(existsSync(path.join(dir, 'dry', 'plan.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'dry', 'service', 'train-student.jsonl'))).toBe(true);
    expect(existsSync(path.join(dir, 'dry', 'state.json'))).toBe(false);
  });

  it('refuses without --yes or maxTrainingTokens (exit 2, nothing launched), and never prints the key', async () => {
    const r = runCli(['audit', '--config', path.join(dir, 'audit.yaml'), '--out', path.join(dir, 'gate')], { env: { CLI_TEST_KEY: KEY } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing was launched: pass --yes to launch, or set train.service.maxTrainingTokens/);
    expect(existsSync(path.join(dir, 'gate', 'state.json'))).toBe(false);
    // With --yes it launches, and the closed port is a network error after bounded retries (exit 2), the key nowhere.
    const y = runCli(['audit', '--config', path.join(dir, 'audit.yaml'), '--out', path.join(dir, 'gate'), '--yes', '--train.service.maxAttempts', '1'], { env: { CLI_TEST_KEY: KEY } });
    expect(y.status).toBe(2);
    expect(y.stderr).toMatch(/network error/);
    for (const out of [r, y]) expect(`${out.stdout}${out.stderr}`.includes(KEY)).toBe(false);
    for (const f of await readdir(path.join(dir, 'gate'), { recursive: true })) {
      const file = path.join(dir, 'gate', String(f));
      if (!(await readFile(file).catch(() => undefined))) continue;
      expect((await readFile(file, 'utf8')).includes(KEY), file).toBe(false);
    }
  });

  it('a missing key or a folder with nothing to resume is one line, exit 2', () => {
    const k = runCli(['audit', '--config', path.join(dir, 'audit.yaml'), '--out', path.join(dir, 'nokey'), '--yes'], { env: { CLI_TEST_KEY: '' } });
    expect(k.status).toBe(2);
    expect(k.stderr).toMatch(/environment variable CLI_TEST_KEY is not set/);
    const r = runCli(['audit', '--resume', path.join(dir, 'nothing')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no service audit to resume here/);
  });
});
