/**
 * report.json writer. Keys come out in the order schema.ts declares them (not in whatever order the
 * orchestrator happened to build the object), maps are sorted by key, and non-integer numbers are
 * rounded to 6 significant digits, so two runs with the same seeds differ only in the `run` block.
 */
import type { AuditReport } from './schema.js';

/** How to order one value: a declared object, a string-keyed map, an array, or free-form JSON. */
export type Shape = { obj: readonly (readonly [string, Shape])[] } | { map: Shape } | { arr: Shape } | 'leaf' | 'open';

const leaf = 'leaf' as const;
const open = 'open' as const;
const obj = (...keys: (readonly [string, Shape])[]): Shape => ({ obj: keys });
const map = (value: Shape): Shape => ({ map: value });
const arr = (item: Shape): Shape => ({ arr: item });

const runStats = obj(['mean', leaf], ['sd', leaf], ['ci', arr(leaf)], ['runs', arr(leaf)]);

const probe = obj(
  ['name', leaf],
  ['kind', leaf],
  ['metric', leaf],
  ['towardTeacher', leaf],
  ['base', leaf],
  ['teacher', leaf],
  ['control', runStats],
  ['student', runStats],
  ['crossInit', runStats],
  ['delta', leaf],
  ['deltaCi', arr(leaf)],
  ['pValue', leaf],
  ['pValueRaw', leaf],
  ['test', leaf],
  ['pValueAlt', leaf],
  ['transferRatio', leaf],
  ['minDetectableEffect', leaf],
  ['verdict', leaf],
  ['reason', leaf],
  ['extra', map(obj(['base', leaf], ['teacher', leaf], ['control', leaf], ['student', leaf]))],
);

const filterRule = obj(
  ['excluded', leaf],
  ['reasons', map(leaf)],
  ['examples', arr(obj(['line', leaf], ['text', leaf], ['reasons', arr(leaf)]))],
);

/** The AuditReport declaration, key by key. Keep in step with schema.ts (a test checks coverage). */
export const REPORT_SHAPE: Shape = obj(
  ['schemaVersion', leaf],
  ['tool', obj(['name', leaf], ['version', leaf])],
  ['mode', leaf],
  ['verdict', leaf],
  ['summary', leaf],
  ['models', obj(['teacher', leaf], ['base', leaf], ['architecture', leaf], ['parameters', leaf])],
  [
    'filters',
    obj(['rules', arr(leaf)], ['rowsIn', leaf], ['rowsKept', leaf], ['rowsExcluded', leaf], ['perRule', map(filterRule)]),
  ],
  [
    'data',
    obj(
      [
        'candidate',
        obj(
          ['file', leaf],
          ['rowsIn', leaf],
          ['rowsUsed', leaf],
          ['excluded', obj(['filtered', leaf], ['nonFinite', leaf], ['badRows', leaf], ['beyondMaxRows', leaf])],
          ['targetType', leaf],
          ['targetTypeDetected', leaf],
        ),
      ],
      ['baseline', obj(['source', leaf], ['file', leaf], ['rows', leaf])],
    ),
  ],
  ['probes', arr(probe)],
  ['screen', obj(['candidateCosine', leaf], ['baselineCosine', leaf], ['perParameter', map(leaf)])],
  ['attribution', obj(['metric', leaf], ['rows', leaf], ['mean', leaf], ['top10Share', leaf], ['top', arr(obj(['line', leaf], ['score', leaf]))])],
  [
    'positiveControl',
    obj(
      ['signal', leaf],
      ['detected', leaf],
      ['probes', arr(obj(['name', leaf], ['mean', leaf], ['runs', arr(leaf)], ['delta', leaf], ['deltaCi', arr(leaf)], ['pValue', leaf], ['transfer', leaf]))],
      ['reason', leaf],
    ),
  ],
  [
    'sequential',
    obj(
      ['spending', leaf],
      ['futility', leaf],
      ['maxSeeds', leaf],
      ['seedsUsed', leaf],
      ['stoppedEarly', leaf],
      ['looks', arr(obj(['seeds', leaf], ['fraction', leaf], ['alphaSpent', leaf], ['boundary', leaf], ['nominalAlpha', leaf], ['decision', leaf]))],
    ),
  ],
  ['policy', obj(['alpha', leaf], ['minEffect', leaf], ['test', leaf], ['correction', leaf], ['onInconclusive', leaf], ['rule', leaf])],
  [
    'reproducibility',
    obj(
      ['inputs', arr(obj(['role', leaf], ['path', leaf], ['sha256', leaf]))],
      ['seeds', arr(leaf)],
      ['versions', map(leaf)],
      ['train', open],
      ['config', open],
    ),
  ],
  ['run', obj(['startedAt', leaf], ['durationMs', leaf], ['trainingMs', leaf], ['steps', leaf], ['workers', leaf])],
);

/**
 * Non-integers to 6 significant digits; integers (counts, seeds, parameter totals) stay exact.
 * JSON has no NaN/Infinity, so those become null rather than a silently different number.
 */
export function roundNumber(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  if (Number.isInteger(x)) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(6));
  return r === 0 ? 0 : r; // no "-0"
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A plain JSON value with keys inserted in output order and numbers rounded. */
export function canonicalize(value: unknown, shape: Shape): unknown {
  if (typeof value === 'number') return roundNumber(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const item = typeof shape === 'object' && 'arr' in shape ? shape.arr : open;
    return value.map((v) => canonicalize(v, item));
  }
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (typeof shape === 'object' && 'obj' in shape) {
    const declared = new Set<string>();
    for (const [key, sub] of shape.obj) {
      declared.add(key);
      if (record[key] !== undefined) out[key] = canonicalize(record[key], sub);
    }
    // Keys the shape does not know (a newer producer) still come out, sorted, after the declared ones.
    for (const key of Object.keys(record).filter((k) => !declared.has(k)).sort(byKey)) {
      out[key] = canonicalize(record[key], open);
    }
    return out;
  }
  const sub = typeof shape === 'object' && 'map' in shape ? shape.map : open;
  for (const key of Object.keys(record).sort(byKey)) out[key] = canonicalize(record[key], sub);
  return out;
}

/** report.json text: declared key order, 2-space indent, trailing newline. */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(canonicalize(report, REPORT_SHAPE), null, 2)}\n`;
}
