/**
 * The opset a backward graph runs at. Rules emit opset-16 forms (ScatterND/ScatterElements with
 * reduction=add for Gather and MaxPool, CastLike for Cast), so a training graph is raised to opset
 * 16 when its model is older. From 13 up that changes no op the model already uses (versions 14-16
 * only add types, attributes with the old default, or new ops; RoiAlign's new default is pinned
 * to its old meaning); below 13 Softmax, Split, Squeeze and the reductions change meaning, so those
 * models are refused.
 */
import { UnsupportedModelError } from '../errors.js';
import { makeAttribute } from '../onnx/builder.js';
import { defaultOpset, graphOf, nodesOf, type ModelProto } from '../onnx/proto.js';

export const MIN_BACKWARD_OPSET = 16;
export const MIN_MODEL_OPSET = 13;

/** Raises the model's default-domain opset import to MIN_BACKWARD_OPSET (in place); returns the opset to build at. */
export function trainingOpset(model: ModelProto): number {
  const opset = defaultOpset(model);
  if (opset === 0) throw new UnsupportedModelError('the model imports no default-domain (ai.onnx) opset');
  if (opset < MIN_MODEL_OPSET) throw new UnsupportedModelError(`unsupported model opset ${opset}: training needs opset ${MIN_MODEL_OPSET} or later`);
  if (opset >= MIN_BACKWARD_OPSET) return opset;
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')!;
  entry.version = MIN_BACKWARD_OPSET;
  for (const node of nodesOf(graphOf(model))) {
    if (node.opType === 'RoiAlign' && !node.attribute.some((a) => a.name === 'coordinate_transformation_mode')) {
      node.attribute.push(makeAttribute('coordinate_transformation_mode', 'output_half_pixel'));
    }
  }
  return MIN_BACKWARD_OPSET;
}
