/**
 * The gate's power machinery on the tiny case (a 4-8-5 MLP teacher and base of different inits,
 * candidate targets unrelated to the teacher): the KL probe, the positive control through the
 * data's own output slice and its inconclusive verdict, and seeds in stages.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { exitCodeOf, logitsPositiveControl, positiveControlSet } from '../../src/audit/positiveControl.js';
import { LocalOnnxBackend } from '../../src/audit/localBackend.js';
import { loadModelPair } from '../../src/audit/models.js';
import { validateConfig } from '../../src/config/index.js';
import type { LogitsAuditConfig } from '../../src/config/schema.js';
import { decodeModel } from '../../src/onnx/io.js';
import { silent } from '../../src/events.js';
import type { AuditReport } from '../../src/report/schema.js';
import { sliceColumns, softmaxRows } from '../../src/rows.js';
import { tinyCase, type TinyCase } from './tiny.js';

// `aux`: targets over outputs 3..4 (an auxiliary slice); `all`: clean targets over all 5 outputs
// (the base's own distribution on each input, so the data itself carries nothing of the teacher).
let aux: TinyCase;
let all: TinyCase;
beforeAll(async () => {
  aux = await tinyCase();
  all = await tinyCase();
  const rows = (await readFile(all.data, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { x: number[]; t: number[] });
  const backend = new LocalOnnxBackend();
  try {
    const base = decodeModel(await readFile(all.base));
    const { outputs } = await backend.predict(base, undefined, Float32Array.from(rows.flatMap((r) => r.x)), rows.length);
    const probs = softmaxRows(outputs, 5);
    const lines = rows.map((r, i) => JSON.stringify({ x: r.x, t: Array.from(probs.subarray(i * 5, i * 5 + 5)) }));
    await writeFile(all.data, `${lines.join('\n')}\n`);
  } finally {
    await backend.close();
  }
  all.config = { ...all.config, task: { kind: 'logits', input: 'x', target: 't', outputs: [0, 5] } };
});
afterAll(async () => {
  await rm(aux.dir, { recursive: true, force: true });
  await rm(all.dir, { recursive: true, force: true });
});

const run = async (c: TinyCase, train: Record<string, unknown>, policy: Record<string, unknown> = {}): Promise<AuditReport> =>
  (await audit(validateConfig({ ...c.config, train: { seeds: 4, epochs: 3, batchSize: 32, sequential: false, ...train }, policy }, 'test'))).report;

describe("the positive control's signal", () => {
  it("is the teacher's own outputs on the task's slice, in the candidate's target type, on the candidate inputs", async () => {
    const backend = new LocalOnnxBackend();
    try {
      const config = validateConfig(aux.config, 'test') as LogitsAuditConfig;
      const models = await loadModelPair(config, backend, silent);
      const inputs = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.sin(i));
      const candidate = { file: 'c', rows: 6, inputWidth: 4, inputs, targetWidth: 2, targets: new Float32Array(12), labels: new Int32Array(), lines: new Int32Array(6) };
      const teacher = (await backend.predict(models.teacher, undefined, inputs, 6)).outputs;
      const probs = await positiveControlSet(backend, models, candidate, { slice: [3, 5], loss: 'kl', targetType: 'probs' });
      expect(probs.targetWidth).toBe(2);
      expect(Array.from(probs.targets)).toEqual(Array.from(softmaxRows(sliceColumns(teacher, 5, [3, 5]), 2)));
      const logits = await positiveControlSet(backend, models, candidate, { slice: [3, 5], loss: 'mse', targetType: 'logits' });
      expect(Array.from(logits.targets)).toEqual(Array.from(sliceColumns(teacher, 5, [3, 5])));
      expect(logits.inputs).toBe(inputs);
    } finally {
      await backend.close();
    }
  });

  it('says which outputs it covers: the full distribution only when the slice is every output', () => {
    expect(logitsPositiveControl([0, 13], 13, 'probs')).toEqual({ signal: expect.stringMatching(/^the teacher's full output distribution \(softmax\) over all 13 outputs/), outputs: [0, 13] });
    expect(logitsPositiveControl([10, 13], 13, 'logits').signal).toMatch(/own logits over outputs 10\.\.12 \(the slice the candidate's targets cover, of 13 outputs\)/);
  });
});

describe('positive control and KL probe', () => {
  it("tests each agreement probe's KL as a probe of its own; targets over every output: the positive control learns the full distribution and shows transfer through the KL", async () => {
    const report = await run(all, {});
    expect(report.probes.map((p) => p.name)).toEqual(['classes', 'agreement', 'agreement (KL)']);
    const kl = report.probes[2]!;
    expect(kl.towardTeacher).toBe(-1);
    expect(kl.teacher).toBe(0);
    // The teacher's full outputs move the students' distributions toward it without flipping an
    // argmax here: only the KL sees it, and that is enough for the positive control.
    const pc = report.positiveControl!;
    expect(pc.outputs).toEqual([0, 5]);
    expect(pc.signal).toMatch(/full output distribution/);
    expect(pc.probes.find((p) => p.name === 'agreement')!.transfer).toBe(false);
    expect(pc.probes.find((p) => p.name === 'agreement (KL)')!.transfer).toBe(true);
    expect(pc.detected).toBe(true);
    // The tiny model's class accuracy (and argmax agreement) is the same on every run: those probes cannot see transfer, so
    // the audit is inconclusive rather than a pass (issue 12), though the positive control worked; the summary says which.
    expect(report.probes[0]!.degenerate).toBe(true);
    expect(report.verdict).toBe('inconclusive');
    expect(report.summary).toMatch(/^INCONCLUSIVE: degenerate probes? classes(, agreement)?: every student and control run gave the same value/);
  });

  it('targets over an auxiliary slice: the positive control learns that slice only, shows no transfer through it, and the audit is INCONCLUSIVE naming the slice; exit code by policy.onInconclusive', async () => {
    const report = await run(aux, {});
    const pc = report.positiveControl!;
    // The same teacher, the same probes: through outputs 3..4 alone its signal moves nothing (the
    // full distribution did, above), so this data's channel cannot show the audit transfer.
    expect(pc.outputs).toEqual([3, 5]);
    expect(pc.signal).toMatch(/outputs 3\.\.4 \(the slice the candidate's targets cover/);
    expect(pc.probes.map((p) => p.name)).toEqual(['classes', 'agreement', 'agreement (KL)']);
    expect(pc.detected).toBe(false);
    expect(report.verdict).toBe('inconclusive');
    expect(report.summary).toMatch(/^INCONCLUSIVE: positive control: .*could not have detected transfer through outputs 3\.\.4/);
    expect(exitCodeOf(report.verdict, 'fail')).toBe(1);
    expect(exitCodeOf(report.verdict, 'pass')).toBe(0);
    expect(exitCodeOf('pass', 'fail')).toBe(0);
  });
});

describe('seeds in stages', () => {
  it('stops early once the pass is clear, with the fixed design decision and fewer seeds', async () => {
    const fixed = await run(all, { seeds: 6 });
    const staged = await run(all, { seeds: 6, sequential: true, firstSeeds: 2 });
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
  it('a positive control that showed transfer at a look is decided there: later looks train no more of its runs', async () => {
    // An effect threshold no bound can get under keeps the audit going to its last look.
    const staged = await run(all, { seeds: 6, sequential: true, firstSeeds: 3 }, { minEffect: 1e-12 });
    const s = staged.sequential!;
    expect(s.looks.map((l) => l.decision)).toEqual(['continue', 'pass']);
    const pc = staged.positiveControl!;
    expect(pc.detected).toBe(true);
    expect(pc.seedsUsed).toBe(3);
    for (const p of pc.probes) expect(p.runs).toHaveLength(3);
    expect(staged.probes[0]!.student.runs).toHaveLength(6);
    expect(pc.reason).toMatch(/decided at the look of 3 seeds/);
    // Two arms for six seeds and the positive control's three: 15 runs, not 18.
    const fixed = await run(all, { seeds: 6, sequential: false }, { minEffect: 1e-12 });
    expect(staged.run.steps / fixed.run.steps).toBeCloseTo(15 / 18, 6);
    expect(fixed.positiveControl!.seedsUsed).toBeUndefined();
  });
});
