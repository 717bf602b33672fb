/**
 * Tied weights as exporters leave them. torch.onnx.export's constant folding turns a tied LM head
 * (`lm_head.weight = wte.weight`, used as `h @ wte.weight^T`) into a second initializer holding
 * wte.weight^T, so the ONNX file has two copies of one parameter; trained as two, the tie breaks.
 * `retieWeights` finds such folded constants (named `onnx::...` by the exporter) that are exact
 * copies or exact 2-D transposes of another float initializer, and reads them from the original
 * instead (through one Transpose node), so one parameter gets the summed gradient, as in PyTorch.
 * Only exporter-named constants with non-uniform values count: two parameters that merely start
 * equal (LayerNorm scales of ones, zero biases) stay separate. Apply it to the inference model
 * once, when loading: students saved from that graph keep the tie.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { floatInitializers } from '../onnx/graph.js';
import { DataType, dimsOf, graphOf, initializersOf, nodesOf, onnx, type ModelProto, type TensorProto } from '../onnx/proto.js';

export interface RetiedWeight {
  /** The initializer removed. */
  copy: string;
  /** The initializer it now reads from. */
  original: string;
  transposed: boolean;
}

/** Rewrites `model` in place; returns the copies it removed. */
export function retieWeights(model: ModelProto): RetiedWeight[] {
  const graph = graphOf(model);
  const params = floatInitializers(graph).filter((t) => t.dataType === DataType.FLOAT && t.rawData && t.rawData.length > 0 && dimsOf(t).length >= 1);
  const key = (dims: readonly number[]): string => dims.join('x');
  const byShape = new Map<string, TensorProto[]>();
  for (const t of params) byShape.set(key(dimsOf(t)), [...(byShape.get(key(dimsOf(t))) ?? []), t]);

  const found: RetiedWeight[] = [];
  const removed = new Set<string>();
  for (const copy of params) {
    if (!copy.name.startsWith(FOLDED_PREFIX) || uniform(copy)) continue;
    const dims = dimsOf(copy);
    const candidates: [TensorProto, boolean][] = [
      ...(byShape.get(key(dims)) ?? []).map((t): [TensorProto, boolean] => [t, false]),
      ...(dims.length === 2 && dims[0] !== dims[1] ? (byShape.get(key([dims[1]!, dims[0]!])) ?? []).map((t): [TensorProto, boolean] => [t, true]) : []),
    ];
    const original = candidates.find(([t, transposed]) => t !== copy && !removed.has(t.name) && isEarlier(graph.initializer as TensorProto[], t, copy) && same(t, copy, transposed));
    if (original) {
      found.push({ copy: copy.name, original: original[0].name, transposed: original[1] });
      removed.add(copy.name);
    }
  }
  if (found.length === 0) return [];

  const b = new GraphBuilder(graph, 'tied/');
  const replacement = new Map<string, string>();
  for (const r of found) {
    replacement.set(r.copy, r.transposed ? b.node('Transpose', [r.original], { perm: [1, 0] }, { outputs: [b.fresh(`${r.original}_T`)] })[0]! : r.original);
  }
  // The Transpose nodes were appended; move them to the front so the graph stays sorted.
  const added = graph.node.splice(graph.node.length - found.filter((r) => r.transposed).length);
  graph.node.unshift(...added);
  for (const node of nodesOf(graph)) node.input = node.input.map((v) => replacement.get(v) ?? v);
  for (const o of graph.output) if (replacement.has(o.name!)) o.name = replacement.get(o.name!)!;
  graph.initializer = initializersOf(graph).filter((t) => !removed.has(t.name));
  graph.input = graph.input.filter((i) => !removed.has(i.name!));
  return found;
}

/** A parameter the exporter had merged into another by value, given back its own initializer. */
export interface UntiedWeight {
  /** The parameter's own name (the Identity output the exporter wrote). */
  name: string;
  /** The initializer it had been merged into. */
  original: string;
}

/**
 * torch.onnx.export (eval mode) merges parameters whose VALUES are equal into one initializer and
 * writes each merged one as `Identity(kept)` under its own name: in a freshly initialized model
 * every LayerNorm scale (ones) and every bias of one width (zeros) becomes ONE initializer, which
 * trained as one parameter would tie what PyTorch trains separately. `untieMergedWeights` gives
 * each such Identity output its own initializer again (same name, same values). Only merges of
 * uniform tensors count: two non-uniform tensors with equal values are a real tie (the same
 * parameter), which stays shared. Rewrites `model` in place; returns what it untied.
 */
export function untieMergedWeights(model: ModelProto): UntiedWeight[] {
  const graph = graphOf(model);
  const inits = new Map(floatInitializers(graph).map((t) => [t.name, t]));
  const outputs = new Set(graph.output.map((o) => o.name!));
  const found: UntiedWeight[] = [];
  const identities = new Set<object>();
  for (const node of nodesOf(graph)) {
    if (node.opType !== 'Identity' || node.input.length !== 1 || node.output.length !== 1) continue;
    const source = inits.get(node.input[0]!);
    const name = node.output[0]!;
    if (!source || source.dataType !== DataType.FLOAT || !source.rawData?.length || dimsOf(source).length < 1 || !uniform(source)) continue;
    if (outputs.has(name) || inits.has(name)) continue;
    const copy = onnx.TensorProto.create({ name, dims: source.dims, dataType: source.dataType, rawData: new Uint8Array(source.rawData) });
    graph.initializer.push(copy);
    inits.set(name, copy as TensorProto);
    identities.add(node);
    found.push({ name, original: source.name });
  }
  if (found.length > 0) graph.node = graph.node.filter((n) => !identities.has(n));
  return found;
}

/** Both passes, as a model is loaded for training or scoring: merged uniform weights untied, folded tied copies re-tied. */
export function restoreParameters(model: ModelProto): { untied: UntiedWeight[]; retied: RetiedWeight[] } {
  const untied = untieMergedWeights(model);
  return { untied, retied: retieWeights(model) };
}

/** How torch.onnx.export names the constants its folding makes (e.g. onnx::MatMul_643). */
const FOLDED_PREFIX = 'onnx::';

function uniform(t: TensorProto): boolean {
  const v = floats(t);
  return v.every((x) => x === v[0]);
}

/** Keeps the initializer listed first as the original (the exporter lists parameters before folded constants). */
function isEarlier(all: readonly TensorProto[], a: TensorProto, b: TensorProto): boolean {
  return all.indexOf(a) < all.indexOf(b);
}

/** Bit-identical values (compared as bit patterns), b read as a's transpose when `transposed`. */
function same(a: TensorProto, b: TensorProto, transposed: boolean): boolean {
  const x = floats(a);
  const y = floats(b);
  if (x.length !== y.length) return false;
  if (!transposed) return x.every((v, i) => v === y[i]);
  const [rows, cols] = dimsOf(a) as [number, number];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (x[i * cols + j] !== y[j * rows + i]) return false;
  return true;
}

function floats(t: TensorProto): Uint32Array {
  const copy = new Uint8Array(t.rawData);
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}
