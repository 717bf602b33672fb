/**
 * GraphBuilder: appends nodes and initializers to a GraphProto with fresh, readable names.
 * Autodiff rules, losses and optimizers all emit ONNX through this one API.
 */
import { onnx, float32Tensor, int64Tensor, type GraphProto, type NodeProto, type TensorProto, type AttributeProto } from './proto.js';

/** A float attribute must be marked: a plain JS number is written as INT. */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export class FloatsAttr {
  constructor(readonly values: readonly number[]) {}
}
export const f = (value: number): FloatAttr => new FloatAttr(value);
export const fs = (values: readonly number[]): FloatsAttr => new FloatsAttr(values);

export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr | TensorProto;
export type Attrs = Record<string, AttrValue | undefined>;

export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (value instanceof FloatsAttr) return { name, type: T.FLOATS, floats: [...value.values] };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: [...value] };
  return { name, type: T.TENSOR, t: value as TensorProto };
}

export class GraphBuilder {
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(
    readonly graph: GraphProto,
    /** Prefix of every generated name, e.g. "grad/" so generated values never collide with the model's. */
    readonly prefix = '',
  ) {
    for (const n of graph.node) {
      for (const o of n.output ?? []) this.used.add(o);
      if (n.name) this.used.add(n.name);
    }
    for (const t of graph.initializer) if (t.name) this.used.add(t.name);
    for (const v of graph.input) if (v.name) this.used.add(v.name);
  }

  /** A name not yet used in the graph, derived from hint. */
  fresh(hint: string): string {
    let name = `${this.prefix}${hint}`;
    while (this.used.has(name)) name = `${this.prefix}${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Appends a node; returns its output names (`outputs` of them, fresh unless given). */
  node(opType: string, inputs: readonly string[], attrs: Attrs = {}, opts: { outputs?: number | readonly string[]; name?: string; domain?: string } = {}): string[] {
    const outputs = Array.isArray(opts.outputs)
      ? [...(opts.outputs as readonly string[])]
      : Array.from({ length: (opts.outputs as number | undefined) ?? 1 }, () => this.fresh(opType.toLowerCase()));
    for (const o of outputs) this.used.add(o);
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    const node: NodeProto = onnx.NodeProto.create({
      opType,
      input: [...inputs],
      output: outputs,
      name: opts.name ?? this.fresh(`${opType}_node`),
      domain: opts.domain ?? '',
      attribute,
    });
    this.graph.node.push(node);
    return outputs;
  }

  /** Appends a single-output node and returns that output's name. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, name?: string): string {
    return this.node(opType, inputs, attrs, name ? { outputs: [this.fresh(name)] } : {})[0]!;
  }

  initializer(tensor: TensorProto): string {
    this.graph.initializer.push(tensor);
    this.used.add(tensor.name);
    return tensor.name;
  }

  /** A float constant (scalar when dims is []). */
  constFloat(values: number | readonly number[], dims?: readonly number[], hint = 'const'): string {
    const arr = typeof values === 'number' ? [values] : [...values];
    const shape = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.initializer(float32Tensor(this.fresh(hint), shape, Float32Array.from(arr)));
  }

  /** An int64 constant (1-D unless dims given): shapes, axes, indices. */
  constInt64(values: readonly number[], dims?: readonly number[], hint = 'ints'): string {
    return this.initializer(int64Tensor(this.fresh(hint), dims ?? [values.length], values));
  }
}
