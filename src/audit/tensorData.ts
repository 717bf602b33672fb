/**
 * Tensor rows (`{"<input>": [..], "<target>": [..], "<label>": n}`) gathered into flat
 * Float32Arrays for training and probing. Every row not used is returned with its reason.
 */
import { readItems } from '../data/read.js';
import { isBadRow, type Row } from '../data/types.js';
import { rowError } from '../data/errors.js';
import { vectorOf } from '../data/vector.js';
import { AuditInputError } from '../errors.js';
import type { ExcludedRow } from '../data/excluded.js';

export type { ExcludedRow };

export interface TensorSet {
  file: string;
  rows: number;
  inputWidth: number;
  inputs: Float32Array;
  /** Present when a target field was read. */
  targetWidth: number;
  targets: Float32Array;
  /** Present when a label field was read. */
  labels: Int32Array;
  /** Source line of each kept row (for findings). */
  lines: Int32Array;
}

export interface TensorReadSpec {
  input: string;
  inputWidth: number;
  target?: string;
  targetWidth?: number;
  label?: string;
  /** Labels must be in [0, labelCount). */
  labelCount?: number;
  skipBadRows?: boolean;
  /** Keep at most this many usable rows (0 = all). */
  maxRows?: number;
  /** Rows pass through here before use (content filters): reasons (and rules) to exclude it. */
  screenRow?: (row: Row) => { reasons: string[]; rules?: string[] } | undefined;
}

/** Growable Float32 buffer: avoids a JS number[] per row for 12k x 784 inputs. */
class FloatBuffer {
  private data: Float32Array;
  length = 0;
  constructor(initial = 1 << 16) {
    this.data = new Float32Array(initial);
  }
  push(values: readonly number[]): void {
    if (this.length + values.length > this.data.length) {
      const next = new Float32Array(Math.max(this.data.length * 2, this.length + values.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  result(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

/** Finite AFTER the conversion to float32: 1e39 is finite as a double but Infinity as a float32. */
const allFinite = (xs: readonly number[]) => xs.every((x) => Number.isFinite(Math.fround(x)));

export async function readTensorSet(file: string, spec: TensorReadSpec): Promise<{ set: TensorSet; excluded: ExcludedRow[]; rowsIn: number }> {
  const inputs = new FloatBuffer();
  const targets = new FloatBuffer();
  const labels: number[] = [];
  const lines: number[] = [];
  const excluded: ExcludedRow[] = [];
  let rowsIn = 0;
  for await (const item of readItems(file, { skipBadRows: spec.skipBadRows ?? false })) {
    rowsIn++;
    if (isBadRow(item)) {
      excluded.push({ file, line: item.line, kind: 'bad-row', reasons: [`bad row: ${item.reason}`] });
      continue;
    }
    if (spec.maxRows && lines.length >= spec.maxRows) {
      excluded.push({ file, line: item.line, kind: 'row-limit', reasons: ['beyond maxRows'] });
      continue;
    }
    const screened = spec.screenRow?.(item);
    if (screened && screened.reasons.length > 0) {
      excluded.push({ file, line: item.line, kind: 'filter', ...screened });
      continue;
    }
    const x = vectorOf(item, spec.input, file);
    if (x.length !== spec.inputWidth) {
      throw rowError(file, item.line, `field '${spec.input}' has ${x.length} values; the model takes ${spec.inputWidth}`);
    }
    let y: number[] | undefined;
    if (spec.target) {
      y = vectorOf(item, spec.target, file);
      if (y.length !== spec.targetWidth) {
        throw rowError(file, item.line, `field '${spec.target}' has ${y.length} values; the output slice holds ${spec.targetWidth}`);
      }
    }
    if (!allFinite(x) || (y && !allFinite(y))) {
      excluded.push({ file, line: item.line, kind: 'non-finite', reasons: ['non-finite values (NaN, Infinity, or beyond the float32 range)'] });
      continue;
    }
    if (spec.label) {
      const label = labelOf(item, spec.label, file);
      if (label === undefined || !Number.isInteger(label) || label < 0 || (spec.labelCount !== undefined && label >= spec.labelCount)) {
        throw rowError(file, item.line, `label ${label} is out of range: the probe's output slice has ${spec.labelCount} classes (0..${(spec.labelCount ?? 1) - 1})`);
      }
      labels.push(label);
    }
    inputs.push(x);
    if (y) targets.push(y);
    lines.push(item.line);
  }
  if (rowsIn === 0) throw new AuditInputError(`${file}: no rows`, { file });
  return {
    set: {
      file,
      rows: lines.length,
      inputWidth: spec.inputWidth,
      inputs: inputs.result(),
      targetWidth: spec.targetWidth ?? 0,
      targets: targets.result(),
      labels: Int32Array.from(labels),
      lines: Int32Array.from(lines),
    },
    excluded,
    rowsIn,
  };
}

/** A label is one integer (a CSV cell "3" counts); an array, a float or text is bad input. */
function labelOf(row: Row, field: string, file: string): number {
  const v = row.value[field];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    const shown = typeof v === 'string' ? JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v) : Array.isArray(v) ? 'an array' : v === undefined ? 'missing' : String(v);
    throw rowError(file, row.line, `label '${field}' must be one integer, got ${shown}`);
  }
  return n;
}

/**
 * probs when every target row is a distribution (entries in [0, 1] summing to 1 within 1e-3),
 * logits otherwise.
 */
export function detectTargetType(targets: Float32Array, width: number): 'probs' | 'logits' {
  for (let r = 0; r * width < targets.length; r++) {
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const v = targets[r * width + j]!;
      if (v < 0 || v > 1) return 'logits';
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return 'logits';
  }
  return 'probs';
}
