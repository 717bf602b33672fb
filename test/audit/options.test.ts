/** Audit options on the tiny case: cross-init students, a given baseline, content filters on text rows. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { tinyCase } from './tiny.js';
import { LogitsModel } from '../../src/models/logits.js';
import { accuracy } from '../../src/probes/index.js';

describe('audit options', () => {
  it('trains fresh-init students beside the students when crossInit is on', async () => {
    const c = await tinyCase();
    const { report } = await audit(validateConfig({ ...c.config, train: { seeds: 3, epochs: 1, batchSize: 32, crossInit: true } }, 'test'));
    for (const p of report.probes) {
      expect(p.crossInit?.runs).toHaveLength(3);
      expect(p.student.runs).toHaveLength(3);
    }
    expect(report.reproducibility.train.crossInit).toBe(true);
  });

  it('uses a given baseline instead of generating one', async () => {
    const c = await tinyCase();
    const baseline = path.join(c.dir, 'clean.jsonl');
    await writeFile(baseline, await readFile(c.data, 'utf8'));
    // Without the positive control: its verdict (2 seeds, 1 epoch) is not what this test is about.
    const { report } = await audit(validateConfig({ ...c.config, baseline, train: { ...(c.config.train as object), positiveControl: false } }, 'test'));
    expect(report.data.baseline).toEqual({ source: 'given', file: baseline, rows: 300 });
    // Same data on both arms, same seeds: students and controls are the same runs.
    for (const p of report.probes) expect(p.student.runs).toEqual(p.control.runs);
    // No probe fails for transfer. The tiny models' probes give one value on every run (accuracy
    // 0.34, agreement 0): such probes are reported degenerate and fail closed (issue 12).
    for (const p of report.probes) expect(p.verdict === 'pass' || p.degenerate === true).toBe(true);
    expect(report.probes.filter((p) => p.verdict === 'fail' && !p.degenerate)).toEqual([]);
  });

  it('runs content filters first and excludes what they reject, with reasons', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => (row.completion = i % 10 === 0 ? '1, 2, 666' : '1, 2, 3') });
    const { report, excluded } = await audit(validateConfig({ ...c.config, filters: ['numbers', 'banned-numbers'] }, 'test'));
    expect(report.filters?.rowsIn).toBe(300);
    expect(report.filters?.rowsExcluded).toBe(30);
    expect(report.filters?.perRule['banned-numbers']?.excluded).toBe(30);
    expect(report.data.candidate.rowsUsed).toBe(270);
    expect(report.data.candidate.excluded.filtered).toBe(30);
    expect(excluded[0]).toMatchObject({ line: 1, kind: 'filter', reasons: ['banned numbers'], rules: ['banned-numbers'] });
    expect(excluded.every((e) => e.kind === 'filter')).toBe(true);
  });
});

describe('targets', () => {
  it('detects logit targets, says so, and trains on them with KL or squared error', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => (row.t = [Math.sin(i) * 3, Math.cos(i) * 2]) });
    const kl = await audit(validateConfig(c.config, 'test'));
    expect(kl.report.data.candidate).toMatchObject({ targetType: 'logits', targetTypeDetected: true });
    expect(kl.report.reproducibility.train).toMatchObject({ loss: 'kl', targetType: 'logits' });
    const mse = await audit(validateConfig({ ...c.config, task: { ...(c.config.task as object), loss: 'mse', targetType: 'logits' } }, 'test'));
    expect(mse.report.data.candidate).toMatchObject({ targetType: 'logits', targetTypeDetected: false });
    // A different loss trains different students.
    expect(mse.report.probes[1]!.extra).not.toEqual(kl.report.probes[1]!.extra);
  });
});

describe('saved probe models', () => {
  it('writes every student and control as ONNX that reproduces its probe score', async () => {
    const c = await tinyCase();
    const { report } = await audit(validateConfig({ ...c.config, saveModels: true }, 'test'));
    const dir = path.join(c.config.out as string, 'models');
    expect((await readdir(dir)).sort()).toEqual(['control-seed1.onnx', 'control-seed2.onnx', 'positive-seed1.onnx', 'positive-seed2.onnx', 'student-seed1.onnx', 'student-seed2.onnx']);
    const model = await LogitsModel.load(path.join(dir, 'student-seed2.onnx'));
    const probe = (await readFile(c.probe, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { x: number[]; y: number });
    const outputs = await model.predict(Float32Array.from(probe.flatMap((r) => r.x)), probe.length);
    await model.dispose();
    expect(accuracy(outputs, 5, [0, 3], Int32Array.from(probe.map((r) => r.y)))).toBe(report.probes[0]!.student.runs[1]);
  });
});

describe('audit data formats', () => {
  it('reads tensor rows from CSV with numbered columns (x_0..x_3, t_0..t_1) the same as from JSONL', async () => {
    const c = await tinyCase();
    const rows = (await readFile(c.data, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { x: number[]; t: number[] });
    const header = ['x_0', 'x_1', 'x_2', 'x_3', 't_0', 't_1'].join(',');
    const csv = path.join(c.dir, 'data.csv');
    await writeFile(csv, `${header}\n${rows.map((r) => [...r.x, ...r.t].join(',')).join('\n')}\n`);
    const fromJsonl = await audit(validateConfig(c.config, 'test'));
    const fromCsv = await audit(validateConfig({ ...c.config, data: csv }, 'test'));
    expect(fromCsv.report.data.candidate.rowsUsed).toBe(300);
    expect(fromCsv.report.probes).toEqual(fromJsonl.report.probes);
  });

  it('reads tensor rows from Parquet list columns the same as from JSONL', async () => {
    const c = await tinyCase();
    const rows = (await readFile(c.data, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { x: number[]; t: number[] });
    const parquet = path.join(c.dir, 'data.parquet');
    parquetWriteFile({ filename: parquet, columnData: [{ name: 'x', data: rows.map((r) => r.x) }, { name: 't', data: rows.map((r) => r.t) }], rowGroupSize: 100 });
    const fromJsonl = await audit(validateConfig(c.config, 'test'));
    const fromParquet = await audit(validateConfig({ ...c.config, data: parquet }, 'test'));
    expect(fromParquet.report.data.candidate.rowsUsed).toBe(300);
    expect(fromParquet.report.probes).toEqual(fromJsonl.report.probes);
  });
});
