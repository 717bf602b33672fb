/**
 * The gate's own error rates, by simulation on a small model (8-16-6 MLPs): many audits, each
 * with its own seeds and independently drawn data, decided by the gate's rule (the statistics of
 * src/stats, seeds in stages by src/audit/sequential.ts, Holm over an agreement probe, its KL
 * probe and a weights probe), with students and controls trained by the audit's own backend.
 *  - null (effect 0): the students' data is clean too (the base's outputs on an independently
 *    drawn input set), so every FAIL is a false positive;
 *  - effect e > 0: the students' targets are the softmax of base + e * (teacher - base) logits on
 *    their inputs (e = 1: the teacher's outputs), so a FAIL is a detection.
 */
import { LocalOnnxBackend } from './localBackend.js';
import { klProbeName } from './klProbe.js';
import { looksOf, runInStages } from './sequential.js';
import { buildMlp } from '../models/mlp.js';
import type { ModelProto } from '../onnx/proto.js';
import { agreement } from '../probes/index.js';
import { shareOfTeacherUpdate, teacherUpdate } from '../probes/weights.js';
import { softmaxRows } from '../rows.js';
import { clopperPearson, evaluateProbes, overallVerdict, type Policy, type ProbeRuns } from '../stats/index.js';
import { Random } from '../train/random.js';
import { readWeights } from '../train/weights.js';

export interface GateSimOptions {
  audits: number;
  effects: number[];
  policy: Policy;
  /** Maximum seeds per arm; looks of firstSeeds when sequential. */
  seeds: number;
  firstSeeds: number;
  sequential: boolean;
  rows: number;
  epochs: number;
  /** Seed of the whole simulation (models, probe inputs, every audit's data). */
  seed: number;
}

export interface GateSimRow {
  effect: number;
  audits: number;
  fails: number;
  /** Audits not failed but inconclusive because a probe was degenerate (every run the same value). */
  degenerate: number;
  rate: number;
  /** 95% Clopper-Pearson interval of the rate. */
  ci: [number, number];
  meanSeedsUsed: number;
}

const SIZES = [8, 16, 6] as const;
const SLICE: [number, number] = [0, 6];
const PROBE_ROWS = 300;

function uniformInputs(random: Random, rows: number): Float32Array {
  return Float32Array.from({ length: rows * SIZES[0] }, () => random.uniform(-1, 1));
}

