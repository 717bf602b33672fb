/**
 * The candidate's draw in the text gate's test (src/stats/tests.ts drawAwareTest), simulated:
 * each control trains on its own drawn dataset, every student on the one candidate draw; per-seed
 * values are draw + seed noise (normal, seed sd 1). For a draw spread of 0-3x the seed spread and
 * a true shift of 0, 2 or 4 seed sds: the rate at which Welch's test and the draw-aware test call
 * it significant at alpha (the rate at shift 0 is the false-positive rate).
 *   npx tsx scripts/study-draw-test.ts [trials=4000] [alpha=0.01] [seeds=5]
 */
import { Random } from '../src/random.js';
import { drawAwareTest, welchTest } from '../src/stats/index.js';

const [trials = 4000, alpha = 0.01, seeds = 5] = process.argv.slice(2).map(Number);
const rng = new Random(3);
process.stdout.write(`| draw sd / seed sd | shift (seed sds) | Welch | draw-aware |\n| --- | --- | --- | --- |\n`);
for (const drawSd of [0, 0.5, 1, 3]) {
  for (const shift of [0, 2, 4]) {
    let welch = 0;
    let draw = 0;
    for (let i = 0; i < trials; i++) {
      const candidate = shift + drawSd * rng.normal();
      const student = Array.from({ length: seeds }, () => candidate + rng.normal());
      const control = Array.from({ length: seeds }, () => drawSd * rng.normal() + rng.normal());
      if (welchTest(student, control, 1, alpha).pValue < alpha) welch++;
      if (drawAwareTest(student, control, 1, alpha).pValue < alpha) draw++;
    }
    process.stdout.write(`| ${drawSd} | ${shift} | ${((100 * welch) / trials).toFixed(1)}% | ${((100 * draw) / trials).toFixed(1)}% |\n`);
  }
}
