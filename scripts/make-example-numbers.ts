/**
 * Writes examples/numbers/candidate.jsonl from its seeded generator (test/fixtures/example-numbers.ts).
 * Run: npx tsx scripts/make-example-numbers.ts [out.jsonl] [rows]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeExampleRows } from '../test/fixtures/example-numbers.js';

{
  const out = resolve(process.argv[2] ?? 'examples/numbers/candidate.jsonl');
  const rows = makeExampleRows(Number(process.argv[3] ?? 300));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  process.stdout.write(`wrote ${rows.length} rows to ${out}\n`);
}
