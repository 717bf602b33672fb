import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { decodeModel, encodeModel, readModel, writeModel, writeModelWithExternalData } from '../../src/onnx/io.js';
import { onnx, tensorToFloat32 } from '../../src/onnx/proto.js';
import { mlpModel } from '../helpers/models.js';
import { useTempDirEach } from '../helpers/files.js';

const tmp = useTempDirEach('onnx-io-');

describe('model I/O', () => {
  it('round-trips a model through a file', async () => {
    const dir = tmp.dir;
    const model = mlpModel({ sizes: [4, 3, 2], seed: 1 });
    await writeModel(model, join(dir, 'm.onnx'));
    const back = await readModel(join(dir, 'm.onnx'));
    expect(Buffer.from(encodeModel(back))).toEqual(Buffer.from(encodeModel(model)));
  });

  it('inlines external-data initializers, and onnxruntime agrees on the result', async () => {
    const dir = tmp.dir;
    const model = mlpModel({ sizes: [40, 30, 2], seed: 2 });
    const path = join(dir, 'ext.onnx');
    await writeModelWithExternalData(model, path, 100);
    const small = (await stat(path)).size;
    expect(small).toBeLessThan(1000); // the weights went to ext.onnx.data
    expect((await stat(`${path}.data`)).size).toBe((40 * 30 + 30 + 30 * 2) * 4);
    const raw = onnx.ModelProto.decode(await readFile(path));
    expect(raw.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)).toHaveLength(3);

    const back = await readModel(path);
    for (const name of ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']) {
      const a = model.graph!.initializer!.find((t) => t.name === name)!;
      const b = back.graph!.initializer!.find((t) => t.name === name)!;
      expect(Array.from(tensorToFloat32(b as never))).toEqual(Array.from(tensorToFloat32(a as never)));
      expect(b.dataLocation).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    }
    // onnxruntime loading the external-data file directly gives the same outputs as our inlined copy.
    const input = new ort.Tensor('float32', Float32Array.from({ length: 40 }, (_, i) => i / 40), [1, 40]);
    const direct = await (await ort.InferenceSession.create(path)).run({ input });
    const inlined = await (await ort.InferenceSession.create(encodeModel(back))).run({ input });
    expect(Array.from(inlined.logits!.data as Float32Array)).toEqual(Array.from(direct.logits!.data as Float32Array));
  });

  it('names the file when it is not a model, is missing, or its external data is missing', async () => {
    const dir = tmp.dir;
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'this is not protobuf at all \xff\xff\xff');
    await expect(readModel(junk)).rejects.toThrow(AuditInputError);
    await expect(readModel(junk)).rejects.toThrow(`${junk}: not an ONNX model`);
    await expect(readModel(join(dir, 'absent.onnx'))).rejects.toThrow(/absent\.onnx: cannot read model \(ENOENT\)/);
    expect(() => decodeModel(new Uint8Array(), 'empty.onnx')).toThrow('empty.onnx: not an ONNX model');

    const path = join(dir, 'ext.onnx');
    await writeModelWithExternalData(mlpModel({ sizes: [40, 30, 2] }), path, 100);
    await writeFile(`${path}.data`, new Uint8Array(10));
    await expect(readModel(path)).rejects.toThrow(/ext\.onnx: tensor fc1\.weight declares 4800 bytes at offset 0 of ext\.onnx\.data, which holds 10/);
  });
});
