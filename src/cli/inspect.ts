/** `audit-dataset inspect`: what a model is, whether we can train it, whether another matches it. */
import type { Argv } from 'yargs';
import { unsupportedOps, type UnsupportedOp } from '../autodiff/unsupported.js';
import { compareArchitectures, fingerprint } from '../onnx/fingerprint.js';
import { readModel } from '../onnx/io.js';
import { CACHE_BRANCH_INPUT, inlineNoCacheBranch } from '../onnx/cacheBranch.js';
import { cloneModel } from '../train/weights.js';
import { modelFileOf } from '../models/folder.js';
import { DataType, graphOf, valueInfoElemType, type ModelProto } from '../onnx/proto.js';
import type { Command } from './command.js';

interface InspectArgs {
  model: string;
  compare?: string;
  json?: boolean;
}

export interface InspectReport {
  model: string;
  inputs: { name: string; type: string; shape: (number | string)[] | null }[];
  outputs: { name: string; type: string; shape: (number | string)[] | null }[];
  params: number;
  paramTensors: number;
  ops: Record<string, number>;
  trainable: boolean;
  unsupported: UnsupportedOp[];
  fingerprint: string;
  compare?: string;
  sameArchitecture?: boolean;
  firstDifference?: string;
  /** An Optimum merged decoder: described as training reads it, its no-past branch inlined. */
  mergedDecoder?: boolean;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(DataType).map(([k, v]) => [v as number, k.toLowerCase()]));

/** A copy of `given` as training reads it (a merged decoder's no-past branch inlined), and whether it was one. */
function asTrained(given: ModelProto, path: string): { model: ModelProto; merged: boolean } {
  const model = cloneModel(given);
  return { model, merged: inlineNoCacheBranch(model, path) };
}

export function inspectModel(given: ModelProto, path: string, other?: { model: ModelProto; path: string }): InspectReport {
  const { model, merged } = asTrained(given, path);
  const graph = graphOf(model, path);
  const fp = fingerprint(model);
  const typeOf = (name: string, list: typeof graph.input): string => TYPE_NAMES.get(valueInfoElemType(list.find((v) => v.name === name)!)) ?? 'unknown';
  const ops: Record<string, number> = {};
  for (const op of fp.ops) ops[op.opType] = (ops[op.opType] ?? 0) + 1;
  const unsupported = unsupportedOps(model);
  const report: InspectReport = {
    model: path,
    inputs: fp.inputs.map((i) => ({ ...i, type: typeOf(i.name, graph.input) })),
    outputs: fp.outputs.map((o) => ({ ...o, type: typeOf(o.name, graph.output) })),
    params: fp.paramCount,
    paramTensors: fp.params.length,
    ops,
    trainable: unsupported.length === 0 && fp.params.length > 0,
    unsupported,
    fingerprint: fp.hash,
    ...(merged ? { mergedDecoder: true } : {}),
  };
  if (other) {
    const cmp = compareArchitectures(fp, fingerprint(asTrained(other.model, other.path).model), [path, other.path]);
    report.compare = other.path;
    report.sameArchitecture = cmp.same;
    if (cmp.firstDifference) report.firstDifference = cmp.firstDifference;
  }
  return report;
}

export function formatInspect(r: InspectReport): string {
  const shape = (s: (number | string)[] | null): string => (s ? `[${s.join(',')}]` : '[?]');
  const lines = [`model: ${r.model}`, ...(r.mergedDecoder ? [`merged decoder (If on ${CACHE_BRANCH_INPUT}): shown as training reads it, its no-past branch; generation runs the whole graph with its cache`] : []), 'inputs:'];
  for (const i of r.inputs) lines.push(`  ${i.name}  ${i.type} ${shape(i.shape)}`);
  lines.push('outputs:');
  for (const o of r.outputs) lines.push(`  ${o.name}  ${o.type} ${shape(o.shape)}`);
  lines.push(`parameters: ${r.params.toLocaleString('en-US')} in ${r.paramTensors} tensors`);
  lines.push(`ops: ${Object.entries(r.ops).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if (r.trainable) lines.push('trainable: yes');
  else if (r.unsupported.length > 0) lines.push(`trainable: no (no gradient rule on the gradient path: ${r.unsupported.map((u) => `${u.opType} at ${u.node}`).join(', ')})`);
  else lines.push('trainable: no (no float parameters)');
  if (r.compare !== undefined) {
    lines.push(r.sameArchitecture ? `compare ${r.compare}: same architecture` : `compare ${r.compare}: different architecture: ${r.firstDifference}`);
  }
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: Command<InspectArgs> = {
  command: 'inspect',
  describe: 'Show a model\'s inputs, outputs, parameters and ops, whether it can be trained, and (--compare) whether another model has the same architecture',
  builder: (y: Argv) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'ONNX model file, or a model folder (onnx/model.onnx or onnx/decoder_model_merged.onnx)' })
      .option('compare', { type: 'string', describe: 'another ONNX model (or model folder) to compare architectures with' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 inspect --model teacher.onnx', 'inputs, outputs, parameters, ops, and whether our engine can train it')
      .example('$0 inspect --model teacher.onnx --compare base.onnx --json', 'same architecture? (JSON: sameArchitecture, firstDifference)') as unknown as Argv<InspectArgs>,
  handler: async (args) => {
    // A model folder (transformers.js layout) names its onnx/model.onnx or merged decoder.
    const model = await readModel(modelFileOf(args.model));
    const other = args.compare ? { model: await readModel(modelFileOf(args.compare)), path: args.compare } : undefined;
    const report = inspectModel(model, args.model, other);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report));
    return 0;
  },
};
