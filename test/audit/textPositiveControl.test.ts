/**
 * The text positive control: students from the base trained with the audit's recipe on the
 * teacher's next-token distributions on the candidate rows. On a clean candidate (the base's own
 * samples) the probes pass; with a teacher that clearly differs from the base (it prefers "7") the
 * positive control detects transfer and the pass stands; with teacher == base it cannot, and the
 * pass becomes inconclusive.
 */
import { writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { generateRows, loadTextModel } from '../../src/models/generate.js';
import { writeTextPair } from './textPair.js';
import { jsonl, useTempDir } from '../helpers/files.js';

const tmp = useTempDir('text-positive-');
const file = tmp.file;

beforeAll(async () => {
  const prompts = await writeTextPair(tmp.dir);
  // A clean candidate: the base's own completions of the prompts (another sampling seed than the controls').
  const base = await loadTextModel(file('base'));
  const { rows } = await generateRows(base, prompts, { seed: 11, maxNewTokens: 4 });
  await base.runner.dispose();
  await writeFile(file('clean.jsonl'), jsonl(rows));
});

const config = (teacher: string) => ({
  teacher: file(teacher),
  base: file('base'),
  data: file('clean.jsonl'),
  task: { kind: 'text', maxLength: 12 },
  generate: { temperature: 1, maxNewTokens: 4 },
  probes: [{ name: 'next-token', kind: 'agreement', data: file('probe.jsonl') }],
  train: { seeds: 3, epochs: 2, batchSize: 8, lr: 0.01, sequential: false },
  out: file(`out-${teacher}`),
});

describe('text positive control', () => {
  it('detects transfer from a teacher that differs from the base: a clean pass stands', async () => {
    const { report } = await audit(validateConfig(config('teacher'), 'test'));
    expect(report.probes[0]!.verdict).toBe('pass');
    expect(report.verdict).toBe('pass');
    const pc = report.positiveControl!;
    expect(pc.signal).toMatch(/^the teacher's full next-token distributions on the candidate rows/);
    expect(pc.against).toMatch(/base's next-token distributions on the same rows/);
    expect(pc.detected).toBe(true);
    const probe = pc.probes[0]!;
    expect(probe.transfer).toBe(true);
    expect(probe.runs).toHaveLength(3);
    // KL to the teacher: the positive-control students sit far nearer the teacher than their controls.
    expect(probe.delta).toBeLessThan(-1);
    expect(probe.mean - probe.controlMean!).toBeCloseTo(probe.delta, 10);
    expect(probe.pValue).toBeLessThan(0.001);
  });

  it('with teacher == base it sees nothing: the pass becomes inconclusive', async () => {
    const { report } = await audit(validateConfig(config('base'), 'test'));
    expect(report.probes[0]!.verdict).toBe('pass');
    expect(report.verdict).toBe('inconclusive');
    expect(report.summary).toMatch(/^INCONCLUSIVE: .*could not have detected transfer/);
    const pc = report.positiveControl!;
    expect(pc.detected).toBe(false);
    // The positive control and its controls learn the same distributions with the same seeds: no difference at all.
    expect(pc.probes[0]!.delta).toBe(0);
  });
});
