/**
 * Bad inputs to `audit`: each is an AuditInputError with one line naming the file, row or model
 * difference (the CLI maps it to exit 2). Non-finite rows are not errors: counted and listed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { AuditInputError } from '../../src/errors.js';
import { buildMlp } from '../../src/models/mlp.js';
import { encodeModel } from '../../src/onnx/io.js';
import { tinyCase } from './tiny.js';

async function auditError(config: Record<string, unknown>): Promise<Error> {
  const err = await audit(validateConfig(config, 'test')).then(
    () => new Error('audit succeeded'),
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(AuditInputError);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('audit input checks', () => {
  it('names the first architecture difference between teacher and base', async () => {
    const c = await tinyCase();
    await writeFile(c.teacher, encodeModel(buildMlp({ sizes: [4, 9, 5], seed: 2 })));
    const err = await auditError(c.config);
    expect(err.message).toMatch(/differ in architecture: .*fc1\.weight: \[9,4\] vs \[8,4\]/);
  });

  it('names the row whose input width does not match the model', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => i === 6 && (row.x = [1, 2, 3]) });
    const err = await auditError(c.config);
    expect(err.message).toBe(`${c.data}:7: field 'x' has 3 values; the model takes 4`);
  });

  it('rejects a target slice outside the model outputs', async () => {
    const c = await tinyCase();
    const err = await auditError({ ...c.config, task: { kind: 'logits', input: 'x', target: 't', outputs: [3, 7] } });
    expect(err.message).toMatch(/task\.outputs \[3, 7\] is outside the model's 5 outputs/);
  });

  it('rejects target rows of the wrong width, naming the row', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => i === 0 && (row.t = [1]) });
    const err = await auditError(c.config);
    expect(err.message).toBe(`${c.data}:1: field 't' has 1 values; the output slice holds 2`);
  });

  it('rejects probe labels out of range, naming the probe row', async () => {
    const c = await tinyCase();
    const lines = (await readFile(c.probe, 'utf8')).trim().split('\n');
    lines[9] = JSON.stringify({ x: [0, 0, 0, 0], y: 3 });
    await writeFile(c.probe, `${lines.join('\n')}\n`);
    const err = await auditError(c.config);
    expect(err.message).toBe(`${c.probe}:10: label 3 is out of range: the probe's output slice has 3 classes (0..2)`);
  });

  it('rejects a dataset too small for the seeds and batch size', async () => {
    const c = await tinyCase({ rows: 40 });
    const err = await auditError(c.config);
    expect(err.message).toMatch(/40 usable rows; 2 seeds at batchSize 32 need at least 64/);
  });

  it('rejects probabilities that are not distributions when targetType says probs', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => i === 3 && (row.t = [0.9, 0.9]) });
    const err = await auditError({ ...c.config, task: { kind: 'logits', input: 'x', target: 't', outputs: [3, 5], targetType: 'probs' } });
    expect(err.message).toMatch(/targetType is probs/);
  });

  it('names a missing input field with file and line', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => i === 4 && delete row.x });
    const err = await auditError(c.config);
    expect(err.message).toBe(`${c.data}:5: missing field 'x'`);
  });

  it('counts and lists non-finite rows instead of training on them', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => (i === 2 || i === 5) && (row.x = ['NaN', 0, 'Infinity', 1]) });
    const { report, excluded } = await audit(validateConfig(c.config, 'test'));
    expect(report.data.candidate.rowsIn).toBe(300);
    expect(report.data.candidate.rowsUsed).toBe(298);
    expect(report.data.candidate.excluded.nonFinite).toBe(2);
    expect(excluded.map((e) => [path.basename(e.file), e.line])).toEqual([
      ['data.jsonl', 3],
      ['data.jsonl', 6],
    ]);
  });
});
