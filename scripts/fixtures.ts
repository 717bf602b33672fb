/**
 * `npm run fixtures`: builds fixtures/mnist (generator: test/fixtures/mnist.ts and mnist-case.ts)
 * and fixtures/tinylm, the tiny language-model case (test/fixtures/tinylm/); both deterministic.
 * `npm run fixtures -- mnist` or `-- tinylm` builds one of them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMnistFixtures } from '../test/fixtures/mnist.js';
import { ensureTinyLmFixtures } from '../test/fixtures/tinylm/index.js';

export { ensureMnistFixtures, MNIST_FIXTURE_DIR } from '../test/fixtures/mnist.js';
export { ensureTinyLmFixtures } from '../test/fixtures/tinylm/index.js';

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const only = process.argv.slice(2);
  if (only.length === 0 || only.includes('mnist')) await ensureMnistFixtures({}, log);
  if (only.length === 0 || only.includes('tinylm')) await ensureTinyLmFixtures({}, log);
}
