/**
 * Reading and writing ONNX files. External-data initializers (data_location = EXTERNAL, with
 * location/offset/length relative to the model's folder) are loaded and inlined on read.
 */
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AuditInputError } from '../errors.js';
import { DataType, dimsOf, onnx, type ModelProto, type TensorProto } from './proto.js';

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
  // The folder by its real path (symlinks followed), also for a bare file name in the working dir.
  await inlineExternalData(model, await realFolder(path), path);
  checkTensorSizes(model, path);
  return model;
}

export async function writeModel(model: ModelProto, path: string): Promise<void> {
  await writeFile(path, encodeModel(model));
}

async function realFolder(file: string): Promise<string> {
  try {
    return await realpath(dirname(resolve(file)));
  } catch (e) {
    throw new AuditInputError(`${file}: cannot read model folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
}

/** True when `inner` is `outer` or below it, compared by path segments (not as a string prefix). */
function isInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '' && rel.split(sep)[0] !== '..' && !isAbsolute(rel);
}

function tensorsOf(model: ModelProto): TensorProto[] {
  const tensors: TensorProto[] = [...((model.graph?.initializer ?? []) as TensorProto[])];
  for (const node of model.graph?.node ?? []) for (const a of node.attribute ?? []) if (a.t) tensors.push(a.t as TensorProto);
  return tensors;
}

/**
 * Loads every external-data tensor (initializers and Constant attributes) into raw_data. A location
 * must resolve, after realpath (symlinks followed), to a file inside the model's own folder, and
 * the declared [offset, offset + length) must lie within that file and match the tensor's size.
 */
async function inlineExternalData(model: ModelProto, folder: string, file: string): Promise<void> {
  const cache = new Map<string, Uint8Array>();
  for (const t of tensorsOf(model)) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = (key: string): string | undefined => t.externalData.find((e) => e.key === key)?.value ?? undefined;
    const location = entry('location');
    if (!location) throw new AuditInputError(`${file}: tensor ${t.name} has external data without a location`, { file });
    const leaves = () => new AuditInputError(`${file}: tensor ${t.name} external data location ${location} leaves the model folder`, { file });
    if (isAbsolute(location) || location.includes('\0')) throw leaves();
    if (!isInside(join(folder, location), folder)) throw leaves();
    let target: string;
    try {
      target = await realpath(join(folder, location));
    } catch {
      throw new AuditInputError(`${file}: tensor ${t.name} external data file ${location} not found`, { file });
    }
    if (!isInside(target, folder)) throw leaves();
    const offset = Number(entry('offset') ?? 0);
    const declared = entry('length');
    let blob = cache.get(target);
    if (!blob) {
      const size = await stat(target).then((s) => (s.isFile() ? s.size : -1), () => -1);
      if (size < 0) throw new AuditInputError(`${file}: tensor ${t.name} external data ${location} is not a readable file`, { file });
      const need = tensorBytes(t);
      // Checked before reading: a small model cannot make us read (or allocate) far more than it holds.
      if (need !== null && (!Number.isSafeInteger(offset) || offset < 0 || offset + need > size)) {
        throw new AuditInputError(`${file}: tensor ${t.name} declares ${need} bytes at offset ${offset} of ${location}, which holds ${size}`, { file });
      }
      blob = new Uint8Array(await readFile(target));
      cache.set(target, blob);
    }
    const length = declared !== undefined ? Number(declared) : blob.length - offset;
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= blob.length)) {
      throw new AuditInputError(`${file}: tensor ${t.name} external data [${offset}, ${offset + length}) is outside ${location} (${blob.length} bytes)`, { file });
    }
    t.rawData = blob.slice(offset, offset + length);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
}

/** Bytes per element of the fixed-size data types. */
const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.BFLOAT16]: 2,
};

/** Bytes a tensor's dims and type declare, or null when the type has no fixed size; throws on impossible dims. */
function tensorBytes(t: TensorProto): number | null {
  const per = ELEMENT_BYTES[t.dataType];
  if (per === undefined) return null;
  let n = per;
  for (const d of dimsOf(t)) {
    if (!Number.isSafeInteger(d) || d < 0) return Number.POSITIVE_INFINITY;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY;
}

/** Values held in the typed fields of a tensor (float_data, int64_data, ...), when raw_data is empty. */
function typedValues(t: TensorProto): number {
  return Math.max(t.floatData?.length ?? 0, t.int32Data?.length ?? 0, t.int64Data?.length ?? 0, t.doubleData?.length ?? 0, t.uint64Data?.length ?? 0);
}

/**
 * Every tensor's declared size (dims x element size) must match the bytes it holds, before any
 * weight is read out or a parameter counted: a 4-byte file cannot claim 10 billion parameters.
 */
export function checkTensorSizes(model: ModelProto, file: string): void {
  for (const t of tensorsOf(model)) {
    const need = tensorBytes(t);
    if (need === null) continue;
    const per = ELEMENT_BYTES[t.dataType]!;
    const raw = t.rawData?.length ?? 0;
    const have = raw > 0 ? raw : typedValues(t) * per;
    // int32_data also carries 8- and 16-bit types and float16, one value per element.
    const haveElements = raw > 0 ? raw / per : typedValues(t);
    if (have !== need && haveElements * per !== need) {
      const dims = `[${dimsOf(t).join(', ')}]`;
      throw new AuditInputError(`${file}: tensor ${t.name || '(unnamed)'} declares dims ${dims} (${need} bytes) but holds ${raw > 0 ? raw : haveElements * per} bytes`, { file });
    }
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
