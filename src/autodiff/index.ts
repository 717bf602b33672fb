/** Reverse-mode differentiation of ONNX graphs: the public API. */
export type { GradientMap, GradientRequest, GradientRule, RuleContext, Shape, ShapeMap } from './api.js';
export { buildGradients, gradientPath } from './gradients.js';
export { MIN_BACKWARD_OPSET, MIN_MODEL_OPSET, trainingOpset } from './opset.js';
export { retieWeights, type RetiedWeight } from './tied.js';
export { RULES } from './rules.js';
export { unsupportedOps, type UnsupportedOp } from './unsupported.js';
