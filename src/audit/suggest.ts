/**
 * A first audit.yaml from what the user points at (`audit-dataset init`): the task kind, the input
 * field (the numeric-array field as wide as the model's input), the target field and the output
 * slice it holds (found by comparing the data's targets with the teacher's and the base's own
 * outputs on the same inputs), and probes from a labelled probe file. What it cannot decide it
 * says: each open question is a TODO in the file and a line in `todos`.
 */
import { stat } from 'node:fs/promises';
import { AuditInputError } from '../errors.js';
import { readRows } from '../data/read.js';
import type { Row } from '../data/types.js';
import { LogitsModel } from '../models/logits.js';

/** Rows read from each file to detect fields (the files are not read further). */
export const SAMPLE_ROWS = 256;

export interface FieldInfo {
  name: string;
  /** Array length (1 for a plain number). */
  width: number;
  /** Every sampled value a whole number (labels). */
  integers: boolean;
  min: number;
  max: number;
}

export interface SliceMatch {
  outputs: [number, number];
  /** Mean absolute difference between the target and the closer of teacher and base (as the target's type). */
  distance: number;
  /** Which model the targets match best on this slice. */
  madeBy: 'teacher' | 'base';
}

export type ProbeSuggestion =
  | { name: string; kind: 'accuracy' | 'agreement'; data: string; input: string; label?: string; outputs: [number, number] }
  | { name: string; kind: 'weights' };

export interface ConfigSuggestion {
  teacher: string;
  base: string;
  data: string;
  kind: 'logits';
  model: { inputWidth: number; outputWidth: number };
  input: string | null;
  target: string | null;
  targetWidth: number | null;
  targetType: 'probs' | 'logits' | null;
  outputs: [number, number] | null;
  /** Every slice tried, best first (empty when the target covers all outputs). */
  slices: SliceMatch[];
  probes: ProbeSuggestion[];
  /** Open questions: each is also a TODO comment in the written file. */
  todos: string[];
}

async function sampleRows(file: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of readRows(file, { skipBadRows: true })) {
    rows.push(row);
    if (rows.length >= SAMPLE_ROWS) break;
  }
  if (rows.length === 0) throw new AuditInputError(`${file}: no readable rows`, { file });
  return rows;
}

