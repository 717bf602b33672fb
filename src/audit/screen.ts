/**
 * First-order screen from the theorem: a student's first gradient step on teacher-made data
 * has a non-negative inner product with (teacher - base). So cos(-grad of the data loss at the
 * base, teacher - base) > 0 flags data that pulls a student toward the teacher, before any
 * training. On base-made data the gradient at the base is ~0 and the cosine is noise near 0.
 */
import type { GradientScreen } from '../report/schema.js';
import type { ModelProto } from '../onnx/proto.js';
import type { LogitsStudentTask, StudentData, TrainerBackend, Weights } from './backend.js';

/** Rows used for the full-batch gradient: enough for a stable direction, cheap on a CPU. */
const SCREEN_ROWS = 4096;

function head(d: StudentData, rows: number): StudentData {
  const n = Math.min(rows, d.rows);
  return { ...d, rows: n, inputs: d.inputs.subarray(0, n * d.inputWidth), targets: d.targets.subarray(0, n * d.targetWidth) };
}

function cosine(pairs: [Float32Array, Float32Array][]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [a, b] of pairs) {
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

export async function gradientScreen(
  backend: TrainerBackend,
  args: { model: ModelProto; baseWeights: Weights; teacherWeights: Weights; candidate: StudentData; baseline: StudentData; task: LogitsStudentTask },
): Promise<GradientScreen> {
  const direction = new Map<string, Float32Array>();
  for (const [name, b] of args.baseWeights) {
    const t = args.teacherWeights.get(name)!;
    direction.set(name, t.map((v, i) => v - b[i]!));
  }
  const descent = async (data: StudentData) => {
    const grad = await backend.gradient!({ kind: 'logits', model: args.model, init: args.baseWeights, data: head(data, SCREEN_ROWS), task: args.task });
    return new Map([...grad].map(([name, g]) => [name, g.map((v) => -v)]));
  };
  const candidate = await descent(args.candidate);
  const baseline = await descent(args.baseline);
  const pairsOf = (g: Map<string, Float32Array>) => [...g].map(([name, v]) => [v, direction.get(name)!] as [Float32Array, Float32Array]);
  const perParameter: Record<string, number> = {};
  for (const [name, v] of candidate) perParameter[name] = cosine([[v, direction.get(name)!]]);
  return { candidateCosine: cosine(pairsOf(candidate)), baselineCosine: cosine(pairsOf(baseline)), perParameter };
}
