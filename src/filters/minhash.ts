/**
 * MinHash signatures over character shingles, and an LSH index with banding.
 * Deterministic: hash functions are derived from a seed. Jaccard(A, B) is estimated by the share of
 * equal signature slots; LSH makes pairs above roughly (1/bands)^(1/rows) likely to collide.
 */

/** murmur3's 32-bit finaliser: a cheap, well-mixed permutation of 32-bit integers. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Distinct FNV-1a hashes of the k-character shingles of text (the whole text when shorter). */
export function shingleHashes(text: string, k: number): Uint32Array {
  const n = Math.max(1, text.length - k + 1);
  const out = new Uint32Array(n);
  for (let s = 0; s < n; s++) {
    let h = 0x811c9dc5;
    const end = Math.min(text.length, s + k);
    for (let i = s; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    out[s] = h >>> 0;
  }
  return out;
}

export class MinHasher {
  private readonly seeds: Uint32Array;
  constructor(
    readonly numHashes: number,
    seed: number,
  ) {
    this.seeds = new Uint32Array(numHashes);
    let s = fmix32(seed ^ 0x9e3779b9);
    for (let i = 0; i < numHashes; i++) {
      s = fmix32(s + 0x9e3779b9);
      this.seeds[i] = s;
    }
  }

  signature(shingles: Uint32Array): Uint32Array {
    const sig = new Uint32Array(this.numHashes).fill(0xffffffff);
    for (let j = 0; j < shingles.length; j++) {
      const x = shingles[j]!;
      for (let i = 0; i < this.numHashes; i++) {
        const h = fmix32(x ^ this.seeds[i]!);
        if (h < sig[i]!) sig[i] = h;
      }
    }
    return sig;
  }
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * LSH over stored signatures: returns the id of a stored item at least `threshold`-similar, or -1.
 * Memory per stored item: its signature (4 bytes per hash, in one growing buffer) plus one bucket
 * entry per band (a bare id; an array only when ids share a bucket).
 */
export class LshIndex {
  private readonly buckets: Map<number, number | number[]>[] = [];
  private readonly width: number;
  private store: Uint32Array;
  private count = 0;
  constructor(
    readonly bands: number,
    readonly rowsPerBand: number,
    readonly threshold: number,
  ) {
    for (let b = 0; b < bands; b++) this.buckets.push(new Map());
    this.width = bands * rowsPerBand;
    this.store = new Uint32Array(this.width * 1024);
  }

  get size(): number {
    return this.count;
  }

  private bandKey(sig: Uint32Array, band: number): number {
    let h = 0x811c9dc5 ^ band;
    const start = band * this.rowsPerBand;
    for (let i = start; i < start + this.rowsPerBand; i++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[i]!);
    return h;
  }

  private similar(sig: Uint32Array, id: number): boolean {
    const stored = this.store.subarray(id * this.width, (id + 1) * this.width);
    return estimatedJaccard(sig, stored) >= this.threshold;
  }

  findSimilar(sig: Uint32Array): number {
    for (let b = 0; b < this.bands; b++) {
      const hit = this.buckets[b]!.get(this.bandKey(sig, b));
      if (hit === undefined) continue;
      if (typeof hit === 'number') {
        if (this.similar(sig, hit)) return hit;
      } else {
        for (const id of hit) if (this.similar(sig, id)) return id;
      }
    }
    return -1;
  }

  add(sig: Uint32Array): number {
    const id = this.count++;
    if (this.count * this.width > this.store.length) {
      const grown = new Uint32Array(this.store.length * 2);
      grown.set(this.store);
      this.store = grown;
    }
    this.store.set(sig, id * this.width);
    for (let b = 0; b < this.bands; b++) {
      const key = this.bandKey(sig, b);
      const bucket = this.buckets[b]!;
      const hit = bucket.get(key);
      if (hit === undefined) bucket.set(key, id);
      else if (typeof hit === 'number') bucket.set(key, [hit, id]);
      else hit.push(id);
    }
    return id;
  }
}
