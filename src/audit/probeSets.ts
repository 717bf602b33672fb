/**
 * The audit's probes: loaded once through the probe-kind table (src/probes/kinds.ts), the
 * teacher's reference kept, and any model scored on all of them. Tensor models are seen through
 * a handle that runs the model once per distinct probe input set.
 */
import type { AuditConfig, ProbeConfig } from '../config/schema.js';
import type { ModelProto } from '../onnx/proto.js';
import { loadProbe, probeRuns, type LoadedProbe, type ProbeLoadContext, type ProbeModel, type ProbeScore, type ProbeSpec, type TensorProbeInputs, type TensorProbeModel } from '../probes/index.js';
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
export function tensorProbeModel(backend: TrainerBackend, model: ModelProto, weights?: Weights): TensorProbeModel {
  const done = new Map<string, Promise<{ outputs: Float32Array; width: number }>>();
  return {
    task: 'logits',
    predict(set: TensorProbeInputs) {
      let result = done.get(set.key);
      if (!result) done.set(set.key, (result = backend.predict(model, weights, set.inputs, set.rows)));
      return result;
    },
  };
}

/** Loads every probe of the config for any task, given the teacher as that task exposes it. */
export async function loadProbes(specs: readonly (ProbeConfig | ProbeSpec)[], ctx: ProbeLoadContext): Promise<ProbeSet[]> {
  const sets: ProbeSet[] = [];
  for (const spec of specs) sets.push({ config: spec, loaded: await loadProbe(spec as ProbeSpec, ctx) });
  return sets;
}

/** The probes of a tensor (logits) audit. */
export async function loadProbeSets(config: AuditConfig, teacher: ModelProto, inputWidth: number, backend: TrainerBackend): Promise<ProbeSet[]> {
  return loadProbes(config.probes, {
    task: 'logits',
    teacher: tensorProbeModel(backend, teacher),
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

/** Scores of a tensor model (the base graph with `weights`, or its own) on every probe. */
export async function scoreModel(backend: TrainerBackend, probeSets: readonly ProbeSet[], model: ModelProto, weights?: Weights): Promise<ProbeScores> {
  return scoreProbes(probeSets, tensorProbeModel(backend, model, weights));
}

/** One probe's values across base, teacher and every run of each arm, as the statistics take them. */
export function probeRunsOf(
  probe: ProbeSet,
  scores: { base: ProbeScores; teacher: ProbeScores; student: ProbeScores[]; control: ProbeScores[]; crossInit: ProbeScores[] },
): ProbeRuns {
  const name = probe.loaded.name;
  const runs = (list: ProbeScores[]) => list.map((s) => s[name]!);
  return probeRuns(probe.loaded, {
    base: scores.base[name]!,
    teacher: scores.teacher[name]!,
    student: runs(scores.student),
    control: runs(scores.control),
    crossInit: runs(scores.crossInit),
  });
}
