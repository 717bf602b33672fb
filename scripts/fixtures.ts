/** `npm run fixtures`: builds fixtures/mnist (generator: test/fixtures/mnist.ts and mnist-case.ts). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMnistFixtures } from '../test/fixtures/mnist.js';

export { ensureMnistFixtures, MNIST_FIXTURE_DIR } from '../test/fixtures/mnist.js';

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await ensureMnistFixtures({}, (line) => process.stdout.write(`${line}\n`));
}
