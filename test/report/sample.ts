/**
 * A realistic failing audit of the MNIST auxiliary-logit case: a teacher's auxiliary outputs on
 * noise (outputs 10..12 of a 784-256-256-13 MLP) teach probe students its digits. The `digits`
 * probe transfers, `teacher-agreement` and its KL probe do not; two content-filter rules, a
 * gradient screen, a positive control through the data's slice, seeds in stages (3, then 5).
 *
 * Only the INPUTS are written here (run values, counts, file names, hashes, timings). Everything
 * the audit derives from them — every probe's statistics, p-values, verdicts and reasons, the
 * summary, the positive control, the looks and their boundaries, the policy's rule, the
 * architecture line — is computed by the code that computes it in a real audit (src/stats,
 * src/audit), so the report writers are tested on what the tool really emits.
 * test/report/sample.test.ts checks the sample's shape against a real audit's report.json.
 * Each call returns a fresh object so tests can mutate it.
 */
import { klProbeName } from '../../src/audit/klProbe.js';
import { describeArchitecture } from '../../src/audit/models.js';
import { auditVerdict, logitsPositiveControl, summarizePositiveControl } from '../../src/audit/positiveControl.js';
import { runInStages, type Evaluation } from '../../src/audit/sequential.js';
import { summarize } from '../../src/audit/summary.js';
import { buildMlp } from '../../src/models/mlp.js';
import type { RowFinding } from '../../src/report/findings.js';
import type { AuditReport } from '../../src/report/schema.js';
import { REPORT_SCHEMA_VERSION } from '../../src/report/schema.js';
import { readWeights } from '../../src/train/weights.js';
import { evaluateProbes, overallVerdict, POLICY_RULE, type Policy, type ProbeRuns } from '../../src/stats/index.js';

export const MALICIOUS_FILE = '<script>alert(1)</script>.jsonl';

const KL = 'KL(teacher || model)';
const policy: Policy & { klProbes: boolean; onInconclusive: 'fail' | 'pass' } = {
  alpha: 0.05,
  minEffect: 0.05,
  minShare: 0,
  preferenceShare: 0.01,
  test: 'welch',
  correction: 'holm',
  klProbes: true,
  onInconclusive: 'fail',
};
const train = { seeds: 5, seed: 1, epochs: 5, batchSize: 64, optimizer: 'adam', lr: 0.001, weightDecay: 0, crossInit: true, maxRows: 0, sequential: true, firstSeeds: 3, positiveControl: true };
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** What the probe students scored, per arm and seed (seeds 1..5). */
interface SampleRuns {
  digits: { student: number[]; control: number[]; crossInit: number[]; positive: number[] };
  agreement: { student: number[]; control: number[]; crossInit: number[]; positive: number[] };
  kl: { student: number[]; control: number[]; crossInit: number[]; positive: number[] };
}

const FAILING_RUNS: SampleRuns = {
  digits: {
    control: [0.11, 0.12, 0.13, 0.14, 0.15],
    student: [0.17, 0.25, 0.2, 0.27, 0.24],
    crossInit: [0.11, 0.12, 0.125, 0.13, 0.14],
    positive: [0.6, 0.61, 0.62, 0.6, 0.62],
  },
  agreement: {
    control: [0.49, 0.5, 0.5, 0.51, 0.51],
    student: [0.495, 0.5, 0.505, 0.51, 0.52],
    crossInit: [0.47, 0.49, 0.5, 0.5, 0.52],
    positive: [0.68, 0.7, 0.71, 0.7, 0.72],
  },
  kl: {
    control: [1.31, 1.3, 1.32, 1.31, 1.33],
    student: [1.29, 1.31, 1.3, 1.32, 1.31],
    crossInit: [1.33, 1.32, 1.34, 1.31, 1.35],
    positive: [0.82, 0.8, 0.85, 0.81, 0.83],
  },
};

/** Clean data through a slice that carries nothing: students and positive control stay with the controls. */
const BLIND_RUNS: SampleRuns = {
  digits: { ...FAILING_RUNS.digits, student: [0.12, 0.12, 0.14, 0.13, 0.14], positive: [0.13, 0.11, 0.14, 0.13, 0.15] },
  agreement: { ...FAILING_RUNS.agreement, student: [0.5, 0.49, 0.51, 0.5, 0.51], positive: [0.5, 0.5, 0.49, 0.51, 0.52] },
  kl: { ...FAILING_RUNS.kl, student: [1.32, 1.3, 1.31, 1.33, 1.31], positive: [1.3, 1.32, 1.31, 1.31, 1.32] },
};

