/**
 * The run cache (run alone: `npx tsx scripts/bench-cache.ts`): the full MNIST audit of
 * fixtures/mnist/audit.yaml with an empty `cache:` folder (every run trained and stored: the
 * reference) and then again on the filled folder (every run read), back to back in the same run;
 * the two reports must be identical apart from their run block. Target: the re-run <= 0.6x.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

export async function benchCache(log: (line: string) => void = () => {}): Promise<BenchResult[]> {
  const dir = await ensureMnistFixtures({}, log);
  const cache = await mkdtemp(path.join(tmpdir(), 'bench-cache-'));
  try {
    const timed = async (): Promise<{ ms: number; report: AuditReport }> => {
      const config = await loadAuditConfig({ file: path.join(dir, 'audit.yaml'), overrides: { cache } });
      const t0 = performance.now();
      const { report } = await audit(config);
      return { ms: performance.now() - t0, report };
    };
    const first = await timed();
    const again = await timed();
    const same = results(first.report) === results(again.report);
    const ratio = again.ms / first.ms;
    const runs = again.report.run.cachedRuns ?? 0;
    log(`audit with an empty run cache ${(first.ms / 1000).toFixed(1)} s, re-run ${(again.ms / 1000).toFixed(1)} s (${ratio.toFixed(2)}x, ${runs} runs read); reports ${same ? 'identical' : 'DIFFER'}`);
    return [
      {
        name: `audit MNIST re-run on a filled run cache (${runs} runs read), same report`,
        value: again.ms / 1000,
        unit: 's',
        target: `<= ${TARGET_RATIO}x, identical report`,
        reference: { name: 'the same audit, empty cache', value: first.ms / 1000 },
        ratio,
        pass: ratio <= TARGET_RATIO && same && runs > 0,
      },
    ];
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [r] = await benchCache((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${r!.pass ? 'PASS' : 'MISS'}  ${r!.name}: ${r!.value.toFixed(2)} s vs ${r!.reference!.value.toFixed(2)} s, ratio ${r!.ratio!.toFixed(2)}\n`);
}
