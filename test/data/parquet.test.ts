import * as zlib from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parquetWriteFile } from 'hyparquet-writer';
import { AuditInputError } from '../../src/errors.js';
import { readItems } from '../../src/data/read.js';
import { collect, tempDir, tempFile } from './helpers.js';

type Codec = 'SNAPPY' | 'GZIP' | 'ZSTD' | 'UNCOMPRESSED';

/** Node 22.15+ has zstd; Node 20's types do not declare it. */
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;

/** Writer-side compressors (hyparquet-compressors only decompresses). */
const writeCompressors = {
  GZIP: (input: Uint8Array) => new Uint8Array(zlib.gzipSync(input)),
  ...(typeof zstdCompressSync === 'function' ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstdCompressSync!(input)) } : {}),
};

function writeParquet(rows: number, codec: Codec, rowGroupSize: number): string {
  const file = join(tempDir(), `t-${codec}.parquet`);
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'prompt', data: Array.from({ length: rows }, (_, i) => `p${i}`), type: 'STRING' },
      { name: 'completion', data: Array.from({ length: rows }, (_, i) => `${i}, 00${i % 10}`), type: 'STRING' },
      { name: 'n', data: Array.from({ length: rows }, (_, i) => BigInt(i)), type: 'INT64' },
      { name: 'x', data: Array.from({ length: rows }, (_, i) => [i, i + 0.5]) },
    ],
    rowGroupSize,
    codec,
    compressors: writeCompressors as never,
  });
  return file;
}

describe('Parquet reader', () => {
  const codecs: Codec[] = ['SNAPPY', 'GZIP', 'UNCOMPRESSED', ...(typeof zstdCompressSync === 'function' ? (['ZSTD'] as Codec[]) : [])];
  it.each(codecs)('reads every row group in order (%s)', async (codec) => {
    const rows = await collect(writeParquet(2500, codec, 1000));
    expect(rows).toHaveLength(2500);
    expect(rows[0]).toEqual({ line: 1, value: { prompt: 'p0', completion: '0, 000', n: 0, x: [0, 0.5] } });
    expect(rows[2499]).toMatchObject({ line: 2500, value: { completion: '2499, 009', n: 2499 } });
  });
  it('reads one row group at a time (rows arrive before the file is decoded)', async () => {
    // Three row groups; the last one's bytes are damaged (GZIP's checksum makes that an error).
    // A reader that decoded the whole file first would fail before yielding anything.
    const file = writeParquet(30_000, 'GZIP', 10_000);
    const bytes = readFileSync(file);
    const footer = bytes.readUInt32LE(bytes.length - 8);
    const dataEnd = bytes.length - 8 - footer;
    for (let i = Math.floor(dataEnd * 0.9); i < Math.floor(dataEnd * 0.95); i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file, bytes);
    const it = readItems(file)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ line: 1 });
    // ... and the damage is real: reading on fails, after the intact groups' rows.
    let rows = 1;
    const failure = await (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) return null;
        rows++;
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuditInputError); // a damaged file is the user's input, not a bug
    expect((failure as Error).message).toMatch(/t-GZIP\.parquet/);
    expect(rows).toBeGreaterThanOrEqual(10_000);
    expect(rows).toBeLessThan(30_000);
  });
  it.each([
    ['a file without PAR1 magic', '{"a":1}\n', /bad\.parquet: not a Parquet file \(missing PAR1 magic\)/],
    ['an empty file', '', /bad\.parquet: empty file/],
    ['a truncated file', 'PAR1\x00\x00\x00\x00PAR1', /bad\.parquet: unreadable Parquet metadata/],
  ])('rejects %s', async (_n, content, message) => {
    const err = await collect(tempFile('bad.parquet', content)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(message);
  });
});
