import { describe, expect, it } from 'vitest';
import { checkGradients } from './check.js';

describe('MLP rules against finite differences', () => {
  it('Gemm transB=1 + bias, Relu', async () => {
    const r = await checkGradients({
      inputs: { x: { dims: [4, 5] }, w: { dims: [3, 5] }, c: { dims: [3] } },
      wrt: ['x', 'w', 'c'],
      build: (b) => b.op('Relu', [b.op('Gemm', ['x', 'w', 'c'], { transB: 1 })]),
    });
    expect(r.details).toEqual([]);
    expect(r.worst).toBeLessThanOrEqual(1);
    // Performance: no Transpose nodes; dW and dX are Gemms.
    expect(r.backwardOps).not.toContain('Transpose');
    expect(r.backwardOps.filter((o) => o === 'Gemm')).toHaveLength(2);
  });
});
