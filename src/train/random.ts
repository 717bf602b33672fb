/** The project's seeded PRNG moved to src/random.ts (below every layer, so onnx and stats use it too); this path stays for existing imports. */
export { Random } from '../random.js';