/** Fields holding a number or an array of numbers of the same length in every sampled row. */
export function numericFields(rows: readonly Row[]): FieldInfo[] {
  const fields: FieldInfo[] = [];
  const names = new Set(rows.flatMap((r) => Object.keys(r.value)));
  for (const name of names) {
    let width = -1;
    let integers = true;
    let min = Infinity;
    let max = -Infinity;
    let ok = true;
    for (const row of rows) {
      const v = row.value[name];
      const values = typeof v === 'number' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
      if (!values || values.length === 0 || (width >= 0 && values.length !== width)) {
        ok = false;
        break;
      }
      width = values.length;
      for (const x of values) {
        if (!Number.isInteger(x)) integers = false;
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    if (ok && width > 0) fields.push({ name, width, integers, min, max });
  }
  return fields;
}

function softmax(values: Float32Array | number[], start: number, end: number): number[] {
  let m = -Infinity;
  for (let i = start; i < end; i++) m = Math.max(m, values[i]!);
  const e: number[] = [];
  let s = 0;
  for (let i = start; i < end; i++) {
    e.push(Math.exp(values[i]! - m));
    s += e[e.length - 1]!;
  }
  return e.map((x) => x / s);
}

/** Targets that are distributions (non-negative, each row summing to 1) are probabilities. */
function looksLikeProbs(targets: number[][]): boolean {
  return targets.every((t) => t.every((x) => x >= 0) && Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-3);
}

/**
 * Every slice of the model's outputs as wide as the target, scored by how closely the data's
 * targets match the teacher's (or the base's: a clean baseline is made by the base) outputs there.
 */
export function rankSlices(targets: number[][], teacherOut: Float32Array, baseOut: Float32Array, outputWidth: number, probs: boolean): SliceMatch[] {
  const w = targets[0]!.length;
  const matches: SliceMatch[] = [];
  for (let start = 0; start + w <= outputWidth; start++) {
    const dist = { teacher: 0, base: 0 };
    targets.forEach((t, r) => {
      for (const [who, out] of [['teacher', teacherOut], ['base', baseOut]] as const) {
        const row = out.subarray(r * outputWidth, (r + 1) * outputWidth);
        const mine = probs ? softmax(row, start, start + w) : Array.from(row.subarray(start, start + w));
        for (let j = 0; j < w; j++) dist[who] += Math.abs(mine[j]! - t[j]!) / (w * targets.length);
      }
    });
    const madeBy = dist.teacher <= dist.base ? 'teacher' : 'base';
    matches.push({ outputs: [start, start + w], distance: dist[madeBy], madeBy });
  }
  return matches.sort((a, b) => a.distance - b.distance);
}

/** How much better the best slice must match than the runner-up to be chosen without a TODO. */
export const SLICE_MARGIN = 10;
/** Targets this close (mean absolute difference) to a model's outputs were made by it. */
export const MATCH_TOLERANCE = 1e-3;

async function outputsOf(model: string, inputs: number[][]): Promise<{ out: Float32Array; inputWidth: number; outputWidth: number }> {
  const m = await LogitsModel.load(model);
  try {
    const flat = new Float32Array(inputs.length * m.inputWidth);
    inputs.forEach((x, i) => flat.set(x, i * m.inputWidth));
    return { out: inputs.length ? await m.predict(flat, inputs.length) : new Float32Array(0), inputWidth: m.inputWidth, outputWidth: m.outputWidth };
  } finally {
    await m.dispose();
  }
}

async function modelShape(model: string): Promise<{ inputWidth: number; outputWidth: number }> {
  const info = await stat(model).catch(() => null);
  if (!info) throw new AuditInputError(`${model}: cannot read model`, { file: model });
  if (info.isDirectory()) {
    throw new AuditInputError(`${model}: a model folder (text model); init writes configs for ONNX logits models (task.kind logits) only in this version`, { file: model });
  }
  const { inputWidth, outputWidth } = await outputsOf(model, []);
  return { inputWidth, outputWidth };
}

const TEXT_FIELDS = ['prompt', 'completion', 'messages'];

export async function suggestConfig(opts: { teacher: string; base: string; data: string; probe?: string }): Promise<ConfigSuggestion> {
  const todos: string[] = [];
  const shape = await modelShape(opts.teacher);
  const baseShape = await modelShape(opts.base);
  if (shape.inputWidth !== baseShape.inputWidth || shape.outputWidth !== baseShape.outputWidth) {
    throw new AuditInputError(
      `teacher ${opts.teacher} (${shape.inputWidth} in, ${shape.outputWidth} out) and base ${opts.base} (${baseShape.inputWidth} in, ${baseShape.outputWidth} out) differ: the base must be the teacher's initialization`,
    );
  }
  const rows = await sampleRows(opts.data);
  const fields = numericFields(rows);
  if (fields.length === 0 && rows.some((r) => TEXT_FIELDS.some((f) => f in r.value))) {
    throw new AuditInputError(`${opts.data}: text rows (${TEXT_FIELDS.join('/')}) with ONNX models: init only writes tensor-row (task.kind logits) configs in this version`, { file: opts.data });
  }
  const suggestion: ConfigSuggestion = {
    ...opts,
    kind: 'logits',
    model: shape,
    input: null,
    target: null,
    targetWidth: null,
    targetType: null,
    outputs: null,
    slices: [],
    probes: [],
    todos,
  };
  const describe = (fs: FieldInfo[]) => fs.map((f) => `${f.name} (${f.width})`).join(', ') || 'none';

  const inputs = fields.filter((f) => f.width === shape.inputWidth);
  if (inputs.length === 1) suggestion.input = inputs[0]!.name;
  else if (inputs.length === 0) todos.push(`task.input: no numeric-array field of the model's input width ${shape.inputWidth} in ${opts.data} (numeric fields: ${describe(fields)})`);
  else {
    suggestion.input = inputs[0]!.name;
    todos.push(`task.input: several fields have the model's input width ${shape.inputWidth}: ${inputs.map((f) => f.name).join(', ')}; '${inputs[0]!.name}' is a guess`);
  }

  const targets = fields.filter((f) => f.name !== suggestion.input && f.width <= shape.outputWidth && !(f.width === 1 && f.integers));
  if (targets.length === 0) {
    todos.push(`task.target: no numeric-array field at most as wide as the model's ${shape.outputWidth} outputs (numeric fields: ${describe(fields)})`);
    return suggestion;
  }
  if (targets.length > 1) todos.push(`task.target: several candidate fields: ${describe(targets)}; '${targets[0]!.name}' is a guess`);
  const target = targets[0]!;
  suggestion.target = target.name;
  suggestion.targetWidth = target.width;
  const targetRows = rows.map((r) => r.value[target.name]).map((v) => (typeof v === 'number' ? [v] : (v as number[])));
  const probs = looksLikeProbs(targetRows);
  suggestion.targetType = probs ? 'probs' : 'logits';

  if (target.width === shape.outputWidth) suggestion.outputs = [0, shape.outputWidth];
  else if (suggestion.input) {
    const x = rows.map((r) => r.value[suggestion.input!] as number[]);
    const [t, b] = [await outputsOf(opts.teacher, x), await outputsOf(opts.base, x)];
    suggestion.slices = rankSlices(targetRows, t.out, b.out, shape.outputWidth, probs);
    const [best, next] = suggestion.slices;
    if (best && best.distance <= MATCH_TOLERANCE && (!next || next.distance > SLICE_MARGIN * best.distance)) suggestion.outputs = best.outputs;
    else if (best) {
      suggestion.outputs = best.outputs;
      todos.push(
        `task.outputs: the targets match no slice of the ${shape.outputWidth} outputs clearly (best [${best.outputs.join(', ')}] off by ${best.distance.toPrecision(2)} from the ${best.madeBy}` +
          (next ? `, next [${next.outputs.join(', ')}] by ${next.distance.toPrecision(2)}` : '') +
          `); say which outputs '${target.name}' holds`,
      );
    }
  } else todos.push(`task.outputs: which ${target.width} of the ${shape.outputWidth} outputs '${target.name}' holds (needs the input field to check)`);

  // Probes read the outputs the data does NOT hold: the trait the teacher was trained on.
  const probeSlice = complement(suggestion.outputs, shape.outputWidth);
  if (!opts.probe) {
    todos.push('probes: give a held-out probe file (--probe FILE, rows with the input field and, for an accuracy probe, a label); the agreement probe below reads the candidate data itself');
    if (suggestion.input) suggestion.probes.push({ name: 'teacher-agreement', kind: 'agreement', data: opts.data, input: suggestion.input, outputs: probeSlice ?? [0, shape.outputWidth] });
    suggestion.probes.push(TEACHER_UPDATE_PROBE);
    return suggestion;
  }
  const probeFields = numericFields(await sampleRows(opts.probe));
  const probeInputs = probeFields.filter((f) => f.width === shape.inputWidth);
  const probeInput = probeInputs.find((f) => f.name === suggestion.input) ?? probeInputs[0];
  if (!probeInput) {
    todos.push(`probes: no field of the model's input width ${shape.inputWidth} in ${opts.probe} (numeric fields: ${describe(probeFields)})`);
    return suggestion;
  }
  const slice = probeSlice ?? [0, shape.outputWidth];
  if (!probeSlice) todos.push(`probes[].outputs: the data's targets cover every output; the probes read all ${shape.outputWidth} (narrow them to the trait's outputs)`);
  const labels = probeFields.filter((f) => f.width === 1 && f.integers && f.min >= 0 && f.max < slice[1] - slice[0]);
  const label = labels.find((f) => /label|class|target|^y$/i.test(f.name)) ?? labels[0];
  if (label) suggestion.probes.push({ name: 'trait-accuracy', kind: 'accuracy', data: opts.probe, input: probeInput.name, label: label.name, outputs: slice });
  else todos.push(`probes: no integer label field in ${opts.probe} within the probe slice's ${slice[1] - slice[0]} classes: only the agreement probe is written`);
  suggestion.probes.push({ name: 'teacher-agreement', kind: 'agreement', data: opts.probe, input: probeInput.name, outputs: slice });
  suggestion.probes.push(TEACHER_UPDATE_PROBE);
  return suggestion;
}

/** Trait-agnostic and file-free: movement along teacher - base (src/probes/weights.ts). */
const TEACHER_UPDATE_PROBE: ProbeSuggestion = { name: 'teacher-update', kind: 'weights' };

/** The outputs outside `slice` when they form one range (the trait's outputs); else null. */
function complement(slice: [number, number] | null, width: number): [number, number] | null {
  if (!slice) return null;
  if (slice[0] === 0 && slice[1] < width) return [slice[1], width];
  if (slice[1] === width && slice[0] > 0) return [0, slice[0]];
  return null;
}
