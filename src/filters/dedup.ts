/**
 * Duplicate rows. Exact: identical text (a 53-bit hash of it; memory ~ kept rows). Near: MinHash over
 * character shingles of the normalised text (lower-cased, whitespace collapsed) with LSH banding;
 * a row is a near duplicate when its estimated Jaccard similarity to a kept row reaches `threshold`.
 * Stateful: only rows it keeps are remembered (the engine calls it only for otherwise-kept rows).
 * Memory grows with kept rows: ~16 bytes each for exact; about 0.5 KB signature + one Map entry per
 * band for near (~1.5 KB per row with the default 16 x 8): fine for study-size sets (30k rows),
 * heavy beyond a few hundred thousand rows (use mode: exact there).
 */
import { fmix32, LshIndex, MinHasher, shingleHashes } from './minhash.js';
import { KEEP, type Rule } from './rule.js';

export interface DedupOptions {
  mode?: 'exact' | 'near' | 'both';
  threshold?: number;
  shingle?: number;
  bands?: number;
  rowsPerBand?: number;
  seed?: number;
}

const EXACT: readonly string[] = Object.freeze(['exact duplicate']);
const NEAR: readonly string[] = Object.freeze(['near duplicate']);

/** Two independent 32-bit string hashes folded into one exact JS number (53 bits). */
export function textHash53(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x2545f491;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return fmix32(h1) * 0x200000 + (fmix32(h2) & 0x1fffff);
}

export function normaliseForNearDup(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

export function dedupRule(opts: DedupOptions = {}, name = 'dedup'): Rule {
  const mode = opts.mode ?? 'both';
  const bands = opts.bands ?? 16;
  const rowsPerBand = opts.rowsPerBand ?? 8;
  const shingle = opts.shingle ?? 5;
  const seen = new Set<number>();
  const hasher = new MinHasher(bands * rowsPerBand, opts.seed ?? 1);
  const index = new LshIndex(bands, rowsPerBand, opts.threshold ?? 0.8);
  const check = (text: string): readonly string[] => {
    let exactKey = 0;
    if (mode !== 'near') {
      exactKey = textHash53(text);
      if (seen.has(exactKey)) return EXACT;
    }
    if (mode !== 'exact') {
      const sig = hasher.signature(shingleHashes(normaliseForNearDup(text), shingle));
      if (index.findSimilar(sig) >= 0) return NEAR;
      index.add(sig);
    }
    if (mode !== 'near') seen.add(exactKey);
    return KEEP;
  };
  return { name, kind: 'dedup', stateful: true, check };
}
