/**
 * Reading and writing ONNX files. External-data initializers (data_location = EXTERNAL, with
 * location/offset/length relative to the model's folder) are loaded and inlined on read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { AuditInputError } from '../errors.js';
import { onnx, type ModelProto, type TensorProto } from './proto.js';

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array, fileForErrors = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new AuditInputError(`${fileForErrors}: not an ONNX model (${(e as Error).message})`, { file: fileForErrors });
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new AuditInputError(`${fileForErrors}: not an ONNX model (no graph nodes)`, { file: fileForErrors });
  }
  return model;
}

export async function readModel(path: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new AuditInputError(`${path}: cannot read model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
  const model = decodeModel(bytes, path);
  await inlineExternalData(model, dirname(path), path);
  return model;
}

export async function writeModel(model: ModelProto, path: string): Promise<void> {
  await writeFile(path, encodeModel(model));
}

/** Loads every external-data tensor (initializers and Constant attributes) into raw_data. */
async function inlineExternalData(model: ModelProto, folder: string, file: string): Promise<void> {
  const cache = new Map<string, Uint8Array>();
  const tensors: TensorProto[] = [...((model.graph?.initializer ?? []) as TensorProto[])];
  for (const node of model.graph?.node ?? []) for (const a of node.attribute ?? []) if (a.t) tensors.push(a.t as TensorProto);
  for (const t of tensors) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = (key: string): string | undefined => t.externalData.find((e) => e.key === key)?.value ?? undefined;
    const location = entry('location');
    if (!location) throw new AuditInputError(`${file}: tensor ${t.name} has external data without a location`, { file });
    const target = normalize(join(folder, location));
    if (isAbsolute(location) || !target.startsWith(normalize(folder))) {
      throw new AuditInputError(`${file}: tensor ${t.name} external data location ${location} leaves the model folder`, { file });
    }
    let blob = cache.get(target);
    if (!blob) {
      try {
        blob = await readFile(target);
      } catch {
        throw new AuditInputError(`${file}: tensor ${t.name} external data file ${location} not found`, { file });
      }
      cache.set(target, blob);
    }
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') !== undefined ? Number(entry('length')) : blob.length - offset;
    if (!(offset >= 0 && length >= 0 && offset + length <= blob.length)) {
      throw new AuditInputError(`${file}: tensor ${t.name} external data [${offset}, ${offset + length}) is outside ${location} (${blob.length} bytes)`, { file });
    }
    t.rawData = blob.slice(offset, offset + length);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
}

/**
 * Writes a model with every initializer of at least `threshold` bytes moved to one external data
 * file (`<model file>.data` beside it), the layout large exported models use.
 */
export async function writeModelWithExternalData(model: ModelProto, path: string, threshold = 1024): Promise<void> {
  const copy = onnx.ModelProto.decode(encodeModel(model));
  const dataName = `${path.split(/[\\/]/).pop()}.data`;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of (copy.graph?.initializer ?? []) as TensorProto[]) {
    if (!t.rawData || t.rawData.length < threshold) continue;
    const length = t.rawData.length;
    chunks.push(t.rawData);
    t.externalData = [
      onnx.StringStringEntryProto.create({ key: 'location', value: dataName }),
      onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
      onnx.StringStringEntryProto.create({ key: 'length', value: String(length) }),
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = new Uint8Array();
    offset += length;
  }
  await writeFile(join(dirname(path), dataName), Buffer.concat(chunks));
  await writeFile(path, encodeModel(copy));
}
