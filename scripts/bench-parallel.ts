/**
 * Parallel probe runs (run alone: `npx tsx scripts/bench-parallel.ts`): the full MNIST audit of
 * fixtures/mnist/audit.yaml with train.workers = 0 (one worker thread per core) against the same
 * audit with train.workers = 1 (serial), measured back to back in the same run; the two reports
 * must be identical apart from their run block. Target: parallel <= 0.6x serial on 2 cores.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../src/audit/audit.js';
import { loadAuditConfig } from '../src/config/index.js';
import { renderJson } from '../src/report/json.js';
import type { AuditReport } from '../src/report/schema.js';
import type { BenchResult } from './bench-train.js';
import { ensureMnistFixtures } from './fixtures.js';

const TARGET_RATIO = 0.6;

const results = (r: AuditReport): string => renderJson({ ...r, run: { startedAt: '', durationMs: 0, trainingMs: 0, steps: r.run.steps } });

export async function benchParallel(log: (line: string) => void = () => {}): Promise<BenchResult[]> {
  const dir = await ensureMnistFixtures({}, log);
  const timed = async (workers: number): Promise<{ ms: number; report: AuditReport }> => {
    const config = await loadAuditConfig({ file: path.join(dir, 'audit.yaml'), overrides: { train: { workers } } });
    const t0 = performance.now();
    const { report } = await audit(config);
    return { ms: performance.now() - t0, report };
  };
  const serial = await timed(1);
  const parallel = await timed(0);
  const same = results(serial.report) === results(parallel.report);
  const ratio = parallel.ms / serial.ms;
  log(`audit serial ${(serial.ms / 1000).toFixed(1)} s, ${parallel.report.run.workers} workers ${(parallel.ms / 1000).toFixed(1)} s (${ratio.toFixed(2)}x); reports ${same ? 'identical' : 'DIFFER'}`);
  return [
    {
      name: `audit MNIST with ${parallel.report.run.workers} workers (${availableParallelism()} cores) vs serial, same report`,
      value: parallel.ms / 1000,
      unit: 's',
      target: `<= ${TARGET_RATIO}x, identical report`,
      reference: { name: 'the same audit, train.workers = 1', value: serial.ms / 1000 },
      ratio,
      pass: ratio <= TARGET_RATIO && same,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [r] = await benchParallel((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${r!.pass ? 'PASS' : 'MISS'}  ${r!.name}: ${r!.value.toFixed(2)} s vs ${r!.reference!.value.toFixed(2)} s, ratio ${r!.ratio!.toFixed(2)}\n`);
}