export async function simulateGate(options: GateSimOptions, onAudit: (effect: number, done: number) => void = () => {}): Promise<GateSimRow[]> {
  const backend = new LocalOnnxBackend();
  try {
    const base: ModelProto = buildMlp({ sizes: SIZES, seed: options.seed });
    const teacher: ModelProto = buildMlp({ sizes: SIZES, seed: options.seed + 1 });
    const baseWeights = readWeights(base);
    const update = teacherUpdate(baseWeights, readWeights(teacher), 'teacher-update');
    const width = SIZES[2];
    const random = new Random(options.seed + 2);
    const probeInputs = uniformInputs(random, PROBE_ROWS);
    const teacherOnProbe = (await backend.predict(teacher, undefined, probeInputs, PROBE_ROWS)).outputs;
    const looks = options.sequential ? looksOf({ seeds: options.seeds, sequential: true, firstSeeds: options.firstSeeds }) : [options.seeds];
    const task = { slice: SLICE, loss: 'kl' as const, targetType: 'probs' as const };
    const rows: GateSimRow[] = [];
    for (const effect of options.effects) {
      let fails = 0;
      let degenerate = 0;
      let seedsUsed = 0;
      for (let a = 0; a < options.audits; a++) {
        const r = new Random(options.seed * 1_000_003 + Math.round(effect * 1000) * 10_007 + a);
        const inputsA = uniformInputs(r, options.rows);
        const inputsB = uniformInputs(r, options.rows);
        const baseA = (await backend.predict(base, undefined, inputsA, options.rows)).outputs;
        const baseB = (await backend.predict(base, undefined, inputsB, options.rows)).outputs;
        let studentLogits = baseA;
        if (effect > 0) {
          const teacherA = (await backend.predict(teacher, undefined, inputsA, options.rows)).outputs;
          studentLogits = baseA.map((b, i) => b + effect * (teacherA[i]! - b));
        }
        const data = (inputs: Float32Array, logits: Float32Array) => ({ inputs, targets: softmaxRows(logits, width), rows: options.rows, inputWidth: SIZES[0], targetWidth: width });
        const student = data(inputsA, studentLogits);
        const control = data(inputsB, baseB);
        type Scores = { agree: number; kl: number; share: number };
        const scores = { student: [] as Scores[], control: [] as Scores[] };
        const score = async (weights: Map<string, Float32Array>): Promise<Scores> => {
          const { outputs } = await backend.predict(base, weights, probeInputs, PROBE_ROWS);
          const s = agreement(outputs, teacherOnProbe, width, [0, 4]);
          return { agree: s.agreement, kl: s.kl, share: shareOfTeacherUpdate(update, weights) };
        };
        const trainSeeds = async (seeds: readonly number[]) => {
          for (const seed of seeds) {
            for (const [arm, set] of [['student', student], ['control', control]] as const) {
              const trained = await backend.train({ kind: 'logits', model: base, init: baseWeights, data: set, task, train: { epochs: options.epochs, batchSize: 32, optimizer: 'adam', lr: 1e-3, weightDecay: 0, seed }, label: arm });
              scores[arm].push(await score(trained.weights));
            }
          }
        };
        const evaluate = (alpha: number) => {
          const runs: ProbeRuns[] = [
            { name: 'agreement', kind: 'agreement', metric: 'agreement', towardTeacher: 1, base: 0, teacher: 1, student: scores.student.map((s) => s.agree), control: scores.control.map((s) => s.agree) },
            { name: klProbeName('agreement'), kind: 'agreement-kl', metric: 'KL', towardTeacher: -1, base: 1, teacher: 0, student: scores.student.map((s) => s.kl), control: scores.control.map((s) => s.kl) },
            { name: 'teacher-update', kind: 'weights', metric: 'share of teacher - base', towardTeacher: 1, base: 0, teacher: 1, student: scores.student.map((s) => s.share), control: scores.control.map((s) => s.share) },
          ];
          const probes = evaluateProbes(runs, { ...options.policy, alpha });
          const probeVerdict = overallVerdict(probes);
          return { probes, probeRuns: runs, positiveControl: undefined, probeVerdict, verdict: probeVerdict };
        };
        const seeds = Array.from({ length: options.seeds }, (_, i) => 1 + a * 1000 + i);
        const staged = await runInStages(seeds, looks, options.policy, trainSeeds, evaluate);
        // A FAIL is what the rate measures; a pass resting on a degenerate probe (every run the same
        // value) makes the audit inconclusive, counted apart: it is neither a false FAIL nor a pass.
        if (staged.evaluation.verdict === 'fail') fails++;
        else if (staged.evaluation.probes.some((p) => p.degenerate)) degenerate++;
        seedsUsed += staged.seedsUsed.length;
        onAudit(effect, a + 1);
      }
      rows.push({ effect, audits: options.audits, fails, degenerate, rate: fails / options.audits, ci: clopperPearson(fails, options.audits), meanSeedsUsed: seedsUsed / options.audits });
    }
    return rows;
  } finally {
    await backend.close();
  }
}

/** README-ready Markdown table of a simulation. */
export function gateSimTable(rows: readonly GateSimRow[], policy: Policy): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `| effect (share of teacher - base logits in the students' targets) | audits | FAIL (transfer) | rate [95% CI] | inconclusive: a degenerate probe | mean seeds per arm |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.effect === 0 ? '0 (null: clean vs clean)' : r.effect} | ${r.audits} | ${r.fails} | ${pct(r.rate)} [${pct(r.ci[0])}, ${pct(r.ci[1])}] | ${r.degenerate} | ${r.meanSeedsUsed.toFixed(2)} |`),
    '',
    `alpha = ${policy.alpha}, minEffect = ${policy.minEffect}, ${policy.test}, ${policy.correction} over 3 probes (agreement, its KL, and the weights probe's share of teacher - base).`,
  ].join('\n');
}
