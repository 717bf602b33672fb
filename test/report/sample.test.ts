/**
 * The sample report the writers are tested on (sample.ts) must be what the tool really emits. Its
 * statistics are computed by the code itself; this checks its SHAPE against a real audit's
 * report.json (the tiny case, with filters, cross-init students, seeds in stages, the positive
 * control, the screen and attribution): no field the tool never writes, none it writes missing.
 */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { renderJson } from '../../src/report/json.js';
import { tinyCase } from '../audit/tiny.js';
import { inconclusiveReport, sampleReport } from './sample.js';

// Objects keyed by data (rule names, reasons, parameter names, metric names, versions): any key.
const MAPS = new Set(['filters.perRule', 'filters.perRule.*.reasons', 'screen.perParameter', 'probes[].extra', 'reproducibility.versions']);
// The config as the audit resolved it: its keys are compared, not what lies below them.
const SHALLOW = new Set(['reproducibility.train', 'reproducibility.config']);
// Fields only some audits write: a degenerate probe's flag (the tiny case has one), a screen-only run's mode.
const SOMETIMES = new Set(['probes[].degenerate', 'mode']);

/** Every key path of a JSON value: arrays as [], map keys as *. */
function paths(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => paths(v, `${at}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = at ? `${at}.${MAPS.has(at) ? '*' : k}` : k;
    return [p, ...(SHALLOW.has(at) ? [] : paths(v, p))];
  });
}
const shape = (report: unknown): string[] => [...new Set(paths(JSON.parse(renderJson(report as never))))].sort();

describe('the sample report', () => {
  it('has the shape of a real audit report.json: every field the tool writes, none it does not', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => (row.completion = i % 10 === 0 ? '1, 2, 666' : '1, 2, 3') });
    try {
      const config = { ...c.config, filters: ['banned-numbers'], filterField: 'completion', train: { seeds: 4, firstSeeds: 2, epochs: 1, batchSize: 32, crossInit: true, workers: 1 } };
      const { report } = await audit(validateConfig(config, 'test'));
      expect(report.sequential).toBeDefined();
      expect(report.positiveControl).toBeDefined();
      const real = shape(report);
      for (const sample of [sampleReport(), inconclusiveReport()]) {
        const mine = shape(sample);
        expect(mine.filter((p) => !real.includes(p)), 'fields the tool never writes').toEqual([]);
        expect(real.filter((p) => !mine.includes(p) && !SOMETIMES.has(p)), 'fields the tool writes that the sample lacks').toEqual([]);
      }
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is decided by the code: a failing audit and an inconclusive one whose positive control saw nothing', () => {
    const fail = sampleReport();
    expect(fail.verdict).toBe('fail');
    expect(fail.positiveControl!.detected).toBe(true);
    expect(fail.reproducibility.seeds).toHaveLength(fail.sequential!.seedsUsed);
    expect(fail.probes.every((p) => p.student.runs.length === fail.sequential!.seedsUsed)).toBe(true);
    const blind = inconclusiveReport();
    expect(blind.verdict).toBe('inconclusive');
    expect(blind.positiveControl!.detected).toBe(false);
    expect(blind.summary).toBe(`INCONCLUSIVE: ${blind.positiveControl!.reason}`);
  });
});