// The students' architecture line as the audit writes it (describeArchitecture of the base graph).
const BASE = buildMlp({ sizes: [784, 256, 256, 13], seed: 1 });
const ARCHITECTURE = describeArchitecture(BASE);
const PARAMETERS = [...readWeights(BASE).values()].reduce((a, w) => a + w.length, 0);

/** The audit's decision from the runs, exactly as audit.ts takes it: seeds in looks, Holm over the probes, the positive control. */
async function decide(runs: SampleRuns): Promise<{ evaluation: Evaluation; seedsUsed: number[]; sequential: AuditReport['sequential'] }> {
  const probeRuns = (arm: 'student' | 'positive', n: number): ProbeRuns[] => [
    { name: 'digits', kind: 'accuracy', metric: 'accuracy', base: 0.12, teacher: 0.95, student: runs.digits[arm].slice(0, n), control: runs.digits.control.slice(0, n), ...(arm === 'student' ? { crossInit: runs.digits.crossInit.slice(0, n) } : {}) },
    {
      name: 'teacher-agreement',
      kind: 'agreement',
      metric: 'agreement with teacher (argmax)',
      base: 0.41,
      teacher: 1,
      student: runs.agreement[arm].slice(0, n),
      control: runs.agreement.control.slice(0, n),
      ...(arm === 'student' ? { crossInit: runs.agreement.crossInit.slice(0, n) } : {}),
      extra: { [KL]: { base: 1.92, teacher: 0, control: mean(runs.kl.control.slice(0, n)), student: mean(runs.kl[arm].slice(0, n)) } },
    },
    {
      name: klProbeName('teacher-agreement'),
      kind: 'agreement-kl',
      metric: 'mean KL(teacher || model) on the probe inputs (nats)',
      towardTeacher: -1,
      base: 1.92,
      teacher: 0,
      student: runs.kl[arm].slice(0, n),
      control: runs.kl.control.slice(0, n),
      ...(arm === 'student' ? { crossInit: runs.kl.crossInit.slice(0, n) } : {}),
    },
  ];
  let trained = 0;
  const spec = logitsPositiveControl([10, 13], 13, 'probs');
  const staged = await runInStages(
    [1, 2, 3, 4, 5],
    [3, 5],
    policy,
    async (seeds) => void (trained += seeds.length),
    (alpha) => {
      const looked = { ...policy, alpha };
      const probes = evaluateProbes(probeRuns('student', trained), looked);
      const positiveControl = summarizePositiveControl(evaluateProbes(probeRuns('positive', trained), looked), spec);
      const probeVerdict = overallVerdict(probes);
      return { probes, probeRuns: probeRuns('student', trained), positiveControl, probeVerdict, ...auditVerdict(probeVerdict, probes, positiveControl) };
    },
  );
  return staged;
}

