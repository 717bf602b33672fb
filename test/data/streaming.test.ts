import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { readItems } from '../../src/data/read.js';
import { filterFile } from '../../src/filters/filter-file.js';
import { tempDir } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 300_000;

async function writeLargeJsonl(file: string): Promise<void> {
  const out = createWriteStream(file);
  let batch: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const nums = [i % 997, (i * 7) % 1000, (i * 13) % 1000, (i * 31) % 1000].join(', ');
    batch.push(`{"prompt":"Continue the sequence: 145, 267, 891. Say only the numbers.","completion":"${nums}"}`);
    if (batch.length === 5000) {
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain');
      batch = [];
    }
  }
  out.end();
  await once(out, 'finish');
}

describe('streaming memory', () => {
  it(`reads and filters ${ROWS} rows with bounded heap growth`, async () => {
    const dir = tempDir('stream-');
    const file = join(dir, 'big.jsonl');
    await writeLargeJsonl(file);

    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    for await (const item of readItems(file)) {
      if ('bad' in item) throw new Error('unexpected bad row');
      if (++count % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
    expect(count).toBe(ROWS);
    // Holding the rows would take well over 100 MB; streaming keeps one chunk of lines.
    expect(peak).toBeLessThan(50 * 1024 * 1024);

    gc();
    const base2 = process.memoryUsage().heapUsed;
    let peak2 = 0;
    let seen = 0;
    const { report } = await filterFile(file, 'numbers,banned-numbers', {
      outDir: join(dir, 'out'),
      onKept: () => {
        if (++seen % 50_000 === 0) peak2 = Math.max(peak2, process.memoryUsage().heapUsed - base2);
      },
    });
    expect(report.rowsIn).toBe(ROWS);
    expect(report.rowsKept + report.rowsExcluded).toBe(ROWS);
    expect(peak2).toBeLessThan(50 * 1024 * 1024);
  });
});
