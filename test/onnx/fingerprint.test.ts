import { describe, expect, it } from 'vitest';
import { compareArchitectures, fingerprint } from '../../src/onnx/fingerprint.js';
import { mlpModel } from '../helpers/models.js';

describe('architecture fingerprint', () => {
  it('same architecture, different weights: same', () => {
    const a = mlpModel({ sizes: [8, 6, 3], seed: 1 });
    const b = mlpModel({ sizes: [8, 6, 3], seed: 2 });
    expect(compareArchitectures(a, b)).toEqual({ same: true });
    expect(fingerprint(a).hash).toBe(fingerprint(b).hash);
    expect(fingerprint(a).paramCount).toBe(8 * 6 + 6 + 6 * 3 + 3);
    expect(fingerprint(a).params.map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  });

  it('names a parameter shape difference', () => {
    const a = mlpModel({ sizes: [8, 128, 128, 3] });
    const b = mlpModel({ sizes: [8, 128, 256, 3] });
    expect(compareArchitectures(a, b).firstDifference).toBe('fc2.weight: [128,128] vs [256,128]');
  });

  it('names an op difference with its index and node name', () => {
    const a = mlpModel({ sizes: [8, 6, 6, 3], activation: 'Relu' });
    const b = mlpModel({ sizes: [8, 6, 6, 3], activation: 'Tanh' });
    expect(compareArchitectures(a, b)).toEqual({ same: false, firstDifference: 'node 1 (/act1/Relu): op Relu vs Tanh' });
  });

  it('names a missing parameter, and which side lacks it', () => {
    const a = mlpModel({ sizes: [8, 6, 3] });
    const b = mlpModel({ sizes: [8, 6, 3, 3] });
    expect(compareArchitectures(b, a).firstDifference).toBe('parameter fc3.weight missing in OTHER');
    expect(compareArchitectures(a, b, ['base.onnx', 'teacher.onnx']).firstDifference).toBe('parameter fc3.weight missing in base.onnx');
  });

  it('names an attribute difference', () => {
    const a = mlpModel({ sizes: [8, 6, 3], style: 'gemm' });
    const b = mlpModel({ sizes: [8, 6, 3], style: 'gemm' });
    b.graph!.node![0]!.attribute!.find((x) => x.name === 'transB')!.i = 0;
    expect(compareArchitectures(a, b).firstDifference).toBe('node 0 (/fc1/Gemm): Gemm attribute transB 1 vs 0');
  });
});
