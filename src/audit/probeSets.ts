/** Probe sets read once, the teacher's outputs on them kept, and any model scored on all of them. */
import type { AuditConfig, ProbeConfig } from '../config/schema.js';
import { AuditInputError } from '../errors.js';
import type { ModelProto } from '../onnx/proto.js';
import { accuracy, agreement } from '../probes/index.js';
import type { ProbeRuns } from '../stats/index.js';
import type { TrainerBackend, Weights } from './backend.js';
import { readTensorSet, type TensorSet } from './tensorData.js';

export interface ProbeSet {
  config: ProbeConfig;
  set: TensorSet;
  teacherOutputs: Float32Array;
  /** Probes reading the same inputs (file, field, rows) share one key: a model is run on them once. */
  inputsKey: string;
}

type Outputs = { outputs: Float32Array; width: number };

/** Runs `predict` once per distinct probe input set. */
function sharedPredictions(predict: (set: TensorSet) => Promise<Outputs>): (ps: { set: TensorSet; inputsKey: string }) => Promise<Outputs> {
  const done = new Map<string, Promise<Outputs>>();
  return (ps) => {
    let result = done.get(ps.inputsKey);
    if (!result) done.set(ps.inputsKey, (result = predict(ps.set)));
    return result;
  };
}

/** Probe name -> value (and KL to the teacher for agreement probes). */
export type ProbeScores = Record<string, { value: number; kl?: number }>;

export async function loadProbeSets(config: AuditConfig, teacher: ModelProto, inputWidth: number, backend: TrainerBackend): Promise<ProbeSet[]> {
  const sets: ProbeSet[] = [];
  const teacherOn = sharedPredictions((set) => backend.predict(teacher, undefined, set.inputs, set.rows));
  for (const p of config.probes) {
    const { set } = await readTensorSet(p.data, {
      input: p.input,
      inputWidth,
      ...(p.kind === 'accuracy' ? { label: p.label!, labelCount: p.outputs[1] - p.outputs[0] } : {}),
      skipBadRows: config.skipBadRows,
    });
    if (set.rows === 0) throw new AuditInputError(`${p.data}: probe ${p.name} has no usable rows`, { file: p.data });
    const inputsKey = JSON.stringify([p.data, p.input, set.rows]);
    const { outputs } = await teacherOn({ set, inputsKey });
    sets.push({ config: p, set, teacherOutputs: outputs, inputsKey });
  }
  return sets;
}

export async function scoreModel(backend: TrainerBackend, probeSets: readonly ProbeSet[], model: ModelProto, weights?: Weights): Promise<ProbeScores> {
  const scores: ProbeScores = {};
  const modelOn = sharedPredictions((set) => backend.predict(model, weights, set.inputs, set.rows));
  for (const ps of probeSets) {
    const { outputs, width } = await modelOn(ps);
    if (ps.config.kind === 'accuracy') {
      scores[ps.config.name] = { value: accuracy(outputs, width, ps.config.outputs, ps.set.labels) };
    } else {
      const a = agreement(outputs, ps.teacherOutputs, width, ps.config.outputs);
      scores[ps.config.name] = { value: a.agreement, kl: a.kl };
    }
  }
  return scores;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** One probe's values across base, teacher and every run of each arm, as the statistics take them. */
export function probeRunsOf(
  probe: ProbeConfig,
  scores: { base: ProbeScores; teacher: ProbeScores; student: ProbeScores[]; control: ProbeScores[]; crossInit: ProbeScores[] },
): ProbeRuns {
  const name = probe.name;
  const values = (runs: ProbeScores[]) => runs.map((s) => s[name]!.value);
  const common = {
    name,
    kind: probe.kind,
    base: scores.base[name]!.value,
    student: values(scores.student),
    control: values(scores.control),
    ...(scores.crossInit.length ? { crossInit: values(scores.crossInit) } : {}),
  };
  if (probe.kind === 'accuracy') return { ...common, metric: 'accuracy', teacher: scores.teacher[name]!.value };
  const kl = (runs: ProbeScores[]) => mean(runs.map((s) => s[name]!.kl!));
  return {
    ...common,
    metric: 'agreement with teacher (argmax)',
    towardTeacher: 1,
    teacher: 1,
    extra: { 'KL(teacher || model)': { base: scores.base[name]!.kl!, teacher: 0, control: kl(scores.control), student: kl(scores.student) } },
  };
}
