import { describe, expect, it } from 'vitest';
import { clopperPearson } from '../../src/stats/index.js';

describe('clopperPearson', () => {
  it('matches published exact intervals', () => {
    // 0/200: upper 1 - 0.025^(1/200) = 0.01827; 5/100: [0.01643, 0.11283] (R binom.test).
    expect(clopperPearson(0, 200)[1]).toBeCloseTo(1 - 0.025 ** (1 / 200), 6);
    const [lo, hi] = clopperPearson(5, 100);
    expect(lo).toBeCloseTo(0.01643, 4);
    expect(hi).toBeCloseTo(0.11283, 4);
    expect(clopperPearson(10, 10)).toEqual([expect.closeTo(0.025 ** (1 / 10), 6), 1]);
    expect(() => clopperPearson(3, 2)).toThrow(RangeError);
  });
});
