/** restrictTopLogprobs: what a soft row keeps when its top lists are cut to a token set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restrictTopLogprobs } from '../../src/models/logprobs.js';

const TOKENS = ['1', '2', '3', ',', '\n', 'owl', 'cat'];

describe('restrictTopLogprobs', () => {
  it('keeps allowed tokens and the sampled one, renormalised: a distribution whose sampled logprob is <= 0', () => {
    const position = fc
      .tuple(fc.uniqueArray(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: TOKENS.length }), fc.array(fc.double({ min: -30, max: 0, noNaN: true }), { minLength: TOKENS.length, maxLength: TOKENS.length }), fc.nat())
      .map(([top, lps, pick]) => {
        const list = top.map((token, i) => ({ token, logprob: lps[i]! }));
        // Now and then a sampled token from outside the top list (a tail draw).
        const sampled = pick % 3 === 0 && !top.includes('cat') ? { token: 'cat', logprob: -31 } : list[pick % list.length]!;
        return { token: sampled.token, logprob: sampled.logprob, top_logprobs: list };
      });
    fc.assert(
      fc.property(fc.array(position, { minLength: 1, maxLength: 6 }), fc.subarray(TOKENS), (content, allowedList) => {
        const allowed = new Set(allowedList);
        const out = restrictTopLogprobs({ content }, (t) => allowed.has(t));
        out.content.forEach((c, i) => {
          expect(c.token).toBe(content[i]!.token);
          expect(c.top_logprobs.every((t) => allowed.has(t.token) || t.token === c.token)).toBe(true);
          expect(c.top_logprobs.find((t) => t.token === c.token)?.logprob).toBe(c.logprob);
          expect(c.logprob).toBeLessThanOrEqual(1e-12);
          expect(c.top_logprobs.reduce((s, t) => s + Math.exp(t.logprob), 0)).toBeCloseTo(1, 9);
          // Relative odds of what is kept do not change.
          const kept = c.top_logprobs;
          if (kept.length >= 2) {
            const src = (t: string) => content[i]!.top_logprobs.find((x) => x.token === t)?.logprob ?? content[i]!.logprob;
            expect(kept[0]!.logprob - kept[1]!.logprob).toBeCloseTo(src(kept[0]!.token) - src(kept[1]!.token), 9);
          }
        });
      }),
    );
  });
});
