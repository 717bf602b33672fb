/** Numeric vectors of tensor rows (`{"x": [..784 numbers], "y": [..]}`). */
import { rowError } from './errors.js';
import type { Row } from './types.js';

/**
 * The numbers in `row.value[field]`. Numeric strings (CSV cells) are converted. NaN and ±Infinity are
 * returned as they are: whether they are allowed is the caller's decision.
 */
export function vectorOf(row: Row, field: string, file = '<rows>'): number[] {
  const v = row.value[field];
  if (v === undefined) throw rowError(file, row.line, `missing field '${field}'`);
  if (typeof v === 'number') return [v];
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
    throw rowError(file, row.line, `field '${field}' is not a numeric array (${v === null ? 'null' : typeof v})`);
  }
  const items = v as ArrayLike<unknown>;
  const out = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    if (typeof x === 'number') out[i] = x;
    else if (typeof x === 'string' && looksNumeric(x)) out[i] = Number(x);
    else throw rowError(file, row.line, `field '${field}'[${i}] is not a number (${describe(x)})`);
  }
  return out;
}

/** A decimal number as text ("-1.5e3", " .5 ", "NaN", "+Infinity"): the one test for numeric strings (CSV cells too). */
const NUMBER = /^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|Infinity|NaN)\s*$/;

export function looksNumeric(text: string): boolean {
  return NUMBER.test(text);
}

function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}…` : x);
  if (x === null || x === undefined) return String(x);
  return typeof x;
}
