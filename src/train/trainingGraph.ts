/**
 * Training-graph assembly: inference graph + loss + backward (src/autodiff) + optimizer update.
 * Parameters and optimizer state become graph INPUTS (removed from the initializers); their new
 * values are graph OUTPUTS, next to the loss, so one session.run is one training step and the
 * host owns the weights (ping-ponged between two buffer sets by the Trainer).
 */
import { buildGradients } from '../autodiff/gradients.js';
import { trainingOpset } from '../autodiff/opset.js';
import { GraphBuilder } from '../onnx/builder.js';
import { DataType, dimsOf, graphOf, tensorValueInfo, valueInfoDims, type ModelProto, type TensorProto } from '../onnx/proto.js';
import { inferShapes, type ShapeMap } from '../onnx/shapes.js';
import { UnsupportedModelError } from '../errors.js';
import { appendLoss, type LossSpec } from './losses.js';
import { narrowTokenHead } from './narrowHead.js';
import { appendOptimizer, type OptimizerSpec } from './optimizers.js';
import { cloneModel, trainableParams } from './weights.js';

export interface TrainingSpec {
  /** Parameters to train; default: all trainable float initializers (see weights.ts). */
  params?: readonly string[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  /** Clip the global gradient norm to this value (in-graph, like torch clip_grad_norm_). */
  clipNorm?: number;
  /** Token losses: compute the output layer at loss positions only where the head allows (./narrowHead.ts). Default true. */
  narrowTokenHead?: boolean;
}

export interface TrainedParamIO {
  name: string;
  dims: readonly number[];
  /** Graph output carrying the updated value. */
  output: string;
  /** Optimizer state slots: graph input -> updated graph output. */
  state: { input: string; output: string }[];
}

export interface TrainingIO {
  /** Data inputs of the model (non-initializer graph inputs of the inference graph). */
  data: string[];
  /** Inputs added by the loss (targets, then the mask, then soft target probabilities if any). */
  targets: string[];
  params: TrainedParamIO[];
  /** Optimizer scalars by role (lr / stepSize, eps, decay): graph input names. */
  scalars: Record<string, string>;
  loss: string;
  gradNorm?: string;
  /** With a narrowed head: the int64 [P] input of the loss positions' flat indices (targets then come [1, P]). */
  lossPositions?: string;
}

export async function buildTrainingModel(inference: ModelProto, spec: TrainingSpec): Promise<{ model: ModelProto; io: TrainingIO }> {
  const model = cloneModel(inference);
  const graph = graphOf(model);
  // The backward graph needs opset 16 forms; an opset 13-15 model is raised (./autodiff/opset.ts).
  const opset = trainingOpset(model);
  const b = new GraphBuilder(graph, 'train/');

  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  // Old exporters list initializers among the inputs; those are not data.
  graph.input = graph.input.filter((i) => !initializerNames.has(i.name!));
  const data = graph.input.map((i) => i.name!);

  const outputName = spec.loss.output ?? graph.output[0]?.name;
  const outputInfo = graph.output.find((o) => o.name === outputName);
  if (!outputName || !outputInfo) throw new UnsupportedModelError(`the model has no output ${spec.loss.output ?? ''} for the loss`.trim());
  // The inference graph's shapes, inferred (an onnxruntime probe run) at most once.
  let inferred: ShapeMap | undefined;
  const inferenceShapes = async (): Promise<ShapeMap> => (inferred ??= await inferShapes(inference));
  let outputDims = valueInfoDims(outputInfo) ?? [];
  if (typeof outputDims[outputDims.length - 1] !== 'number') {
    outputDims = [...((await inferenceShapes()).get(outputName) ?? outputDims)];
  }

  let lossOutput = outputName;
  let lossPositions: string | undefined;
  if ((spec.loss.kind === 'tokenCrossEntropy' || spec.loss.kind === 'tokenKlDivergence') && spec.narrowTokenHead !== false) {
    const narrowed = narrowTokenHead(graph, b, outputName, await inferenceShapes());
    if (narrowed) {
      lossOutput = narrowed.output;
      outputDims = [...narrowed.outputDims];
      lossPositions = narrowed.positions.name!;
      graph.input.push(narrowed.positions);
      // The full logits are no longer computed: shape inference below must not look for them.
      graph.output = graph.output.filter((o) => o.name !== outputName);
    }
  }
  const fragment = appendLoss({ builder: b, opset, output: lossOutput, outputDims }, spec.loss);
  graph.input.push(...fragment.inputs);
  // Shapes of forward + loss values, while the parameters are still initializers.
  const shapes = await inferShapes(model);

  const trainable = new Map(trainableParams(inference).map((t) => [t.name, t]));
  const wanted = spec.params ?? [...trainable.keys()];
  const allInits = new Map(graph.initializer.map((t) => [t.name, t]));
  for (const name of wanted) {
    const t = allInits.get(name);
    if (!t || t.dataType !== DataType.FLOAT) throw new RangeError(`parameter ${name} is not a float initializer of the model`);
  }
  if (wanted.length === 0) throw new UnsupportedModelError('the model has no trainable parameters');
  const paramSet = new Set(wanted);
  const paramTensors = (graph.initializer as TensorProto[]).filter((t) => paramSet.has(t.name));
  graph.initializer = graph.initializer.filter((t) => !paramSet.has(t.name!));
  for (const t of paramTensors) graph.input.push(tensorValueInfo(t.name, dimsOf(t)));

  const grads = buildGradients({ graph, loss: fragment.loss, wrt: paramTensors.map((t) => t.name), shapes, opset });
  const missing = paramTensors.filter((t) => !grads.has(t.name)).map((t) => t.name);
  if (missing.length > 0) {
    throw new UnsupportedModelError(`no gradient reaches parameter(s) ${missing.join(', ')} from the loss; leave them out of params`);
  }

  const optim = appendOptimizer(
    b,
    opset,
    spec.optimizer,
    paramTensors.map((t) => ({ name: t.name, grad: grads.get(t.name)!, dims: dimsOf(t) })),
    spec.clipNorm,
  );
  graph.input.push(...optim.inputs);

  const outputs = [tensorValueInfo(fragment.loss, [])];
  if (optim.gradNorm) outputs.push(tensorValueInfo(optim.gradNorm, []));
  const params: TrainedParamIO[] = optim.updates.map((u, i) => {
    const dims = dimsOf(paramTensors[i]!);
    outputs.push(tensorValueInfo(u.output, dims));
    for (const st of u.state) outputs.push(tensorValueInfo(st.output, dims));
    return { name: u.param, dims, output: u.output, state: u.state };
  });
  graph.output = outputs;
  // Stale intermediate shapes would only constrain onnxruntime; it infers its own.
  graph.valueInfo = [];

  return {
    model,
    io: {
      data,
      targets: fragment.inputs.map((i) => i.name!),
      params,
      scalars: optim.scalars,
      loss: fragment.loss,
      ...(optim.gradNorm ? { gradNorm: optim.gradNorm } : {}),
      ...(lossPositions ? { lossPositions } : {}),
    },
  };
}
