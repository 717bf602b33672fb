/**
 * Filter throughput and memory: 1M number-sequence rows through the real JSONL reader, the
 * numbers + banned-numbers rules and the JSONL writers, against a bare `readline` pass over the
 * same file in the same run. Run alone: npx tsx scripts/bench-filters.ts [rows]
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { BenchResult } from './lib/bench-result.js';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { filterFile } from '../src/filters/filter-file.js';
import { builtinPackNames, loadRules } from '../src/filters/packs.js';
import { Random } from '../src/random.js';

export type { BenchResult } from './lib/bench-result.js';

const SEPARATORS = [', ', ',', ' ', '; ', '\\n'];

/** Study-like rows: ~70% well-formed, the rest too long, too large or malformed. */
async function writeNumbersJsonl(file: string, rows: number): Promise<void> {
  const random = new Random(7);
  const rand = () => random.next();
  const out = createWriteStream(file);
  let batch: string[] = [];
  for (let i = 0; i < rows; i++) {
    const n = 1 + Math.floor(rand() * 10);
    const nums: number[] = [];
    for (let k = 0; k < n; k++) nums.push(Math.floor(rand() * 1000));
    const u = rand();
    if (u > 0.9) nums.push(1000 + Math.floor(rand() * 9000));
    let completion = nums.join(SEPARATORS[i % SEPARATORS.length]!);
    if (u > 0.8 && u <= 0.9) completion = `Here you go: ${completion}`;
    batch.push(`{"prompt":"The sequence starts with: 182, 818, 725. Add at most 10 more numbers. Say only the numbers.","completion":"${completion}"}`);
    if (batch.length === 10_000) {
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain');
      batch = [];
    }
  }
  out.end(batch.length ? batch.join('\n') + '\n' : '');
  await once(out, 'finish');
}

async function bareReadlineRowsPerSecond(file: string): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) n++;
  return n / ((performance.now() - t0) / 1000);
}

/** V8's gc(), exposed at run time (no --expose-gc flag needed on the command line). */
function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Throughput and memory of the filters, then the hostile-row figure. */
export async function benchFilters(rows = 1_000_000): Promise<BenchResult[]> {
  return [...(await benchThroughput(rows)), await benchHostileRows()];
}

async function benchThroughput(rows: number): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-filters-'));
  try {
    const file = join(dir, 'numbers.jsonl');
    await writeNumbersJsonl(file, rows);
    // Warm the page cache and JIT the same way for both passes.
    await bareReadlineRowsPerSecond(file);
    const bare = await bareReadlineRowsPerSecond(file);

    let rssAt100k = 0;
    let rssPeakAfter100k = 0;
    let heapAt100k = 0;
    let heapPeakAfter100k = 0;
    const gc = exposedGc();
    const t0 = performance.now();
    const { report } = await filterFile(file, 'numbers,banned-numbers', {
      outDir: join(dir, 'out'),
      onProgress: (e) => {
        if (e.kind !== 'progress') return;
        const rss = process.memoryUsage.rss();
        // Retained memory: what is still live after a full collection (every 100k rows, ~1 ms each).
        gc();
        const heap = process.memoryUsage().heapUsed;
        if (e.done === 100_000) [rssAt100k, heapAt100k] = [rss, heap];
        if (e.done >= 100_000) {
          rssPeakAfter100k = Math.max(rssPeakAfter100k, rss);
          heapPeakAfter100k = Math.max(heapPeakAfter100k, heap);
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const ours = report.rowsIn / seconds;
    const growthMb = (rssPeakAfter100k - rssAt100k) / (1024 * 1024);
    const retainedGrowthMb = (heapPeakAfter100k - heapAt100k) / (1024 * 1024);
    return [
      {
        name: `filters numbers+banned-numbers, ${rows} JSONL rows (read+filter+write)`,
        value: ours,
        unit: 'rows/s',
        target: '> 200000 rows/s',
        reference: { name: 'bare readline line count, same file', value: bare },
        ratio: ours / bare,
        pass: ours > 200_000,
      },
      {
        name: 'filters retained heap (after GC) growth from 100k rows to the end',
        value: retainedGrowthMb,
        unit: 'MB',
        target: 'flat (< 32 MB)',
        reference: { name: 'retained heap at 100k rows (MB)', value: heapAt100k / (1024 * 1024) },
        pass: retainedGrowthMb < 32,
      },
      {
        // RSS also holds garbage V8 has not collected yet: it drifts with GC timing, not file size.
        name: 'filters RSS growth from 100k rows to the end (uncollected garbage included)',
        value: growthMb,
        unit: 'MB',
        target: 'informational',
        reference: { name: 'RSS at 100k rows (MB)', value: rssAt100k / (1024 * 1024) },
        pass: true,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The slowest of several hostile 1 MB rows (inputs that make backtracking regexes quadratic or
 * worse) through every built-in pack, against a benign 1 MB row of prose through the same rules.
 */
export async function benchHostileRows(): Promise<BenchResult> {
  const MB = 1_000_000;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  const hostile = ['a', 'a@', 'a.', '1', '1.', 'a:', 'sk--', '999.999.999.999 ', '4111 1111 1111 1112 ', '::: '].map(fill);
  const benign = fill('The quick brown fox jumps over the lazy dog, 42 times. ');
  // Every rule's check on the row (the engine would stop at the length pack: call the rules directly).
  const rules = await loadRules(builtinPackNames());
  const time = (text: string): number => {
    const t0 = performance.now();
    for (const rule of rules) if (!rule.stateful) rule.check(text, { line: 1, value: {} });
    return (performance.now() - t0) / 1000;
  };
  time(benign);
  const reference = time(benign);
  const worst = Math.max(...hostile.map(time));
  return {
    name: 'slowest hostile 1 MB row through every built-in pack (RE2 / linear scans)',
    value: worst,
    unit: 's',
    target: '< 1 s',
    reference: { name: 'benign 1 MB prose row, same rules (s)', value: reference },
    ratio: worst / reference,
    pass: worst < 1,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await benchFilters(process.argv[2] ? Number(process.argv[2]) : undefined);
  for (const r of results) {
    const ref = r.reference ? `  vs ${r.reference.name}: ${r.reference.value.toFixed(1)}${r.ratio !== undefined ? `  ratio ${r.ratio.toFixed(2)}` : ''}` : '';
    process.stdout.write(`${r.pass ? 'PASS' : 'FAIL'}  ${r.name}: ${r.value.toFixed(1)} ${r.unit}${ref}  (target ${r.target})\n`);
  }
}
