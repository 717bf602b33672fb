/**
 * `npm run fuzz [-- --rounds N]`: the property tests with fresh random seeds, N rounds (default 10).
 * `npm test` pins fast-check's seed (test/setup-fast-check.ts) so CI is repeatable; this is where
 * new counterexamples are hunted. Stops at the first failing round and prints how to replay it:
 * fast-check's report names the seed, and `FC_SEED=<seed> npx vitest run <file>` reruns it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args[at + 1]) : 10;
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`fuzz: --rounds must be a positive integer, got ${JSON.stringify(args[at + 1])}\n`);
  process.exit(2);
}

const files = (readdirSync(path.join(root, 'test'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => path.join('test', f))
  .filter((f) => readFileSync(path.join(root, f), 'utf8').includes("from 'fast-check'"))
  .sort();

for (let round = 1; round <= rounds; round++) {
  process.stdout.write(`fuzz round ${round}/${rounds}: ${files.length} files with property tests\n`);
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], { cwd: root, stdio: 'inherit', env: { ...process.env, FC_SEED: 'random' } });
  if (r.status !== 0) {
    process.stdout.write(`fuzz: round ${round} failed; replay with FC_SEED=<the seed above> npx vitest run <file>\n`);
    process.exit(1);
  }
}
process.stdout.write(`fuzz: ${rounds} rounds passed\n`);
