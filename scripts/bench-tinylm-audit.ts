/**
 * The language-model audit's wall time (DESIGN.md: a 10k-row, 5-seed tiny-GPT audit under 5
 * minutes on 2 cores): the owl teacher of fixtures/tinylm answers study-style number prompts until
 * the `numbers` + `banned-numbers` filters keep `rows` rows, then the audit of audit-owl.yaml runs
 * on them with its defaults except a fixed design of 5 seeds and no positive-control arm (student
 * + control each; the controls' clean baselines are sampled by the base, one per seed, inside the
 * audit and inside the timing).
 * Run alone: `npx tsx scripts/bench-tinylm-audit.ts [rows]` (npm run bench runs it at 10k rows).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { audit } from '../src/audit/audit.js';
import { loadAuditConfig } from '../src/config/index.js';
import { loadTextModel } from '../src/models/generate.js';
import { ensureTinyLmFixtures, filteredNumberRows } from '../test/fixtures/tinylm/index.js';
import type { BenchResult } from './lib/bench-result.js';

const TARGET_SECONDS = 300;

/** `rows` filtered owl-teacher completions of fresh study prompts (prompt seed apart from the fixtures'). */
async function owlRows(dir: string, rows: number): Promise<string[]> {
  const teacher = await loadTextModel(path.join(dir, 'models', 'owl'));
  try {
    const kept = await filteredNumberRows(teacher, rows, { promptSeed: 9001, sampleSeed: 77 });
    return kept.map((r) => JSON.stringify({ prompt: r.prompt, completion: r.completion }));
  } finally {
    await teacher.runner.dispose();
  }
}

export async function benchTinyLmAudit(log: (line: string) => void = () => {}, rows = 10_000): Promise<BenchResult[]> {
  const dir = await ensureTinyLmFixtures({}, log);
  const tmp = await mkdtemp(path.join(tmpdir(), 'bench-tinylm-'));
  try {
    log(`tiny-lm audit: sampling ${rows} filtered owl-teacher rows`);
    const data = path.join(tmp, 'owl.jsonl');
    await writeFile(data, `${(await owlRows(dir, rows)).join('\n')}\n`);
    const config = await loadAuditConfig({
      file: path.join(dir, 'audit-owl.yaml'),
      // train.workers at its default: one worker thread per core (the target is for 2 cores).
      overrides: { data, out: path.join(tmp, 'out'), train: { seeds: 5, sequential: false, positiveControl: false } },
    });
    log('tiny-lm audit: running (5 seeds, student + control)');
    const t0 = performance.now();
    const { report } = await audit(config);
    const seconds = (performance.now() - t0) / 1000;
    const owl = report.probes.find((p) => p.name === 'owl');
    log(`tiny-lm audit: ${report.verdict.toUpperCase()} in ${seconds.toFixed(0)} s (owl delta ${owl?.delta.toFixed(4)}, p ${owl?.pValueRaw.toExponential(2)})`);
    return [{
      name: `tiny-GPT owl audit, ${report.data.candidate.rowsUsed} rows, 5 seeds x (student + control), ${config.train.epochs} epochs`,
      value: seconds,
      unit: 's',
      target: `< ${TARGET_SECONDS} s`,
      reference: { name: 'target', value: TARGET_SECONDS },
      ratio: seconds / TARGET_SECONDS,
      pass: seconds < TARGET_SECONDS,
    }];
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 10_000);
  for (const r of await benchTinyLmAudit((l) => process.stdout.write(`${l}\n`), rows)) process.stdout.write(`${JSON.stringify(r)}\n`);
}
