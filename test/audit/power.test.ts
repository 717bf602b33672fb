/**
 * The gate's power machinery on the tiny case (a 4-8-5 MLP teacher and base of different inits,
 * candidate targets unrelated to the teacher): the KL probe, the positive control and its
 * inconclusive verdict, and seeds in stages.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { exitCodeOf } from '../../src/audit/positiveControl.js';
import { validateConfig } from '../../src/config/index.js';
import type { AuditReport } from '../../src/report/schema.js';
import { tinyCase, type TinyCase } from './tiny.js';

let c: TinyCase;
beforeAll(async () => {
  c = await tinyCase();
});
afterAll(async () => {
  await rm(c.dir, { recursive: true, force: true });
});

const run = async (train: Record<string, unknown>, policy: Record<string, unknown> = {}): Promise<AuditReport> =>
  (await audit(validateConfig({ ...c.config, train: { seeds: 4, epochs: 3, batchSize: 32, sequential: false, ...train }, policy }, 'test'))).report;

describe('positive control and KL probe', () => {
  it('tests each agreement probe KL as a probe of its own; the positive control shows transfer through it', async () => {
    const report = await run({});
    expect(report.probes.map((p) => p.name)).toEqual(['classes', 'agreement', 'agreement (KL)']);
    const kl = report.probes[2]!;
    expect(kl.towardTeacher).toBe(-1);
    expect(kl.teacher).toBe(0);
    // The teacher's full outputs move the students' distributions toward it without flipping an
    // argmax here: only the KL sees it, and that is enough for the positive control.
    const pc = report.positiveControl!;
    expect(pc.probes.find((p) => p.name === 'agreement')!.transfer).toBe(false);
    expect(pc.probes.find((p) => p.name === 'agreement (KL)')!.transfer).toBe(true);
    expect(pc.detected).toBe(true);
    expect(report.verdict).toBe('pass');
  });

  it('is INCONCLUSIVE when the positive control shows no transfer (argmax probes only), exit code by policy.onInconclusive', async () => {
    const report = await run({}, { klProbes: false });
    expect(report.probes.map((p) => p.name)).toEqual(['classes', 'agreement']);
    expect(report.probes.every((p) => p.verdict === 'pass')).toBe(true);
    expect(report.positiveControl!.detected).toBe(false);
    expect(report.verdict).toBe('inconclusive');
    expect(report.summary).toMatch(/^INCONCLUSIVE: .*could not have detected transfer/);
    expect(exitCodeOf(report.verdict, 'fail')).toBe(1);
    expect(exitCodeOf(report.verdict, 'pass')).toBe(0);
    expect(exitCodeOf('pass', 'fail')).toBe(0);
  });
});

describe('seeds in stages', () => {
  it('stops early once the pass is clear, with the fixed design decision and fewer seeds', async () => {
    const fixed = await run({ seeds: 6 });
    const staged = await run({ seeds: 6, sequential: true, firstSeeds: 2 });
    expect(fixed.sequential).toBeUndefined();
    const s = staged.sequential!;
    expect(s.stoppedEarly).toBe(true);
    expect(s.seedsUsed).toBeLessThan(6);
    expect(s.looks.at(-1)!.decision).toBe('pass');
    expect(staged.verdict).toBe(fixed.verdict);
    expect(staged.reproducibility.seeds).toHaveLength(s.seedsUsed);
    expect(staged.probes[0]!.student.runs).toHaveLength(s.seedsUsed);
    // The staged runs are the fixed design's first seeds, bit for bit.
    expect(staged.probes[2]!.student.runs).toEqual(fixed.probes[2]!.student.runs.slice(0, s.seedsUsed));
    expect(s.looks[0]!.nominalAlpha).toBeLessThan(s.looks[1]?.nominalAlpha ?? 1);
  });
});
