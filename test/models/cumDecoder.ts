/**
 * A toy causal decoder for runner tests, in two exports of the same weights: with a KV cache
 * (past_key_values.0.key/value in, present.0.key/value out, as Optimum names them) and without.
 * Position t's logits = MatMul(tanh(0.5 * sum of embeddings of tokens 0..t) + embedding(t) +
 * position(t), W): causal, so right padding cannot reach a real position, and the cached and
 * uncached graphs must give the same logits.
 */
import { GraphBuilder } from '../../src/onnx/builder.js';
import { DataType, float32Tensor, makeModel, onnx, tensorValueInfo, type ModelProto } from '../../src/onnx/proto.js';
import { Random } from '../../src/random.js';

export interface CumDecoderOptions {
  vocab: number;
  width: number;
  maxPositions: number;
  seed: number;
  kvCache: boolean;
  positionIds?: boolean;
}

export function cumDecoder(o: CumDecoderOptions): ModelProto {
  const random = new Random(o.seed);
  const init = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);
  const graph = onnx.GraphProto.create({ name: 'cum-decoder' });
  const b = new GraphBuilder(graph);
  const E = b.initializer(float32Tensor('wte', [o.vocab, o.width], init(o.vocab * o.width, 1)));
  const P = b.initializer(float32Tensor('wpe', [o.maxPositions, o.width], init(o.maxPositions * o.width, 0.5)));
  const W = b.initializer(float32Tensor('lm_head', [o.width, o.vocab], init(o.width * o.vocab, 0.4)));
  graph.input.push(tensorValueInfo('input_ids', ['batch', 'seq'], DataType.INT64));
  graph.input.push(tensorValueInfo('attention_mask', ['batch', 'total'], DataType.INT64));
  if (o.positionIds) graph.input.push(tensorValueInfo('position_ids', ['batch', 'seq'], DataType.INT64));
  const e = b.op('Gather', [E, 'input_ids']); // [B, T, D]
  let cum: string;
  let positions: string;
  if (o.kvCache) {
    graph.input.push(tensorValueInfo('past_key_values.0.key', ['batch', 1, 'past', o.width]));
    graph.input.push(tensorValueInfo('past_key_values.0.value', ['batch', 1, 'past', o.width]));
    const k = b.op('Unsqueeze', [e, b.constInt64([1])]); // [B, 1, T, D]
    b.node('Concat', ['past_key_values.0.key', k], { axis: 2 }, { outputs: ['present.0.key'] });
    b.node('Concat', ['past_key_values.0.value', k], { axis: 2 }, { outputs: ['present.0.value'] });
    const all = b.op('CumSum', ['present.0.key', b.constInt64([2], [])]);
    const T = b.op('Shape', ['input_ids'], { start: 1, end: 2 });
    const last = b.op('Slice', [all, b.op('Neg', [T]), b.constInt64([1 << 30]), b.constInt64([2])]);
    cum = b.op('Squeeze', [last, b.constInt64([1])]);
    const past = b.op('Shape', ['past_key_values.0.key'], { start: 2, end: 3 });
    positions = b.op('Range', [b.op('Squeeze', [past]), b.op('Squeeze', [b.op('Add', [past, T])]), b.constInt64([1], [])]);
    graph.output.push(tensorValueInfo('present.0.key', ['batch', 1, 'total', o.width]));
    graph.output.push(tensorValueInfo('present.0.value', ['batch', 1, 'total', o.width]));
  } else {
    cum = b.op('CumSum', [e, b.constInt64([1], [])]);
    const T = b.op('Squeeze', [b.op('Shape', ['input_ids'], { start: 1, end: 2 })]);
    positions = b.op('Range', [b.constInt64([0], []), T, b.constInt64([1], [])]);
  }
  const pos = b.op('Gather', [P, o.positionIds ? 'position_ids' : positions]);
  const h = b.op('Add', [b.op('Add', [b.op('Tanh', [b.op('Mul', [cum, b.constFloat(0.5)])]), e]), pos]);
  b.node('MatMul', [h, W], {}, { outputs: ['logits'] });
  graph.output.unshift(tensorValueInfo('logits', ['batch', 'seq', o.vocab]));
  return makeModel(graph, 17);
}
