import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { probeRunsOf } from '../../src/audit/probeSets.js';
import { AuditInputError } from '../../src/errors.js';
import { initCosine, MIN_INIT_COSINE, teacherUpdate } from '../../src/probes/weights.js';
import { Random } from '../../src/random.js';
import { loadProbe, validateProbe, type ProbeLoadContext, type TensorProbeModel } from '../../src/probes/index.js';
import type { Weights } from '../../src/train/weights.js';

const base: Weights = new Map([
  ['w', Float32Array.from([1, 2, 3, 4])],
  ['b', Float32Array.from([0.5, -0.5])],
]);
const teacher: Weights = new Map([
  ['w', Float32Array.from([1, 3, 3, 6])],
  ['b', Float32Array.from([0.5, -0.5])],
]);
const model = (parameters?: Weights): TensorProbeModel => ({ task: 'logits', ...(parameters ? { parameters } : {}), predict: () => Promise.reject(new Error('not read')) });
const ctx = (parameters?: { base: Weights; teacher: Weights }): ProbeLoadContext => ({
  task: 'logits',
  teacher: model(teacher),
  source: 'audit.yaml',
  skipBadRows: false,
  ...(parameters ? { parameters } : {}),
});
const load = (parameters = { base, teacher }) => loadProbe({ name: 'direction', kind: 'weights' }, ctx(parameters));
/** base + a (teacher - base) + the given move orthogonal to teacher - base. */
const along = (a: number, orthogonal = 0): Weights =>
  new Map([
    ['w', Float32Array.from([1 + orthogonal, 2 + a + 2 * orthogonal, 3 + orthogonal, 4 + 2 * a - orthogonal])],
    ['b', Float32Array.from([0.5 + orthogonal, -0.5 - 3 * orthogonal])],
  ]);

describe('weights probe: the share of the teacher update (teacher - base) a model moved along', () => {
  it('is 0 at the base, 1 at the teacher, a at base + a (teacher - base), whatever moves orthogonally', async () => {
    const probe = await load();
    expect(probe.kind).toBe('weights');
    expect(probe.towardTeacher).toBe(1);
    expect(probe.metric).toBe('share of teacher - base along it (6 parameters)');
    expect((await probe.score(model(base))).value).toBe(0);
    expect((await probe.score(model(teacher))).value).toBe(1);
    await fc.assert(
      fc.asyncProperty(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), async (a, o) => {
        expect((await probe.score(model(along(a, o)))).value).toBeCloseTo(a, 4);
      }),
    );
  });

  it('counts a parameter the model does not hold (or holds at another size) as not moved', async () => {
    const probe = await load();
    expect((await probe.score(model(new Map([['b', Float32Array.from([9, 9])]])))).value).toBe(0);
    expect((await probe.score(model(new Map([['w', Float32Array.from([1, 3, 3])]])))).value).toBe(0);
    expect((await probe.score(model(new Map([['w', Float32Array.from([1, 3, 3, 6])]])))).value).toBe(1);
  });

  it('is refused in one line without local parameters, when the teacher is the base, and on a model with none', async () => {
    await expect(loadProbe({ name: 'direction', kind: 'weights' }, ctx())).rejects.toThrow(/probe direction: a weights probe needs the teacher's and the base's parameters/);
    await expect(load({ base, teacher: base })).rejects.toThrow(/teacher - base is zero \(the teacher is the base\)/);
    await expect(load({ base, teacher: new Map([['other', Float32Array.from([1])]]) })).rejects.toThrow(/share no parameter/);
    await expect(load({ base, teacher: new Map([['w', Float32Array.from([1, 2, Number.NaN, 4])]]) })).rejects.toThrow(/not finite/);
    await expect((await load()).score(model())).rejects.toBeInstanceOf(AuditInputError);
  });

  it('takes no fields, and applies to tensor and local text models, not to models behind a chat API', () => {
    expect(() => validateProbe({ name: 'd', kind: 'weights' }, 'weights', 'text', 'audit.yaml')).not.toThrow();
    expect(() => validateProbe({ name: 'd', kind: 'weights', data: 'x.jsonl' }, 'weights', 'logits', 'audit.yaml')).toThrow(/data/);
    expect(() => validateProbe({ name: 'd', kind: 'weights' }, 'weights', 'chat', 'audit.yaml')).toThrow(AuditInputError);
  });

  it('leaves cross-init students out: they start from another init, not from the base the share is measured from', async () => {
    const loaded = await load();
    const score = (value: number) => ({ direction: { value } });
    const runs = probeRunsOf({ config: { name: 'direction', kind: 'weights' }, loaded }, { base: score(0), teacher: score(1), student: [score(0.1), score(0.12)], control: [score(0), score(-0.01)], crossInit: [score(-7), score(3)] });
    expect(runs).toMatchObject({ base: 0, teacher: 1, student: [0.1, 0.12], control: [0, -0.01] });
    expect(runs.crossInit).toBeUndefined();
  });

  it('is refused for a teacher that does not descend from the base (another init), accepted for a fine-tune of it', async () => {
    const draw = (seed: number): Weights => {
      const r = new Random(seed);
      // A LayerNorm-like gain of 1 everywhere: shared by every init, so it must not count as shared history.
      return new Map([
        ['matrix', Float32Array.from({ length: 4096 }, () => r.normal())],
        ['gain', Float32Array.from({ length: 64 }, () => 1 + 0.01 * r.normal())],
      ]);
    };
    const [mine, other] = [draw(1), draw(2)];
    const noise = new Random(3);
    const fineTune: Weights = new Map([...mine].map(([k, v]) => [k, v.map((x) => x + 0.5 * noise.normal())]));
    expect(Math.abs(initCosine(teacherUpdate(mine, other, 'p')))).toBeLessThan(0.05);
    expect(initCosine(teacherUpdate(mine, fineTune, 'p'))).toBeGreaterThan(0.8);
    await expect(load({ base: mine, teacher: other })).rejects.toThrow(/probe direction: the teacher does not descend from the base \(centred cosine of their parameters -?0\.0\d\d, below 0\.2/);
    await expect(load({ base: mine, teacher: fineTune })).resolves.toMatchObject({ kind: 'weights' });
    expect(MIN_INIT_COSINE).toBe(0.2);
  });
});
