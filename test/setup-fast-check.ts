/**
 * Property tests run on a fixed seed so that `npm test` (and CI) gives the same result on every
 * run: a failure in CI can then be replayed, and a rare counterexample cannot turn a green commit
 * red later. `npm run fuzz` sets FC_SEED=random and repeats the property files with fresh seeds;
 * fast-check prints the seed of any failure, and FC_SEED=<that seed> replays it.
 */
import fc from 'fast-check';

const requested = process.env.FC_SEED ?? '';
if (requested !== 'random') {
  const seed = requested === '' ? 20_261_206 : Number(requested);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(requested)}`);
  fc.configureGlobal({ seed });
}
