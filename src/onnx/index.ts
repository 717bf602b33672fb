/** ONNX model I/O, graph helpers, shapes and architecture fingerprints: the public API. */
export * from './proto.js';
export { GraphBuilder, f, fs, FloatAttr, FloatsAttr, type Attrs, type AttrValue } from './builder.js';
export { readModel, writeModel, encodeModel, decodeModel, writeModelWithExternalData } from './io.js';
export {
  attr, constantInts, constantTensor, consumers, floatInitializers, isDifferentiableInput, isFloatType, nodeLabel,
  NO_GRADIENT_OPS, producers, producesGradient, topologicalOrder, trainableParameters,
} from './graph.js';
export { inferShapes, inferShapesAndTypes, type ShapeOptions, type ShapeInference, type DtypeMap } from './shapes.js';
export { compareArchitectures, fingerprint, type ArchitectureComparison, type Fingerprint, type OpEntry } from './fingerprint.js';
