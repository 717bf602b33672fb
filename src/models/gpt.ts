/**
 * A GPT-2-style decoder as PyTorch's ONNX exporter writes Hugging Face's GPT2LMHeadModel:
 * inputs `input_ids` and `attention_mask` (int64 [batch, sequence]; `position_ids` too when asked),
 * output `logits` [batch, sequence, vocab]. Learned positions, LayerNormalization, GELU in its Erf
 * form, fused QKV (`c_attn`, a Conv1D weight [in, out]) cut by Split, a causal + padding mask
 * applied by Where with the float minimum (as transformers does, so a fully padded row stays
 * finite), and an LM head tied to the token embedding (MatMul with Transpose(wte)).
 * Parameter names follow the Hugging Face checkpoint (`transformer.h.0.attn.c_attn.weight`).
 * With `kvCache`, the graph also takes `past_key_values.{i}.key/value` [batch, heads, past, head
 * dim] and returns `present.{i}.key/value` (past and new positions), as Optimum exports it
 * (attention_mask then covers past + new positions): generation feeds one new token per step.
 * Training feeds the cache empty (past length 0, src/train/trainer.ts), the same graph.
 * Init: linear weights and biases by PyTorch's Linear default from the seed (init.ts), embeddings
 * N(0, 0.02) as GPT-2 initialises them, LayerNorm scale 1 and shift 0.
 */
import { DataType, float32Tensor, makeModel, onnx, tensorValueInfo, type ModelProto } from '../onnx/proto.js';
import { f, GraphBuilder } from '../onnx/builder.js';
import { initLike } from '../train/init.js';
import { Random } from '../train/random.js';

export interface GptOptions {
  vocabSize: number;
  /** Model width (n_embd). */
  width: number;
  layers: number;
  heads: number;
  /** Longest sequence the position table covers (n_positions). */
  maxPositions: number;
  seed?: number;
  /** Also take `position_ids` [batch, sequence] as an input (Optimum's export does); default: positions past..past+T-1 in-graph. */
  positionIdsInput?: boolean;
  /** Take and return the attention keys and values of earlier positions (default false). */
  kvCache?: boolean;
  /**
   * Without `kvCache`: still return `present.{i}.key/value` (the sequence's own keys and values),
   * as Optimum's decoder without past does (the no-past branch of a merged decoder).
   */
  presentOutputs?: boolean;
  opset?: number;
  layerNormEpsilon?: number;
}

/** config.json fields of a GPT-2 model (Hugging Face's names). */
export interface GptConfig {
  vocab_size: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_positions: number;
  layer_norm_epsilon: number;
}

export function gptConfig(options: GptOptions): GptConfig {
  return {
    vocab_size: options.vocabSize,
    n_embd: options.width,
    n_layer: options.layers,
    n_head: options.heads,
    n_positions: options.maxPositions,
    layer_norm_epsilon: options.layerNormEpsilon ?? 1e-5,
  };
}

const FLOAT_MIN = -3.4028234663852886e38;

