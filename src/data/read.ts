/** Choose a reader by extension and stream rows. */
import { extname } from 'node:path';
import { stat } from 'node:fs/promises';
import { AuditInputError } from '../errors.js';
import { readCsvItems } from './csv.js';
import { fileError } from './errors.js';
import { readJsonArrayItems } from './json-array.js';
import { readJsonlBatches, readJsonlItems } from './jsonl.js';
import { readParquetItems } from './parquet.js';
import { isBadRow, type BadRow, type DataFormat, type ReadOptions, type Row, type RowOrBad } from './types.js';

const BY_EXTENSION: Record<string, DataFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
};

export function formatOf(file: string, forced?: DataFormat): DataFormat {
  if (forced) return forced;
  const format = BY_EXTENSION[extname(file).toLowerCase()];
  if (!format) {
    throw new AuditInputError(`${file}: unknown dataset format '${extname(file) || '(no extension)'}' (use .jsonl, .ndjson, .csv, .parquet or .json)`, { file });
  }
  return format;
}

/** Rows and (with skipBadRows) bad rows, in file order. */
export async function* readItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  const format = formatOf(file, opts.format);
  await checkReadable(file);
  switch (format) {
    case 'jsonl':
      yield* readJsonlItems(file, opts);
      break;
    case 'csv':
      yield* readCsvItems(file, opts);
      break;
    case 'parquet':
      yield* readParquetItems(file, opts);
      break;
    case 'json':
      yield* readJsonArrayItems(file, opts);
      break;
  }
}

const BATCH = 1024;

/**
 * Rows and bad rows in file order, grouped in batches: consumers loop over a batch synchronously,
 * which saves an await per row on the hot path (JSONL batches are one read chunk).
 */
export async function* readItemBatches(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad[]> {
  if (formatOf(file, opts.format) === 'jsonl') {
    await checkReadable(file);
    yield* readJsonlBatches(file, opts);
    return;
  }
  let batch: RowOrBad[] = [];
  for await (const item of readItems(file, opts)) {
    batch.push(item);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Rows only. Bad rows (with skipBadRows) go to `onBadRow` instead of the stream. */
export async function* readRows(file: string, opts: ReadOptions & { onBadRow?: (bad: BadRow) => void } = {}): AsyncGenerator<Row> {
  for await (const item of readItems(file, opts)) {
    if (isBadRow(item)) opts.onBadRow?.(item);
    else yield item;
  }
}

async function checkReadable(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw fileError(file, 'not a file');
  } catch (e) {
    if (e instanceof AuditInputError) throw e;
    throw fileError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
