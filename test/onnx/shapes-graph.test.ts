import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { attr, constantInts, topologicalOrder, trainableParameters } from '../../src/onnx/graph.js';
import { DataType, makeModel, onnx, tensorValueInfo, type GraphProto } from '../../src/onnx/proto.js';
import { inferShapes, inferShapesAndTypes } from '../../src/onnx/shapes.js';
import { mlpModel } from '../helpers/models.js';

/** Token ids [batch, seq] -> embedding -> flatten rows -> linear; plus a float Resize scale and a Shape-only tensor. */
function tokenModel(): GraphProto {
  const graph = onnx.GraphProto.create({ name: 'tok' });
  graph.input.push(tensorValueInfo('ids', ['batch', 'seq'], DataType.INT64));
  const b = new GraphBuilder(graph);
  b.constFloat(Array.from({ length: 20 }, (_, i) => i), [5, 4], 'wte');
  b.constFloat(Array.from({ length: 8 }, (_, i) => i), [4, 2], 'proj');
  b.constFloat([7, 7, 7], [3], 'shape_only');
  const e = b.op('Gather', ['wte', 'ids'], {}, 'emb');
  const rows = b.op('Reshape', [e, b.constInt64([-1, 4])], {}, 'rows');
  const y = b.op('MatMul', [rows, 'proj'], {}, 'y');
  const n = b.op('Shape', ['shape_only'], {}, 'n');
  b.node('Identity', [n], {}, { outputs: ['n_out'] });
  graph.output.push(tensorValueInfo(y, null), tensorValueInfo('n_out', null, DataType.INT64));
  return graph;
}

describe('inferShapes', () => {
  it('marks the batch dim symbolic and everything else concrete', async () => {
    const shapes = await inferShapes(mlpModel({ sizes: [10, 7, 3], style: 'matmul' }));
    expect(shapes.get('/fc1/MatMul_output_0')).toEqual(['N', 7]);
    expect(shapes.get('logits')).toEqual(['N', 3]);
    expect(shapes.get('fc1.weight')).toEqual([10, 7]);
  });

  it('feeds integer inputs (token ids) and names multiples of a symbol', async () => {
    const { shapes, dtypes } = await inferShapesAndTypes(makeModel(tokenModel()), { dims: { batch: 2, seq: 5 } });
    expect(shapes.get('emb')).toEqual(['batch', 'seq', 4]);
    expect(shapes.get('rows')![1]).toBe(4);
    expect(typeof shapes.get('rows')![0]).toBe('string'); // batch*seq: symbolic
    expect(shapes.get('n')).toEqual([1]);
    expect(dtypes.get('ids')).toBe('int64');
    expect(dtypes.get('y')).toBe('float32');
  });

  it('names the file when the model cannot run', async () => {
    const graph = tokenModel();
    (graph.node[0]!.input as string[])[0] = 'nowhere';
    await expect(inferShapes(makeModel(graph), { file: 'bad.onnx' })).rejects.toThrow(/^bad\.onnx: onnxruntime cannot load the model/);
  });
});

describe('graph helpers', () => {
  it('trainable parameters exclude float tensors only read for their shape', () => {
    expect(trainableParameters(tokenModel()).map((t) => t.name)).toEqual(['wte', 'proj']);
  });

  it('topological order fixes a shuffled graph', () => {
    const graph = tokenModel();
    graph.node.reverse();
    const order = topologicalOrder(graph).map((n) => n.output[0]);
    expect(order.indexOf('emb')).toBeLessThan(order.indexOf('rows'));
    expect(order.indexOf('rows')).toBeLessThan(order.indexOf('y'));
  });

  it('attr reads Long ints after a protobuf round trip, with defaults', () => {
    const model = onnx.ModelProto.decode(onnx.ModelProto.encode(mlpModel({ sizes: [3, 2] })).finish());
    const gemm = model.graph!.node![0]! as never;
    expect(attr(gemm, 'transB', 0)).toBe(1);
    expect(attr(gemm, 'transA', 0)).toBe(0);
    expect(attr(gemm, 'alpha', 0.5)).toBe(1);
  });

  it('reads constant ints from initializers and Constant nodes', () => {
    const graph = onnx.GraphProto.create();
    const b = new GraphBuilder(graph);
    const c = b.constInt64([3, -1], undefined, 'target');
    b.node('Constant', [], { value_ints: [1, 2, 3] }, { outputs: ['k'] });
    expect(constantInts(graph, c)).toEqual([3, -1]);
    expect(constantInts(graph, 'k')).toEqual([1, 2, 3]);
    expect(constantInts(graph, 'computed')).toBeUndefined();
  });
});
