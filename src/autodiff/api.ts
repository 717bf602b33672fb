/**
 * The contract between the autodiff stage and its users (src/train). Implementation: ./gradients.ts.
 */
import type { GraphProto } from '../onnx/proto.js';
import type { GraphBuilder } from '../onnx/builder.js';
import type { Shape, ShapeMap } from '../onnx/shapes.js';

/** Shapes are an onnx-layer notion (src/onnx/shapes.ts); re-exported for the rules. */
export type { Shape, ShapeMap };

export interface GradientRequest {
  /** Forward graph; backward nodes are appended to it (through `builder`). */
  graph: GraphProto;
  /** Name of the scalar (shape []) float value to differentiate. */
  loss: string;
  /** Values (usually float initializers) to differentiate with respect to. */
  wrt: readonly string[];
  /** Shapes of the forward graph's values (see src/onnx/shapes.ts). */
  shapes: ShapeMap;
  /** Builder over `graph`; one is made with prefix "grad/" when absent. */
  builder?: GraphBuilder;
  /** The default-domain opset the graph runs at (>= MIN_BACKWARD_OPSET, see ./opset.ts); 17 when absent. */
  opset?: number;
}

/** wrt name -> name of its gradient value in the graph (same shape as the wrt value). */
export type GradientMap = Map<string, string>;

import type { NodeProto } from '../onnx/proto.js';

/**
 * What a gradient rule sees: the forward node, the gradients flowing into its outputs, and the
 * builder to emit backward nodes with. Rules return one gradient value name per input (null = none).
 */
export interface RuleContext {
  readonly node: NodeProto;
  readonly graph: GraphProto;
  readonly b: GraphBuilder;
  /** Name of forward input i ('' when the optional input is absent). */
  x(i: number): string;
  /** Name of forward output i. */
  y(i: number): string;
  /** Gradient of output 0 (every rule's main input). */
  readonly g: string;
  /** Gradient of output i, or null when no gradient flows into it. */
  dy(i: number): string | null;
  /** Whether input i needs a gradient (rules skip work for inputs that do not). */
  needs(i: number): boolean;
  attr(name: string, fallback: number): number;
  attr(name: string, fallback: number[]): number[];
  attr(name: string, fallback: string): string;
  attr(name: string, fallback: number[] | null): number[] | null;
  /** Static shape of a forward value; throws a clear error when unknown. */
  shape(name: string): Shape;
  /** Values of a constant integer input (axes, split sizes); throws when computed at run time. */
  constInts(name: string): number[];
  /** Values of an integer input when it is a constant, else null (computed at run time). */
  maybeConstInts(name: string): number[] | null;
  /** The model's default-domain opset (17 when unknown). */
  readonly opset: number;
  /** Throws UnsupportedModelError naming this node, e.g. fail('transA with 3-D input'). */
  fail(reason: string): never;
}

/** One entry per forward input, in order (the walker checks the count). */
export type GradientRule = (ctx: RuleContext) => (string | null)[];
