/**
 * Small graph-writing helpers shared by the loss and optimizer fragments: opset-aware reductions
 * (axes moved from attribute to input at opset 13 for ReduceSum, 18 for the others), last-axis
 * slices, and value-info declarations for new graph inputs/outputs.
 */
import { onnx, type GraphProto, type ModelProto, type ValueInfoProto } from '../onnx/proto.js';
import type { GraphBuilder } from '../onnx/builder.js';

/** Version of the default ONNX domain the model imports. */
export function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = entry?.version;
  return v === null || v === undefined ? 17 : typeof v === 'number' ? v : v.toNumber();
}

export type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceSumSquare' | 'ReduceMax';

/** A reduction over `axes` (all axes when undefined), written for the graph's opset. */
export function reduce(b: GraphBuilder, opset: number, op: ReduceOp, x: string, axes: readonly number[] | undefined, keepdims: boolean): string {
  const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const keep = keepdims ? 1 : 0;
  if (axes === undefined) return b.op(op, [x], { keepdims: keep });
  if (axesAsInput) return b.op(op, [x, b.constInt64(axes, undefined, 'axes')], { keepdims: keep });
  return b.op(op, [x], { axes, keepdims: keep });
}

/** x[..., start:end] on the last axis. */
export function sliceLastAxis(b: GraphBuilder, x: string, start: number, end: number): string {
  return b.op('Slice', [x, b.constInt64([start], undefined, 'starts'), b.constInt64([end], undefined, 'ends'), b.constInt64([-1], undefined, 'axes')]);
}

export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Dims of a graph input/output from its value info (strings for symbolic dims, '?' when unnamed). */
export function valueInfoDims(info: ValueInfoProto): (number | string)[] {
  const dims = info.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => {
    if (d.dimParam) return d.dimParam;
    const v = d.dimValue === null || d.dimValue === undefined ? 0 : typeof d.dimValue === 'number' ? d.dimValue : d.dimValue.toNumber();
    // protobufjs reports an unset dim as 0; a real 0-sized dim is not something we train on.
    return v > 0 ? v : '?';
  });
}

export function valueInfoElemType(info: ValueInfoProto): number {
  return info.type?.tensorType?.elemType ?? 0;
}

/** The model's graph as the decoded class type (protobufjs types `model.graph` as the interface). */
export function graphOf(model: ModelProto): GraphProto {
  if (!model.graph) throw new RangeError('the model has no graph');
  return model.graph as GraphProto;
}
