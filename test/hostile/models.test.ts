/**
 * Issue 12, class 2 "model files stay in their folder": external-data locations resolve (after
 * realpath, symlinks followed) inside the model's own folder, compared by path segments; a model
 * given by a bare file name works the same; a tensor's declared size must match the bytes present
 * before anything is read, allocated or counted.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMlp } from '../../src/models/mlp.js';
import { encodeModel, readModel, writeModelWithExternalData } from '../../src/onnx/io.js';
import { onnx, type ModelProto, type TensorProto } from '../../src/onnx/proto.js';
import { AuditInputError } from '../../src/errors.js';
import { expectInputError, scratch } from './helpers.js';

const tmp = scratch('models');
const folder = (): string => path.dirname(tmp.file('x', ''));

/** A 4-3-2 MLP whose first weight lives in external data at `location` (relative to the model). */
function withLocation(location: string): ModelProto {
  const model = buildMlp({ sizes: [4, 3, 2], seed: 1 });
  const t = model.graph!.initializer![0] as TensorProto;
  t.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: location })];
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.rawData = new Uint8Array();
  return model;
}

describe('external data stays in the model folder', () => {
  it('a location that is a symlink to a file outside the folder is refused', async () => {
    const dir = folder();
    const outside = path.join(dir, 'secret.bin');
    writeFileSync(outside, new Uint8Array(48));
    mkdirSync(path.join(dir, 'model'));
    symlinkSync(outside, path.join(dir, 'model', 'weights.bin'));
    const file = path.join(dir, 'model', 'm.onnx');
    await writeFile(file, encodeModel(withLocation('weights.bin')));
    await expectInputError(readModel(file), /m\.onnx: tensor .* external data location weights\.bin leaves the model folder/);
  });
  it('a sibling folder whose name starts like the model folder is outside it (segments, not string prefix)', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'model'));
    mkdirSync(path.join(dir, 'model-evil'));
    writeFileSync(path.join(dir, 'model-evil', 'w.bin'), new Uint8Array(48));
    const file = path.join(dir, 'model', 'm.onnx');
    await writeFile(file, encodeModel(withLocation('../model-evil/w.bin')));
    await expectInputError(readModel(file), /leaves the model folder/);
  });
  it('property: no location made of "..", "/", names and symlinks reads a file outside the folder', async () => {
    const dir = folder();
    const inner = path.join(dir, 'm');
    mkdirSync(path.join(inner, 'sub'), { recursive: true });
    // Outside bytes are 0xff, inside bytes 0: what was read tells where it came from.
    writeFileSync(path.join(dir, 'outside.bin'), new Uint8Array(48).fill(255));
    writeFileSync(path.join(inner, 'inside.bin'), new Uint8Array(48));
    symlinkSync(dir, path.join(inner, 'up'));
    symlinkSync(path.join(dir, 'outside.bin'), path.join(inner, 'sub', 'out.bin'));
    const file = path.join(inner, 'm.onnx');
    const segment = fc.constantFrom('..', '.', 'm', 'sub', 'up', 'inside.bin', 'outside.bin', 'out.bin', '');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), async (parts) => {
        const location = parts.join('/');
        await writeFile(file, encodeModel(withLocation(location)));
        let model: ModelProto;
        try {
          model = await readModel(file);
        } catch (e) {
          expect(e).toBeInstanceOf(AuditInputError);
          return;
        }
        const raw = (model.graph!.initializer![0] as TensorProto).rawData;
        expect(raw.length).toBe(48);
        expect(raw.every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
  it('a model given by a bare file name in the working directory reads its external data', async () => {
    const dir = folder();
    await writeModelWithExternalData(buildMlp({ sizes: [40, 30, 2], seed: 3 }), path.join(dir, 'bare.onnx'), 100);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const model = await readModel('bare.onnx');
      expect((model.graph!.initializer![0] as TensorProto).rawData.length).toBe(40 * 30 * 4);
      await writeFile('evil.onnx', encodeModel(withLocation('../outside.bin')));
      await expectInputError(readModel('evil.onnx'), /leaves the model folder/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('declared tensor sizes match the bytes present', () => {
  it('4 bytes cannot claim 10 billion parameters (inline raw data)', async () => {
    const model = buildMlp({ sizes: [4, 3, 2], seed: 1 });
    const t = model.graph!.initializer![0] as TensorProto;
    t.dims = [100_000, 100_000];
    t.rawData = new Uint8Array(4);
    const file = tmp.file('huge.onnx', encodeModel(model));
    await expectInputError(readModel(file), /huge\.onnx: tensor .* declares dims \[100000, 100000\] \(40000000000 bytes\) but holds 4 bytes/);
  });
  it('external data shorter than the declared tensor is refused before it is read', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(4));
    const model = withLocation('w.bin');
    (model.graph!.initializer![0] as TensorProto).dims = [100_000, 100_000];
    await writeFile(path.join(dir, 'm.onnx'), encodeModel(model));
    await expectInputError(readModel(path.join(dir, 'm.onnx')), /declares 40000000000 bytes at offset 0 of w\.bin, which holds 4/);
  });
  it('negative or absurd dims are refused, float_data counts are checked too', async () => {
    const model = buildMlp({ sizes: [4, 3, 2], seed: 1 });
    const t = model.graph!.initializer![0] as TensorProto;
    t.floatData = [1, 2, 3];
    t.rawData = new Uint8Array();
    t.dims = [2, 2];
    await expectInputError(readModel(tmp.file('fd.onnx', encodeModel(model))), /declares dims \[2, 2\] \(16 bytes\) but holds 12 bytes/);
    t.dims = [-1, 3];
    await expectInputError(readModel(tmp.file('neg.onnx', encodeModel(model))), /declares dims \[-1, 3\]/);
  });
});
