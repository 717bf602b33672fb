/**
 * Parquet reader over hyparquet, one row group at a time so memory is bounded by a row group.
 * Row numbers (1-based) stand in for lines.
 */
import { open } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { fileError } from './errors.js';
import { FORBIDDEN_KEYS } from './json-strict.js';
import { rowObject, type ReadOptions, type RowOrBad } from './types.js';
import { startsWithParquetMagic } from './utf8.js';

export async function* readParquetItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  await checkMagic(file);
  const buffer = await asyncBufferFromFile(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw fileError(file, `unreadable Parquet metadata (${(e as Error).message})`);
  }
  if (Number(metadata.num_rows) === 0) throw fileError(file, 'no rows');
  checkColumnNames(file, topLevelNames(metadata.schema));
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors });
    } catch (e) {
      throw fileError(file, `rows ${rowStart + 1}-${rowEnd}: cannot decode row group (${(e as Error).message})`);
    }
    for (let i = 0; i < rows.length; i++) {
      if (opts.stats) opts.stats.rows++;
      yield { line: rowStart + i + 1, value: plainValues(rows[i]!) };
    }
    rowStart = rowEnd;
  }
}

/** Names of the root's children (nested columns' inner elements are skipped with their subtrees). */
function topLevelNames(schema: { name: string; num_children?: number }[]): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (): void => {
    const children = schema[i]?.num_children ?? 0;
    i++;
    for (let c = 0; c < children; c++) skip();
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    names.push(schema[i]!.name);
    skip();
  }
  return names;
}

/** Column names become row keys: repeated or prototype names would give a row two meanings. */
function checkColumnNames(file: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (FORBIDDEN_KEYS.has(name)) throw fileError(file, `column '${name}' is not allowed as a field name`);
    if (seen.has(name)) throw fileError(file, `two columns are named '${name}'`);
    seen.add(name);
  }
}

async function checkMagic(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw fileError(file, 'empty file');
    const head = Buffer.alloc(4);
    const foot = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    await handle.read(foot, 0, 4, Math.max(0, size - 4));
    if (size < 12 || !startsWithParquetMagic(head) || !startsWithParquetMagic(foot)) {
      throw fileError(file, 'not a Parquet file (missing PAR1 magic)');
    }
  } finally {
    await handle.close();
  }
}

/** BigInt (INT64) becomes a number when exact, else a decimal string, so rows stay JSON-serialisable. */
function plainValues(row: Record<string, unknown>): Record<string, unknown> {
  rowObject(row);
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = toPlain(v);
    else if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'bigint') row[key] = v.map(toPlain);
  }
  return row;
}

function toPlain(v: unknown): unknown {
  if (typeof v !== 'bigint') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}
