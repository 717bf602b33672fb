/**
 * The audit's probes: loaded once through the probe-kind table (src/probes/kinds.ts), the
 * teacher's reference kept, and any model scored on all of them. Tensor models are seen through
 * a handle that runs the model once per distinct probe input set.
 */
import type { AuditConfig, ProbeConfig } from '../config/schema.js';
import { isBadRow } from '../data/types.js';
import { readItems } from '../data/read.js';
import type { TextRunner } from '../models/textRunner.js';
import { encodeContinuation, encodePrompt, type TextTokenizer } from '../models/tokenizer.js';
import type { ModelProto } from '../onnx/proto.js';
import { loadProbe, type LoadedProbe, type ProbeLoadContext, type ProbeModel, type ProbeScore, type ProbeSpec, type TensorProbeInputs, type TensorProbeModel, type TextProbeModel } from '../probes/index.js';
import type { ProbeRuns } from '../stats/index.js';
import type { TrainerBackend, Weights } from './backend.js';
import { readTensorSet } from './tensorData.js';

export interface ProbeSet {
  config: ProbeConfig | ProbeSpec;
  loaded: LoadedProbe;
}

/** Probe name -> score (value, and secondary metrics such as KL beside agreement). */
export type ProbeScores = Record<string, ProbeScore>;

/** A tensor model as probes see it: probes reading the same inputs (file, field, rows) share one prediction. */
export function tensorProbeModel(backend: TrainerBackend, model: ModelProto, weights?: Weights, parameters?: Weights): TensorProbeModel {
  const done = new Map<string, Promise<{ outputs: Float32Array; width: number }>>();
  return {
    task: 'logits',
    ...(parameters ? { parameters } : {}),
    predict(set: TensorProbeInputs) {
      let result = done.get(set.key);
      if (!result) done.set(set.key, (result = backend.predict(model, weights, set.inputs, set.rows)));
      return result;
    },
  };
}

/** A text model (a model folder's tokenizer and graph, maybe with a student's weights) as probes see it. */
export function textProbeModel(model: { folder: string; tokenizer: TextTokenizer; runner: TextRunner }, parameters?: Weights): TextProbeModel {
  const { tokenizer: tok, runner } = model;
  return {
    task: 'text',
    name: model.folder,
    ...(parameters ? { parameters } : {}),
    vocab: runner.vocab,
    eosId: tok.eosId,
    unk: tok.unkId !== undefined ? { id: tok.unkId, text: tok.idToToken(tok.unkId) ?? '<unk>' } : undefined,
    encodePrompt: (prompt) => encodePrompt(tok, prompt),
    encodeContinuation: (prompt, completion) => encodeContinuation(tok, prompt, completion),
    decode: (ids) => tok.decode(ids, { skipSpecialTokens: true }),
    sequenceLogProbs: (rows) => runner.sequenceLogProbs(rows),
    visitPredictions: (rows, visit, options) => runner.visitPredictions(rows, visit, options),
    generate: (prompts, options) => runner.generate(prompts, options),
  };
}

/** Data rows for probes that read a file: the dataset readers, bad rows errors (or skipped and counted by the reader). */
async function* probeRows(file: string, options: { skipBadRows: boolean; stringColumns: string[] }): AsyncIterable<{ line: number; value: Record<string, unknown> }> {
  for await (const item of readItems(file, options)) if (!isBadRow(item)) yield item;
}

/** Loads every probe of the config for any task, given the teacher as that task exposes it. */
export async function loadProbes(specs: readonly (ProbeConfig | ProbeSpec)[], ctx: ProbeLoadContext): Promise<ProbeSet[]> {
  const sets: ProbeSet[] = [];
  for (const spec of specs) sets.push({ config: spec, loaded: await loadProbe(spec as ProbeSpec, { readRows: probeRows, ...ctx }) });
  return sets;
}

/** The probes of a tensor (logits) audit. */
export async function loadProbeSets(config: AuditConfig, models: { teacher: ModelProto; inputWidth: number; baseWeights: Weights; teacherWeights: Weights }, backend: TrainerBackend): Promise<ProbeSet[]> {
  const { teacher, inputWidth } = models;
  return loadProbes(config.probes, {
    task: 'logits',
    teacher: tensorProbeModel(backend, teacher, undefined, models.teacherWeights),
    parameters: { base: models.baseWeights, teacher: models.teacherWeights },
    source: 'audit config',
    skipBadRows: config.skipBadRows,
    readTensors: async (file, spec) => {
      const { set } = await readTensorSet(file, {
        input: spec.input,
        inputWidth,
        ...(spec.label !== undefined ? { label: spec.label, labelCount: spec.labelCount! } : {}),
        skipBadRows: config.skipBadRows,
      });
      return { file, key: JSON.stringify([file, spec.input, set.rows]), rows: set.rows, inputs: set.inputs, labels: set.labels };
    },
  });
}

/** Scores of one model (any task) on every probe. */
export async function scoreProbes(probeSets: readonly ProbeSet[], model: ProbeModel): Promise<ProbeScores> {
  const scores: ProbeScores = {};
  for (const ps of probeSets) scores[ps.loaded.name] = await ps.loaded.score(model);
  return scores;
}

/** Scores of a tensor model (the base graph with `weights`, or its own: `parameters`) on every probe. */
export async function scoreModel(backend: TrainerBackend, probeSets: readonly ProbeSet[], model: ModelProto, weights: Weights | undefined, parameters: Weights): Promise<ProbeScores> {
  return scoreProbes(probeSets, tensorProbeModel(backend, model, weights, weights ?? parameters));
}

/** One probe's values across base, teacher and every run of each arm, as the statistics take them. */
export function probeRunsOf(
  probe: ProbeSet,
  scores: { base: ProbeScores; teacher: ProbeScores; student: ProbeScores[]; control: ProbeScores[]; crossInit: ProbeScores[] },
): ProbeRuns {
  const loaded = probe.loaded;
  const name = loaded.name;
  const of = (list: ProbeScores[]) => list.map((s) => s[name]!);
  const [base, student, control, crossInit] = [scores.base[name]!, of(scores.student), of(scores.control), of(scores.crossInit)];
  const teacher = loaded.teacher ?? scores.teacher[name]!;
  const values = (runs: ProbeScore[]) => runs.map((s) => s.value);
  const extraNames = Object.keys(base.extra ?? {});
  return {
    name,
    kind: loaded.kind,
    base: base.value,
    student: values(student),
    control: values(control),
    ...(crossInit.length && !loaded.fromBase ? { crossInit: values(crossInit) } : {}),
    metric: loaded.metric,
    ...(loaded.towardTeacher !== undefined ? { towardTeacher: loaded.towardTeacher } : {}),
    teacher: teacher.value,
    ...(extraNames.length
      ? {
          extra: Object.fromEntries(
            extraNames.map((k) => {
              const meanOf = (runs: ProbeScore[]) => mean(runs.map((s) => s.extra![k]!));
              return [k, { base: base.extra![k]!, teacher: teacher.extra?.[k] ?? scores.teacher[name]!.extra![k]!, control: meanOf(control), student: meanOf(student) }];
            }),
          ),
        }
      : {}),
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
