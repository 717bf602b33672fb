import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPORT_SHAPE, renderJson, roundNumber, type Shape } from '../../src/report/json.js';
import type { AuditReport } from '../../src/report/schema.js';
import { sampleReport } from './sample.js';

/** Same data, every object's keys inserted in reverse: the output must not depend on build order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
}

function withoutRunBlock(json: string): string {
  return json.replace(/\n {2}"run": \{[\s\S]*?\n {2}\}/, '');
}

describe('renderJson', () => {
  it('is byte-stable whatever order the object was built in', () => {
    const a = renderJson(sampleReport());
    const reversed = reverseKeys(sampleReport()) as AuditReport;
    // The input really is in another order (else the next line would prove nothing).
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(sampleReport()));
    expect(renderJson(reversed)).toBe(a);
  });

  it('uses 2-space indent and a trailing newline', () => {
    const s = renderJson(sampleReport());
    expect(s.endsWith('}\n')).toBe(true);
    expect(s.split('\n')[1]).toBe('  "schemaVersion": "1.0.0",');
  });

  it('orders top-level and probe keys as schema.ts declares them', () => {
    const parsed = JSON.parse(renderJson(reverseKeys(sampleReport()) as AuditReport));
    expect(Object.keys(parsed)).toEqual([
      'schemaVersion', 'tool', 'verdict', 'summary', 'models', 'filters', 'data', 'probes', 'screen', 'attribution', 'positiveControl', 'sequential', 'policy', 'reproducibility', 'run',
    ]);
    expect(Object.keys(parsed.probes[0]).slice(0, 8)).toEqual(['name', 'kind', 'metric', 'towardTeacher', 'base', 'teacher', 'control', 'student']);
    expect(Object.keys(parsed.probes[0].control)).toEqual(['mean', 'sd', 'ci', 'runs']);
    // Maps are sorted by key.
    expect(Object.keys(parsed.filters.perRule)).toEqual(['banned-numbers', 'number-format']);
  });

  it('matches the documented schema property order', () => {
    const schema = JSON.parse(readFileSync(new URL('../../docs/report.schema.json', import.meta.url), 'utf8'));
    const parsed = JSON.parse(renderJson(sampleReport()));
    // `mode` is only present in screen-only reports; the sample is a full audit.
    expect(Object.keys(parsed)).toEqual(Object.keys(schema.properties).filter((k) => k !== 'mode'));
    expect(Object.keys(JSON.parse(renderJson({ ...sampleReport(), mode: 'screen' })))).toEqual(Object.keys(schema.properties));
  });

  it('round-trips: parsing and re-rendering gives the same bytes, values rounded to 6 significant digits', () => {
    const s = renderJson(sampleReport());
    const parsed = JSON.parse(s) as AuditReport;
    expect(renderJson(parsed)).toBe(s);
    expect(sampleReport().probes[0]!.transferRatio).toBe(0.11566265060240968);
    expect(parsed.probes[0]!.transferRatio).toBe(0.115663);
    expect(parsed.probes[0]!.minDetectableEffect).toBe(0.0542147);
    expect(parsed.probes[0]!.pValue).toBe(0.00577048);
    // Integers are exact: rounding 1234567 to 6 digits would corrupt a count.
    expect(parsed.models.parameters).toBe(270093);
    expect(JSON.parse(renderJson({ ...sampleReport(), models: { ...sampleReport().models, parameters: 1234567 } })).models.parameters).toBe(1234567);
    expect(parsed.probes[0]!.crossInit?.runs).toEqual([0.11, 0.12, 0.125, 0.13, 0.14]);
  });

  it('differs only in the run block between two runs with the same results', () => {
    const a = sampleReport();
    const b = sampleReport();
    b.run = { startedAt: '2026-02-03T00:00:00.000Z', durationMs: 50000, trainingMs: 40000, steps: 4290, workers: 1 };
    // Floating-point noise from a different summation order must not show.
    a.probes[0]!.delta = 0.2;
    b.probes[0]!.delta = 0.2 + 3e-16;
    expect(b.probes[0]!.delta).not.toBe(0.2);
    const ja = renderJson(a);
    const jb = renderJson(b);
    expect(ja).not.toBe(jb);
    expect(withoutRunBlock(jb)).toBe(withoutRunBlock(ja));
    expect(withoutRunBlock(ja)).not.toContain('startedAt');
  });

  it('drops undefined optionals, keeps nulls, turns non-finite numbers into null', () => {
    const r = sampleReport();
    delete r.screen;
    r.filters = null;
    r.probes[1]!.transferRatio = null;
    r.probes[1]!.pValueAlt = Number.NaN;
    r.probes[1]!.crossInit = undefined;
    const parsed = JSON.parse(renderJson(r));
    expect('screen' in parsed).toBe(false);
    expect(parsed.filters).toBeNull();
    expect(parsed.probes[1].transferRatio).toBeNull();
    expect(parsed.probes[1].pValueAlt).toBeNull();
    expect('crossInit' in parsed.probes[1]).toBe(false);
  });

  it('keeps keys it does not know, sorted after the declared ones', () => {
    const r = sampleReport() as AuditReport & { zeta?: number; alpha?: number };
    r.zeta = 1;
    r.alpha = 2;
    const keys = Object.keys(JSON.parse(renderJson(r)));
    expect(keys.slice(-3)).toEqual(['run', 'alpha', 'zeta']);
  });
});

describe('roundNumber', () => {
  it('rounds non-integers to 6 significant digits and never emits -0', () => {
    expect(roundNumber(0.1 + 0.2)).toBe(0.3);
    expect(roundNumber(123.4567891)).toBe(123.457);
    expect(roundNumber(1.23456789e-9)).toBe(1.23457e-9);
    expect(Object.is(roundNumber(-1e-30 * 0), 0)).toBe(true);
    expect(roundNumber(9007199254740991)).toBe(9007199254740991);
    expect(roundNumber(Number.POSITIVE_INFINITY)).toBeNull();
  });
});

/** Paths of keys in `value` that REPORT_SHAPE does not declare (maps and free-form objects excepted). */
function undeclared(value: unknown, shape: Shape, path = '$'): string[] {
  if (value === null || typeof value !== 'object' || shape === 'open' || shape === 'leaf') return [];
  if (Array.isArray(value)) return 'arr' in shape ? value.flatMap((v, i) => undeclared(v, shape.arr, `${path}[${i}]`)) : [];
  const entries = Object.entries(value);
  if ('map' in shape) return entries.flatMap(([k, v]) => undeclared(v, shape.map, `${path}.${k}`));
  if (!('obj' in shape)) return [];
  const keys = new Map(shape.obj.map(([k, s]) => [k, s] as const));
  return entries.flatMap(([k, v]) => {
    const sub = keys.get(k);
    return sub === undefined ? [`${path}.${k}`] : undeclared(v, sub, `${path}.${k}`);
  });
}

describe('REPORT_SHAPE', () => {
  // The sample must type-check against schema.ts, so a field added there shows up here first.
  it('declares every field of the sample report', () => {
    expect(undeclared(sampleReport(), REPORT_SHAPE)).toEqual([]);
  });
});