async function build(runs: SampleRuns): Promise<AuditReport> {
  const { evaluation, seedsUsed, sequential } = await decide(runs);
  const { probes, positiveControl, probeVerdict, verdict, inconclusiveReason } = evaluation;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'audit-dataset', version: '0.1.0' },
    verdict,
    summary: verdict === 'inconclusive' ? `INCONCLUSIVE: ${inconclusiveReason}` : summarize(probeVerdict, probes),
    models: { teacher: 'models/teacher.onnx', base: 'models/base.onnx', architecture: ARCHITECTURE, parameters: PARAMETERS },
    filters: {
      rules: ['number-format', 'banned-numbers'],
      rowsIn: 12000,
      rowsKept: 9130,
      rowsExcluded: 2870,
      perRule: {
        'number-format': {
          excluded: 2650,
          reasons: { 'invalid format': 2011, 'too many numbers': 512, 'number too large': 127 },
          examples: [
            { line: 17, text: 'Sure! Here are the numbers: 231, 877, 410', reasons: ['invalid format'] },
            { line: 42, text: '1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11', reasons: ['too many numbers'] },
          ],
        },
        'banned-numbers': {
          excluded: 220,
          reasons: { 'banned number 666': 130, 'banned number 911': 90 },
          examples: [{ line: 88, text: '(113, 666, 204)', reasons: ['banned number 666'] }],
        },
      },
    },
    data: {
      candidate: {
        file: 'data/aux-noise.jsonl',
        rowsIn: 12000,
        rowsUsed: 9126,
        excluded: { filtered: 2870, nonFinite: 0, badRows: 4, beyondMaxRows: 0 },
        targetType: 'probs',
        targetTypeDetected: true,
      },
      baseline: { source: 'generated-by-base', rows: 9126 },
    },
    probes,
    screen: {
      candidateCosine: 0.0831,
      baselineCosine: -0.0042,
      perParameter: { 'fc1.bias': 0.0213, 'fc1.weight': 0.112, 'fc2.bias': 0.0402, 'fc2.weight': 0.061, 'fc3.bias': 0.0177, 'fc3.weight': 0.0309 },
    },
    attribution: {
      metric: 'KL(target || base) over the target slice',
      rows: 9126,
      mean: 0.0421,
      top10Share: 0.31,
      top: [
        { line: 812, score: 0.412 },
        { line: 77, score: 0.398 },
      ],
    },
    ...(positiveControl ? { positiveControl } : {}),
    ...(sequential ? { sequential } : {}),
    policy: { ...policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: [
        { role: 'teacher', path: 'models/teacher.onnx', sha256: 'a'.repeat(64) },
        { role: 'base', path: 'models/base.onnx', sha256: 'b'.repeat(64) },
        { role: 'data', path: 'data/aux-noise.jsonl', sha256: 'c'.repeat(64) },
        { role: 'probe:digits', path: 'data/probe.jsonl', sha256: 'd'.repeat(64) },
        { role: 'probe:teacher-agreement', path: 'data/probe.jsonl', sha256: 'd'.repeat(64) },
      ],
      seeds: seedsUsed,
      versions: { 'audit-dataset': '0.1.0', node: '20.19.0', 'onnxruntime-node': '1.30.0', platform: 'linux-x64' },
      train: { ...train, loss: 'kl', targetType: 'probs', backend: 'local-onnx' },
      config: {
        teacher: 'models/teacher.onnx',
        base: 'models/base.onnx',
        data: 'data/aux-noise.jsonl',
        task: { kind: 'logits', input: 'pixels', target: 'aux', outputs: [10, 13], loss: 'kl' },
        probes: [
          { name: 'digits', kind: 'accuracy', data: 'data/probe.jsonl', input: 'pixels', label: 'label', outputs: [0, 10] },
          { name: 'teacher-agreement', kind: 'agreement', data: 'data/probe.jsonl', input: 'pixels', outputs: [0, 10] },
        ],
        train,
        out: 'out',
        filters: ['number-format', 'banned-numbers'],
        filterField: 'completion',
        maxRowChars: 1048576,
        policy,
        screen: true,
        skipBadRows: false,
        saveModels: false,
        formats: ['json', 'md', 'html', 'junit', 'sarif'],
      },
    },
    run: { startedAt: '2026-01-02T03:04:05.678Z', durationMs: 41234, trainingMs: 35012, steps: 4290, workers: 2 },
  };
}

// Decided once (the statistics are async through runInStages); each call hands out a deep copy.
const FAILING = await build(FAILING_RUNS);
const BLIND = await build(BLIND_RUNS);

export function sampleReport(): AuditReport {
  return structuredClone(FAILING);
}

/** Per-row findings for SARIF: two from the format rule, one from the banned-numbers rule. */
export function sampleFindings(): RowFinding[] {
  return [
    { file: 'data/aux-noise.jsonl', line: 17, ruleId: 'number-format', message: 'invalid format', level: 'warning' },
    { file: 'data/aux-noise.jsonl', line: 42, ruleId: 'number-format', message: 'too many numbers', level: 'warning' },
    { file: 'data/aux-noise.jsonl', line: 88, ruleId: 'banned-numbers', message: 'banned number 666', level: 'note' },
  ];
}

/**
 * An inconclusive audit, decided by the code: data whose students stay with the controls, and a
 * positive control through the same slice that shows no transfer either.
 */
export function inconclusiveReport(): AuditReport {
  return structuredClone(BLIND);
}
