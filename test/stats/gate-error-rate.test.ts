/**
 * The gate's false-FAIL rate, measured (fast version of scripts/study-null.ts): clean-vs-clean
 * audits of a small model with their own seeds and independently drawn clean sets, decided by the
 * gate's statistics with seeds in stages. At minEffect 0 (the test alone, the most sensitive
 * setting) and alpha 0.05, the observed rate must not exceed alpha beyond its 95% Clopper-Pearson
 * interval; and a clear transfer must be detected.
 */
import { describe, expect, it } from 'vitest';
import { simulateGate } from '../../src/audit/gateSim.js';

describe("the gate's error rates", () => {
  it('keeps the false-FAIL rate at alpha on clean-vs-clean audits and detects a clear transfer', async () => {
    const policy = { alpha: 0.05, minEffect: 0, test: 'welch' as const, correction: 'holm' as const };
    const [nullRow, transfer] = await simulateGate({ audits: 40, effects: [0, 0.5], policy, seeds: 5, firstSeeds: 3, sequential: true, rows: 192, epochs: 1, seed: 3 }).then((rows) => [rows[0]!, rows[1]!]);
    expect(nullRow.audits).toBe(40);
    // The interval's lower end above alpha would mean the gate fails clean data too often.
    expect(nullRow.ci[0]).toBeLessThanOrEqual(policy.alpha);
    expect(transfer.rate).toBeGreaterThan(0.9);
  }, 180_000);
});
