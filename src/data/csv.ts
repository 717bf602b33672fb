/**
 * CSV reader over csv-parse's streaming API. The first record is the header. Cells stay strings
 * unless configured numeric (so "007" survives); JSON-array cells become arrays; numbered column
 * runs become one vector field.
 */
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { planColumns, type ColumnPlan } from './columns.js';
import { fileError, rowError } from './errors.js';
import { FORBIDDEN_KEYS, parseJsonStrict } from './json-strict.js';
import type { ReadOptions, RowOrBad } from './types.js';
import { firstInvalidLineIndex, incompleteTail, looksBinary, startsWithParquetMagic, validUtf8 } from './utf8.js';
import { looksNumeric } from './vector.js';

interface CsvRecord {
  record: string[];
  info: { lines: number; empty_lines: number };
}

export async function* readCsvItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  const stats = opts.stats;
  const skipBad = opts.skipBadRows === true;
  const numeric = opts.numericColumns;
  const keepString = new Set(opts.stringColumns ?? []);
  const parser = parse({ info: true, relax_column_count: true, skip_empty_lines: true, bom: true });
  const source = createReadStream(file);
  const guard = new Utf8Guard(file);
  source.on('error', (e) => parser.destroy(e));
  guard.on('error', (e) => parser.destroy(e));
  source.pipe(guard).pipe(parser);

  let header: string[] | null = null;
  let plan: ColumnPlan | null = null;
  let numericCol: boolean[] = [];
  let prevEnd = 0;
  let prevEmpty = 0;
  try {
    for await (const rec of parser as AsyncIterable<CsvRecord>) {
      // Start line of this record: after the previous one and any skipped empty lines.
      const line = prevEnd + 1 + (rec.info.empty_lines - prevEmpty);
      if (stats) stats.blankLines += rec.info.empty_lines - prevEmpty;
      prevEnd = rec.info.lines;
      prevEmpty = rec.info.empty_lines;
      if (!header) {
        header = rec.record.map((h) => h.trim());
        checkHeader(file, line, header);
        plan = planColumns(header);
        for (const name of plan.vectors.keys()) if (FORBIDDEN_KEYS.has(name)) throw rowError(file, line, `header columns make a vector named '${name}', which is not allowed as a field name`);
        numericCol = header.map((h, i) => numeric === '*' || (numeric?.includes(h) ?? false) || (numeric?.includes(plan!.fields[i]!) ?? false));
        continue;
      }
      if (rec.record.length !== header.length) {
        const reason = `ragged row: ${rec.record.length} cells, header has ${header.length}`;
        if (!skipBad) throw rowError(file, line, reason);
        if (stats) stats.badRows++;
        yield { bad: true, line, reason, raw: rec.record.join(',') };
        continue;
      }
      const value = toValue(rec.record, plan!, numericCol, keepString);
      if (typeof value === 'string') {
        if (!skipBad) throw rowError(file, line, value);
        if (stats) stats.badRows++;
        yield { bad: true, line, reason: value, raw: rec.record.join(',') };
        continue;
      }
      if (stats) stats.rows++;
      yield { line, value };
    }
  } catch (e) {
    // csv-parse 7's codes have no CSV_ prefix: tell its errors by class.
    if (e instanceof CsvError) {
      const lines = (e as CsvError & { lines?: number }).lines ?? prevEnd + 1;
      throw rowError(file, lines, `malformed CSV (${e.message.replace(/^Invalid [^:]*: /, '').split('\n')[0]})`);
    }
    throw e;
  } finally {
    source.destroy();
  }
  if (guard.bytes === 0) throw fileError(file, 'empty file');
  if (!header) throw fileError(file, 'no header row');
}

/** One name per column, none that would reach Object.prototype; a header that breaks this is bad input. */
function checkHeader(file: string, line: number, header: string[]): void {
  const seen = new Set<string>();
  for (const name of header) {
    if (FORBIDDEN_KEYS.has(name)) throw rowError(file, line, `header column '${name}' is not allowed as a field name`);
    if (seen.has(name)) throw rowError(file, line, `header names column '${name}' twice`);
    seen.add(name);
  }
}

/** The row's fields (an object without prototype), or the reason the row is bad. */
function toValue(cells: string[], plan: ColumnPlan, numericCol: boolean[], keepString: Set<string>): Record<string, unknown> | string {
  const value: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, len] of plan.vectors) value[name] = new Array(len);
  for (let i = 0; i < cells.length; i++) {
    const field = plan.fields[i]!;
    const cell = convertCell(cells[i]!, numericCol[i]!, keepString.has(field));
    if (cell instanceof BadCell) return `column '${plan.fields[i]}': ${cell.reason}`;
    const slot = plan.slots[i]!;
    if (slot >= 0) (value[field] as unknown[])[slot] = cell;
    else value[field] = cell;
  }
  return value;
}

function convertCell(cell: string, numeric: boolean, keepString: boolean): unknown {
  if (keepString) return cell;
  if (numeric && looksNumeric(cell)) return Number(cell);
  const c0 = cell.charCodeAt(0);
  if ((c0 === 91 || c0 === 123) && cell.length > 1) {
    const last = cell.charCodeAt(cell.length - 1);
    // JSON arrays (and objects, e.g. one chat message) in a cell become structured values.
    if ((c0 === 91 && last === 93) || (c0 === 123 && last === 125)) {
      const parsed = parseJsonStrict(cell);
      if (parsed.ok) return parsed.value;
      // Not JSON after all: the text stays. JSON whose keys repeat has no single meaning.
      return parsed.reason.startsWith('duplicate key') ? new BadCell(parsed.reason) : cell;
    }
  }
  return cell;
}

class BadCell {
  constructor(readonly reason: string) {}
}

export { looksNumeric };

/** Passes bytes through, failing with file:line on invalid UTF-8 or binary data (csv-parse would guess). */
class Utf8Guard extends Transform {
  bytes = 0;
  private lines = 1;
  private tail: Buffer | null = null;
  constructor(private readonly file: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.bytes === 0) {
      if (startsWithParquetMagic(chunk)) return done(fileError(this.file, 'not a CSV file (it starts with the Parquet magic PAR1)'));
      if (looksBinary(chunk.subarray(0, 8192))) return done(fileError(this.file, 'not a CSV file (binary data: NUL bytes)'));
    }
    this.bytes += chunk.length;
    const data = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const keep = incompleteTail(data);
    const whole = data.subarray(0, data.length - keep);
    this.tail = keep > 0 ? Buffer.from(data.subarray(data.length - keep)) : null;
    if (!validUtf8(whole)) return done(this.invalidAt(whole));
    this.lines += countNewlines(whole);
    done(null, whole);
  }
  override _flush(done: TransformCallback): void {
    if (this.tail) return done(this.invalidAt(this.tail));
    done();
  }
  private invalidAt(bytes: Buffer): Error {
    return rowError(this.file, this.lines + Math.max(0, firstInvalidLineIndex(bytes)), 'invalid UTF-8');
  }
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  let i = buf.indexOf(10);
  while (i >= 0) {
    n++;
    i = buf.indexOf(10, i + 1);
  }
  return n;
}