export function buildGpt(options: GptOptions): ModelProto {
  const { vocabSize: V, width: C, layers, heads: H, maxPositions: P } = options;
  for (const [k, v] of Object.entries({ vocabSize: V, width: C, layers, heads: H, maxPositions: P })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`GPT option ${k} must be a positive integer, got ${v}`);
  }
  if (C % H !== 0) throw new RangeError(`GPT width ${C} is not a multiple of heads ${H}`);
  const D = C / H;
  const eps = options.layerNormEpsilon ?? 1e-5;
  const graph = onnx.GraphProto.create({ name: 'gpt2' });
  const b = new GraphBuilder(graph);
  const param = (name: string, dims: number[], fill = 0): string =>
    b.initializer(float32Tensor(name, dims, new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(fill)));
  const named = (op: string, inputs: string[], scope: string, attrs: Parameters<GraphBuilder['node']>[2] = {}): string => {
    const base = `${scope}/${op}`;
    const name = b.fresh(base);
    return b.node(op, inputs, attrs, { outputs: [b.fresh(`${base}_output_0`)], name })[0]!;
  };

  const cached = options.kvCache ?? false;
  graph.input.push(tensorValueInfo('input_ids', ['batch_size', 'sequence_length'], DataType.INT64));
  graph.input.push(tensorValueInfo('attention_mask', ['batch_size', cached ? 'total_sequence_length' : 'sequence_length'], DataType.INT64));
  if (options.positionIdsInput) graph.input.push(tensorValueInfo('position_ids', ['batch_size', 'sequence_length'], DataType.INT64));
  const cacheName = (prefix: 'past_key_values' | 'present', l: number, kind: 'key' | 'value') => `${prefix}.${l}.${kind}`;
  if (cached) {
    for (let l = 0; l < layers; l++) {
      for (const kind of ['key', 'value'] as const) graph.input.push(tensorValueInfo(cacheName('past_key_values', l, kind), ['batch_size', H, 'past_sequence_length', D]));
    }
  }

  const wte = param('transformer.wte.weight', [V, C]);
  const wpe = param('transformer.wpe.weight', [P, C]);

  // New positions past..past+T-1 (past = 0 without a cache); keys span 0..past+T-1.
  const shape = named('Shape', ['input_ids'], '/transformer');
  const seqLen = named('Gather', [shape, b.constInt64([1], [], 'one_index')], '/transformer', { axis: 0 });
  const zero = b.constInt64([0], [], 'zero_i64');
  const one = b.constInt64([1], [], 'one_i64');
  const pastLen = cached
    ? named('Gather', [named('Shape', [cacheName('past_key_values', 0, 'key')], '/transformer'), b.constInt64([2], [], 'past_axis')], '/transformer', { axis: 0 })
    : zero;
  const totalLen = cached ? named('Add', [pastLen, seqLen], '/transformer') : seqLen;
  const range = named('Range', [pastLen, totalLen, one], '/transformer');
  const keyRange = cached ? named('Range', [zero, totalLen, one], '/transformer') : range;
  const positions = options.positionIdsInput ? 'position_ids' : range;

  const tokens = named('Gather', [wte, 'input_ids'], '/transformer/wte');
  const placed = named('Gather', [wpe, positions], '/transformer/wpe');
  let x = named('Add', [tokens, placed], '/transformer');

  // Mask [batch, 1, T, T]: key j visible from query i when j <= i and key j is not padding.
  const rowPos = named('Unsqueeze', [range, b.constInt64([1], undefined, 'axes')], '/transformer/mask');
  const colPos = named('Unsqueeze', [keyRange, b.constInt64([0], undefined, 'axes')], '/transformer/mask');
  const causal = named('LessOrEqual', [colPos, rowPos], '/transformer/mask');
  const keyMask = named('Cast', ['attention_mask'], '/transformer/mask', { to: DataType.BOOL });
  const keyMask4 = named('Unsqueeze', [keyMask, b.constInt64([1, 2], undefined, 'axes')], '/transformer/mask');
  const visible = named('And', [causal, keyMask4], '/transformer/mask');
  const minValue = b.constFloat(FLOAT_MIN, [], 'float_min');
  const headShape = b.constInt64([0, 0, H, D], undefined, 'head_shape');
  const mergedShape = b.constInt64([0, 0, C], undefined, 'merged_shape');
  const scale = b.constFloat(Math.sqrt(D), [], 'attn_scale');

  const layerNorm = (input: string, scope: string, prefix: string): string =>
    named('LayerNormalization', [input, param(`${prefix}.weight`, [C], 1), param(`${prefix}.bias`, [C])], scope, { axis: -1, epsilon: f(eps) });
  const linear = (input: string, scope: string, prefix: string, fanIn: number, fanOut: number): string => {
    const product = named('MatMul', [input, param(`${prefix}.weight`, [fanIn, fanOut])], scope);
    return named('Add', [product, param(`${prefix}.bias`, [fanOut])], scope);
  };

  for (let l = 0; l < layers; l++) {
    const p = `transformer.h.${l}`;
    const s = `/transformer/h.${l}`;
    // Attention.
    const ln1 = layerNorm(x, `${s}/ln_1`, `${p}.ln_1`);
    const qkv = linear(ln1, `${s}/attn/c_attn`, `${p}.attn.c_attn`, C, 3 * C);
    const [q, k, v] = b.node('Split', [qkv, b.constInt64([C, C, C], undefined, 'split')], { axis: 2 }, {
      outputs: [0, 1, 2].map((i) => b.fresh(`${s}/attn/Split_output_${i}`)),
      name: b.fresh(`${s}/attn/Split`),
    }) as [string, string, string];
    const toHeads = (t: string, perm: number[]): string => named('Transpose', [named('Reshape', [t, headShape], `${s}/attn`)], `${s}/attn`, { perm });
    const qh = toHeads(q, [0, 2, 1, 3]); // [B, H, T, D]
    let kh: string; // [B, H, D, S]: keys of all S visible positions, transposed for Q K^T
    let vh: string; // [B, H, S, D]
    if (cached) {
      const present = (kind: 'key' | 'value', fresh: string): string =>
        b.node('Concat', [cacheName('past_key_values', l, kind), fresh], { axis: 2 }, { outputs: [cacheName('present', l, kind)], name: b.fresh(`${s}/attn/Concat`) })[0]!;
      kh = named('Transpose', [present('key', toHeads(k, [0, 2, 1, 3]))], `${s}/attn`, { perm: [0, 1, 3, 2] });
      vh = present('value', toHeads(v, [0, 2, 1, 3]));
    } else if (options.presentOutputs) {
      const keys = b.node('Identity', [toHeads(k, [0, 2, 1, 3])], {}, { outputs: [cacheName('present', l, 'key')], name: b.fresh(`${s}/attn/present_key`) })[0]!;
      kh = named('Transpose', [keys], `${s}/attn`, { perm: [0, 1, 3, 2] });
      vh = b.node('Identity', [toHeads(v, [0, 2, 1, 3])], {}, { outputs: [cacheName('present', l, 'value')], name: b.fresh(`${s}/attn/present_value`) })[0]!;
    } else {
      kh = toHeads(k, [0, 2, 3, 1]);
      vh = toHeads(v, [0, 2, 1, 3]);
    }
    const scores = named('Div', [named('MatMul', [qh, kh], `${s}/attn`), scale], `${s}/attn`);
    const masked = named('Where', [visible, scores, minValue], `${s}/attn`);
    const weights = named('Softmax', [masked], `${s}/attn`, { axis: -1 });
    const context = named('MatMul', [weights, vh], `${s}/attn`);
    const merged = named('Reshape', [named('Transpose', [context], `${s}/attn`, { perm: [0, 2, 1, 3] }), mergedShape], `${s}/attn`);
    const attnOut = linear(merged, `${s}/attn/c_proj`, `${p}.attn.c_proj`, C, C);
    x = named('Add', [x, attnOut], s);
    // MLP with GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2)), as torch exports it.
    const ln2 = layerNorm(x, `${s}/ln_2`, `${p}.ln_2`);
    const hidden = linear(ln2, `${s}/mlp/c_fc`, `${p}.mlp.c_fc`, C, 4 * C);
    const erf = named('Erf', [named('Div', [hidden, b.constFloat(Math.SQRT2, [], 'sqrt2')], `${s}/mlp/act`)], `${s}/mlp/act`);
    const gate = named('Add', [erf, b.constFloat(1, [], 'one')], `${s}/mlp/act`);
    const gelu = named('Mul', [named('Mul', [hidden, gate], `${s}/mlp/act`), b.constFloat(0.5, [], 'half')], `${s}/mlp/act`);
    const mlpOut = linear(gelu, `${s}/mlp/c_proj`, `${p}.mlp.c_proj`, 4 * C, C);
    x = named('Add', [x, mlpOut], s);
  }
  const final = layerNorm(x, '/transformer/ln_f', 'transformer.ln_f');
  const head = named('Transpose', [wte], '/lm_head', { perm: [1, 0] });
  b.node('MatMul', [final, head], {}, { outputs: ['logits'], name: '/lm_head/MatMul' });
  graph.output.push(tensorValueInfo('logits', ['batch_size', 'sequence_length', V]));
  if (cached || options.presentOutputs) {
    for (let l = 0; l < layers; l++) {
      for (const kind of ['key', 'value'] as const) graph.output.push(tensorValueInfo(cacheName('present', l, kind), ['batch_size', H, cached ? 'total_sequence_length' : 'sequence_length', D]));
    }
  }

  const model = makeModel(graph, options.opset ?? 17);
  const seed = options.seed ?? 0;
  const linearInit = initLike(model, seed);
  const random = new Random(seed ^ 0x5bd1e995);
  for (const t of graph.initializer) {
    if (t.dataType !== DataType.FLOAT) continue;
    let values = linearInit.get(t.name!);
    if (t.name === wte || t.name === wpe) {
      values = new Float32Array(values!.length);
      for (let i = 0; i < values.length; i++) values[i] = 0.02 * random.normal();
    }
    if (values) t.rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  }
  return model;
}
