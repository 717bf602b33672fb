/**
 * `npm run bench`: every performance figure of DESIGN.md, each against its reference measured in
 * the same run (filters, training step, full MNIST audit, text training against PyTorch). Prints a table and writes
 * out/bench.json. Exit code 0 even on a MISS: this reports, CI decides.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { benchTrain, type BenchResult } from './bench-train.js';
import { benchAudit } from './bench-audit.js';
import { benchParallel } from './bench-parallel.js';
import { benchCache } from './bench-cache.js';
import { benchText } from './bench-text.js';
import { benchNarrowHead } from './bench-narrow-head.js';
import { benchGenerate, benchGenerateFinishedRows } from './bench-generate.js';
import { benchTinyLmAudit } from './bench-tinylm-audit.js';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Section {
  section: string;
  results: BenchResult[];
  seconds: number;
  error?: string;
}

async function section(name: string, run: () => Promise<BenchResult[]>): Promise<Section> {
  log(`${name}...`);
  const t0 = performance.now();
  try {
    const results = await run();
    return { section: name, results, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`${name}: not available (${error})`);
    return { section: name, results: [], seconds: (performance.now() - t0) / 1000, error };
  }
}

/** bench-filters.ts is another engineer's: loaded lazily so the bench runs without it. */
async function filters(): Promise<BenchResult[]> {
  const file = './bench-filters.js';
  const mod = (await import(file)) as { benchFilters?: () => Promise<BenchResult[]> };
  if (typeof mod.benchFilters !== 'function') throw new Error('scripts/bench-filters.ts has no benchFilters()');
  return mod.benchFilters();
}

const fmt = (x: number | undefined): string => {
  if (x === undefined || !Number.isFinite(x)) return '';
  const a = Math.abs(x);
  return a >= 1000 ? Math.round(x).toLocaleString('en-US') : a >= 10 ? x.toFixed(1) : x.toFixed(2);
};

function table(sections: readonly Section[]): string {
  const header = ['figure', 'value', 'unit', 'target', 'reference', 'ratio', 'result'];
  const rows = sections.flatMap((s) =>
    s.error
      ? [[`${s.section}: not available`, '', '', '', '', '', '']]
      : s.results.map((r) => [
          r.name,
          fmt(r.value),
          r.unit,
          r.target,
          r.reference ? `${fmt(r.reference.value)} (${r.reference.name})` : '',
          r.ratio !== undefined ? `${fmt(r.ratio)}x` : '',
          r.pass ? 'PASS' : 'MISS',
        ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 1 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const started = performance.now();
const sections: Section[] = [];
sections.push(await section('filters', filters));
sections.push(await section('train', () => benchTrain({ tfjs: true })));
sections.push(await section('audit', () => benchAudit(log)));
sections.push(await section('parallel', () => benchParallel(log)));
sections.push(await section('run cache', () => benchCache(log)));
sections.push(await section('text', () => benchText({ log })));
sections.push(await section('narrow head', () => benchNarrowHead({ log })));
sections.push(await section('generate', async () => [...(await benchGenerate()), ...(await benchGenerateFinishedRows())]));
sections.push(await section('tiny-lm audit', () => benchTinyLmAudit(log)));

log('');
log(table(sections));
const misses = sections.flatMap((s) => s.results).filter((r) => !r.pass).length;
log(`\n${misses === 0 ? 'all figures meet their targets' : `${misses} figure(s) MISS their target`} (bench ${((performance.now() - started) / 1000).toFixed(0)} s)`);

const out = path.resolve('out/bench.json');
await mkdir(path.dirname(out), { recursive: true });
await writeFile(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds: (performance.now() - started) / 1000, sections }, null, 2)}\n`,
);
log(`results: ${path.relative(process.cwd(), out)}`);
