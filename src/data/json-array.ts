/** A `.json` file holding one array of row objects. Read whole (JSON arrays cannot be streamed cheaply). */
import { readFile } from 'node:fs/promises';
import { fileError, rowError } from './errors.js';
import { parseJsonStrict } from './json-strict.js';
import { rowObject, type ReadOptions, type RowOrBad } from './types.js';
import { firstInvalidLineIndex, looksBinary, startsWithParquetMagic, validUtf8 } from './utf8.js';

export async function* readJsonArrayItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  const bytes = await readFile(file);
  if (bytes.length === 0) throw fileError(file, 'empty file');
  if (startsWithParquetMagic(bytes)) throw fileError(file, 'not a JSON file (it starts with the Parquet magic PAR1)');
  if (looksBinary(bytes.subarray(0, 8192))) throw fileError(file, 'not a JSON file (binary data: NUL bytes)');
  if (!validUtf8(bytes)) throw rowError(file, firstInvalidLineIndex(bytes) + 1, 'invalid UTF-8');
  const strict = parseJsonStrict(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  if (!strict.ok) throw fileError(file, strict.reason);
  const parsed = strict.value;
  if (!Array.isArray(parsed)) throw fileError(file, 'expected a JSON array of row objects');
  for (let i = 0; i < parsed.length; i++) {
    const v = parsed[i];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      const reason = 'array element is not a JSON object';
      if (!opts.skipBadRows) throw rowError(file, i + 1, reason);
      if (opts.stats) opts.stats.badRows++;
      yield { bad: true, line: i + 1, reason, raw: JSON.stringify(v) };
      continue;
    }
    if (opts.stats) opts.stats.rows++;
    yield { line: i + 1, value: rowObject(v as Record<string, unknown>) };
  }
}
