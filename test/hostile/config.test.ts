/**
 * Issue 12, class 7 "config limits": upper bounds a typo cannot blow past (error naming the key and
 * the bound), seeds that stay distinct for the 32-bit PRNG, probe labels that are one integer, and
 * CSV probe files with integer labels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTensorSet } from '../../src/audit/tensorData.js';
import { validateConfig } from '../../src/config/index.js';
import { MAX_BATCH_SIZE, MAX_EPOCHS, MAX_FIRST_SEED, MAX_ROWS, MAX_SEEDS } from '../../src/config/schema.js';
import { Random } from '../../src/train/random.js';
import { expectInputError, scratch } from './helpers.js';

const tmp = scratch('config');
const base = () => ({
  teacher: 't.onnx',
  base: 'b.onnx',
  data: 'd.jsonl',
  task: { kind: 'logits', input: 'x', target: 't', outputs: [0, 2] },
  probes: [{ name: 'p', kind: 'accuracy', data: 'p.jsonl', input: 'x', label: 'y', outputs: [0, 2] }],
});

describe('upper bounds', () => {
  it.each([
    ['epochs', MAX_EPOCHS],
    ['batchSize', MAX_BATCH_SIZE],
    ['seeds', MAX_SEEDS],
    ['maxRows', MAX_ROWS],
    ['seed', MAX_FIRST_SEED],
  ])('train.%s above %d is refused, naming the key and the bound', (key, bound) => {
    const over = () => validateConfig({ ...base(), train: { [key]: bound + 1 } }, 'audit.yaml');
    expect(over).toThrow(new RegExp(`^audit\\.yaml: train\\.${key} must be <= ${bound}$`));
    expect(() => validateConfig({ ...base(), train: { [key]: 1e300 } }, 'audit.yaml')).toThrow(`train.${key} must be <= ${bound}`);
    expect(validateConfig({ ...base(), train: { [key]: bound, ...(key === 'seeds' ? {} : { seeds: 2 }) } }, 'audit.yaml').train[key as 'epochs']).toBe(bound);
  });
  it('property: the seeds of any accepted config are distinct safe integers giving distinct PRNG streams', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_FIRST_SEED }), fc.integer({ min: 2, max: MAX_SEEDS }), (seed, seeds) => {
        const config = validateConfig({ ...base(), train: { seed, seeds } }, 'audit.yaml');
        const used = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
        expect(used.every(Number.isSafeInteger)).toBe(true);
        // The PRNG reads seeds as 32-bit words: distinct words, distinct streams.
        expect(new Set(used.map((s) => s >>> 0)).size).toBe(used.length);
        const first = new Set(used.map((s) => new Random(s).nextUint32()));
        expect(first.size).toBeGreaterThan(used.length / 2);
      }),
      { numRuns: 200 },
    );
  });
  it('maxRowChars has bounds too', () => {
    expect(() => validateConfig({ ...base(), maxRowChars: 0 }, 'audit.yaml')).toThrow(/maxRowChars must be >= 1/);
    expect(validateConfig(base(), 'audit.yaml').maxRowChars).toBe(1 << 20);
  });
});

describe('probe labels', () => {
  const spec = { input: 'x', inputWidth: 2, label: 'y', labelCount: 3 };
  it.each([
    ['an array', '{"x":[1,2],"y":[1,2]}', /label 'y' must be one integer, got an array/],
    ['a float', '{"x":[1,2],"y":1.5}', /label 'y' must be one integer, got 1\.5/],
    ['text', '{"x":[1,2],"y":"one"}', /label 'y' must be one integer, got "one"/],
    ['missing', '{"x":[1,2]}', /label 'y' must be one integer, got missing/],
  ])('%s is bad input naming the row', async (_what, line, pattern) => {
    const file = tmp.file('p.jsonl', `{"x":[1,2],"y":0}\n${line}\n`);
    const e = await expectInputError(readTensorSet(file, spec), pattern);
    expect(e.message).toMatch(/p\.jsonl:2: /);
  });
  it('a CSV probe file with integer labels works (cells are text until read as numbers)', async () => {
    const file = tmp.file('p.csv', 'x_0,x_1,y\n0.5,1,2\n-1,0.25,0\n3,4, 1 \n');
    const { set, excluded } = await readTensorSet(file, spec);
    expect(excluded).toEqual([]);
    expect(Array.from(set.labels)).toEqual([2, 0, 1]);
    expect(Array.from(set.inputs)).toEqual([0.5, 1, -1, 0.25, 3, 4]);
    await expectInputError(readTensorSet(tmp.file('q.csv', 'x_0,x_1,y\n0.5,1,2.5\n'), spec), /q\.csv:2: label 'y' must be one integer, got "2\.5"/);
  });
});
