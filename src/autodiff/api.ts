/**
 * The contract between the autodiff stage and its users (src/train). Implementation: ./gradients.ts.
 */
import type { GraphProto } from '../onnx/proto.js';
import type { GraphBuilder } from '../onnx/builder.js';

/** Static shape of a value: numbers for known dims, a string for a symbolic (batch) dim. */
export type Shape = readonly (number | string)[];
export type ShapeMap = ReadonlyMap<string, Shape>;

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
}

/** wrt name -> name of its gradient value in the graph (same shape as the wrt value). */
export type GradientMap = Map<string, string>;
