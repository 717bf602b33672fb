/**
 * LogitsModel: an ONNX inference model seen as "rows of floats in, rows of outputs out".
 * Input width = product of the first float input's non-batch dims; output width is discovered by
 * running one row (exporters often leave output dims symbolic). Makes teacher outputs, scores probes.
 */
import * as ort from '../onnx/ort.js';
import { DataType, graphOf, valueInfoDims, valueInfoElemType, type ModelProto } from '../onnx/proto.js';
import { encodeModel } from '../onnx/io.js';
import { UnsupportedModelError } from '../errors.js';
import { createSession, type SessionTuning } from '../train/session.js';
import { loadModelProto, withWeights } from '../train/weights.js';

export interface LogitsModelOptions {
  /** Replacement values for initializers (a student's weights on the base graph). */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Rows per session.run (default 1024). */
  batchSize?: number;
  /** Output to read (default: the first graph output). */
  output?: string;
  session?: SessionTuning;
}

export class LogitsModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
    /** Non-batch dims of the input. */
    readonly inputRowDims: readonly number[],
    private readonly outputRowDims: readonly number[],
    readonly inputWidth: number,
    readonly outputWidth: number,
    readonly batchSize: number,
  ) {}

  static async load(source: string | Uint8Array | ModelProto, options: LogitsModelOptions = {}): Promise<LogitsModel> {
    let model = await loadModelProto(source);
    if (options.weights && options.weights.size > 0) model = withWeights(model, options.weights);
    const graph = graphOf(model);
    const initializers = new Set(graph.initializer.map((t) => t.name));
    const input = graph.input.find((i) => !initializers.has(i.name!) && valueInfoElemType(i) === DataType.FLOAT);
    const where = typeof source === 'string' ? { file: source } : {};
    if (!input) throw new UnsupportedModelError(`${typeof source === 'string' ? source : 'model'}: no float input`, where);
    const dims = valueInfoDims(input);
    if (!dims || dims.length === 0) throw new UnsupportedModelError(`input ${input.name} declares no shape (need [batch, ...])`, where);
    const rowDims = dims.slice(1);
    if (!rowDims.every((d): d is number => typeof d === 'number')) {
      throw new UnsupportedModelError(`input ${input.name} has symbolic non-batch dims [${rowDims.join(', ')}]`, where);
    }
    const outputName = options.output ?? graph.output[0]?.name;
    if (!outputName) throw new UnsupportedModelError('the model has no output', where);
    const session = await createSession(encodeModel(model), options.session);
    const inputWidth = rowDims.reduce((a, d) => a * d, 1);
    const probe = await session.run({ [input.name!]: new ort.Tensor('float32', new Float32Array(inputWidth), [1, ...rowDims]) }, [outputName]);
    const outputRowDims = probe[outputName]!.dims.slice(1);
    return new LogitsModel(session, input.name!, outputName, rowDims, outputRowDims, inputWidth, probe[outputName]!.size, options.batchSize ?? 1024);
  }

  /** Outputs of `rows` rows (row-major, rows x outputWidth). */
  async predict(inputs: Float32Array, rows: number): Promise<Float32Array> {
    if (inputs.length !== rows * this.inputWidth) {
      throw new RangeError(`predict: ${inputs.length} values are not ${rows} rows of ${this.inputWidth}`);
    }
    const out = new Float32Array(rows * this.outputWidth);
    for (let start = 0; start < rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, rows - start);
      const feed = new ort.Tensor('float32', inputs.subarray(start * this.inputWidth, (start + n) * this.inputWidth), [n, ...this.inputRowDims]);
      // onnxruntime writes straight into a pre-allocated output tensor: no copy per batch.
      const target = new ort.Tensor('float32', out.subarray(start * this.outputWidth, (start + n) * this.outputWidth), [n, ...this.outputRowDims]);
      await this.session.run({ [this.inputName]: feed }, { [this.outputName]: target });
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
