/**
 * Issue 12, class 1 "non-finite values cannot silently decide a verdict": values finite as doubles
 * but not as float32 are excluded like NaN; training that goes non-finite stops naming run, step and
 * parameter; NaN weights in teacher or base and a non-finite learning rate are bad input; a probe
 * whose runs all give one value is reported degenerate and makes the audit inconclusive instead of
 * a pass (exit 1 by default, policy.onInconclusive).
 */
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { auditVerdict, exitCodeOf } from '../../src/audit/positiveControl.js';
import { readTensorSet } from '../../src/audit/tensorData.js';
import { validateConfig } from '../../src/config/index.js';
import { AuditInputError } from '../../src/errors.js';
import { buildMlp } from '../../src/models/mlp.js';
import { encodeModel } from '../../src/onnx/io.js';
import type { TensorProto } from '../../src/onnx/proto.js';
import { evaluateProbes, overallVerdict, type ProbeRuns } from '../../src/stats/index.js';
import { tinyCase, type TinyCase } from '../audit/tiny.js';
import { scratch } from './helpers.js';

const tmp = scratch('nonfinite');
const cases: TinyCase[] = [];
afterEach(() => {
  for (const c of cases.splice(0)) rmSync(c.dir, { recursive: true, force: true });
});
const tiny = async (opts: Parameters<typeof tinyCase>[0] = {}) => {
  const c = await tinyCase(opts);
  cases.push(c);
  return c;
};

async function auditError(config: Record<string, unknown>): Promise<AuditInputError> {
  const err = await audit(validateConfig(config, 'test')).then(
    () => new Error('audit succeeded'),
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(AuditInputError);
  expect(err.message).not.toContain('\n');
  return err as AuditInputError;
}

describe('float32 overflow counts as non-finite', () => {
  it('1e39 (finite as a double, Infinity as float32) is excluded and counted like NaN', async () => {
    const rows = ['{"x":[1,2,3,4],"t":[0.5,0.5]}', '{"x":[1e39,2,3,4],"t":[0.5,0.5]}', '{"x":[1,2,3,4],"t":[-4e38,0.5]}', '{"x":[3e38,2,3,4],"t":[0.5,0.5]}'];
    const file = tmp.file('d.jsonl', `${rows.join('\n')}\n`);
    const { set, excluded } = await readTensorSet(file, { input: 'x', inputWidth: 4, target: 't', targetWidth: 2 });
    expect(set.rows).toBe(2);
    expect(Array.from(set.inputs).every(Number.isFinite)).toBe(true);
    expect(excluded.map((e) => [e.line, e.reasons[0]])).toEqual([
      [2, 'non-finite values (NaN, Infinity, or beyond the float32 range)'],
      [3, 'non-finite values (NaN, Infinity, or beyond the float32 range)'],
    ]);
  });
  it('property: a value is kept exactly when its float32 conversion is finite', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double(), async (v) => {
        const file = tmp.file('p.jsonl', `${JSON.stringify({ x: [v, 0, 0, 0] }).replace('null', 'NaN')}\n`);
        const { set, excluded } = await readTensorSet(file, { input: 'x', inputWidth: 4 }).catch(() => ({ set: { rows: -1 }, excluded: [] }));
        if (!Number.isFinite(v)) return; // JSON has no NaN/Infinity: such a line is a bad row, covered elsewhere
        expect(set.rows === 1).toBe(Number.isFinite(Math.fround(v)));
        expect(excluded.length === 1).toBe(!Number.isFinite(Math.fround(v)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('training that goes non-finite stops, naming run, step and parameter', () => {
  it('one row near the float32 limit makes the loss overflow: exit-2 error, no verdict', async () => {
    const c = await tiny({ rows: 200, mutateRow: (row, i) => void (i === 7 && (row.x = [3e38, 3e38, -3e38, 3e38])) });
    const err = await auditError(c.config);
    expect(err.message).toMatch(/^student seed 1: training diverged at step \d+ \(epoch 1\): (the loss is (NaN|Infinity)|parameter .* is (NaN|-?Infinity))/);
  });
  it('NaN or Infinity in the base or the teacher weights is bad input naming file and parameter', async () => {
    const c = await tiny({ rows: 100 });
    const base = buildMlp({ sizes: [4, 8, 5], seed: 1 });
    const t = base.graph!.initializer!.find((i) => i.name === 'fc1.bias') as TensorProto;
    const values = new Float32Array(8);
    values[3] = Number.NaN;
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
    await writeFile(c.base, encodeModel(base));
    expect((await auditError(c.config)).message).toMatch(/base\.onnx: parameter fc1\.bias\[3\] is NaN; a model's weights must be finite/);
    values[3] = Number.POSITIVE_INFINITY;
    await writeFile(c.teacher, encodeModel(base));
    await writeFile(c.base, encodeModel(buildMlp({ sizes: [4, 8, 5], seed: 1 })));
    expect((await auditError(c.config)).message).toMatch(/teacher\.onnx: parameter fc1\.bias\[3\] is Infinity/);
  });
  it.each([Number.NaN, Number.POSITIVE_INFINITY, 1e9])('learning rate %s is refused, naming the key', (lr) => {
    expect(() => validateConfig({ teacher: 't', base: 'b', data: 'd', task: { kind: 'logits', input: 'x', target: 't', outputs: [0, 2] }, probes: [{ name: 'p', kind: 'agreement', data: 'p', input: 'x', outputs: [0, 2] }], train: { lr } }, 'audit.yaml')).toThrow(
      /audit\.yaml: train\.lr must be/,
    );
  });
});

describe('a degenerate probe never passes', () => {
  const runs = (student: number[], control: number[]): ProbeRuns => ({ name: 'p', kind: 'accuracy', metric: 'accuracy', base: 0.5, teacher: 0.9, student, control });
  const policy = { alpha: 0.01, minEffect: 0.02, test: 'welch', correction: 'holm' } as const;
  it('every student and control run giving the same value: marked degenerate, the audit inconclusive, not a pass', () => {
    const [probe] = evaluateProbes([runs([0.25, 0.25, 0.25], [0.25, 0.25, 0.25])], policy);
    expect(probe).toMatchObject({ degenerate: true });
    expect(probe!.reason).toMatch(/^degenerate probe: every student and control run gave 0\.25/);
    const audit = auditVerdict(overallVerdict([probe!]), [probe!], undefined);
    expect(audit.verdict).toBe('inconclusive');
    expect(audit.inconclusiveReason).toMatch(/^degenerate probe p: every student and control run gave the same value/);
    expect(exitCodeOf(audit.verdict, 'fail')).toBe(1);
  });
  it('property: degenerate exactly when all runs are equal; a degenerate probe is never a pass', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 2, max: 8 }), fc.option(fc.double({ noNaN: true, min: -1e6, max: 1e6 })), (v, ns, nc, other) => {
        const student = Array.from({ length: ns }, () => v);
        const control = Array.from({ length: nc }, () => v);
        if (other !== null && !Object.is(other, v)) control[0] = other;
        const [probe] = evaluateProbes([runs(student, control)], policy);
        const constant = other === null || Object.is(other, v);
        expect(probe!.degenerate === true).toBe(constant);
        if (constant) expect(auditVerdict(overallVerdict([probe!]), [probe!], undefined).verdict).toBe('inconclusive');
      }),
      { numRuns: 200 },
    );
  });
});
