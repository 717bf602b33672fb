/** A tiny audit setup (4-8-5 MLPs, a few hundred rows) for input-validation tests: fast, no MNIST. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildMlp } from '../../src/models/mlp.js';
import { encodeModel } from '../../src/onnx/io.js';
import { Random } from '../../src/random.js';

export interface TinyCase {
  dir: string;
  teacher: string;
  base: string;
  data: string;
  probe: string;
  /** A config object (as audit.yaml would hold) auditing `data`. */
  config: Record<string, unknown>;
}

export async function tinyCase(opts: { rows?: number; mutateRow?: (row: Record<string, unknown>, i: number) => void } = {}): Promise<TinyCase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-tiny-'));
  const base = buildMlp({ sizes: [4, 8, 5], seed: 1 });
  const teacher = buildMlp({ sizes: [4, 8, 5], seed: 2 });
  await writeFile(path.join(dir, 'base.onnx'), encodeModel(base));
  await writeFile(path.join(dir, 'teacher.onnx'), encodeModel(teacher));
  const random = new Random(5);
  const rows = opts.rows ?? 300;
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const p = random.next();
    const row: Record<string, unknown> = { x: [0, 1, 2, 3].map(() => Number(random.uniform(-1, 1).toFixed(3))), t: [p, 1 - p] };
    opts.mutateRow?.(row, i);
    lines.push(JSON.stringify(row));
  }
  await writeFile(path.join(dir, 'data.jsonl'), `${lines.join('\n')}\n`);
  const probe = Array.from({ length: 50 }, (_, i) => JSON.stringify({ x: [0, 1, 2, 3].map(() => Number(random.uniform(-1, 1).toFixed(3))), y: i % 3 }));
  await writeFile(path.join(dir, 'probe.jsonl'), `${probe.join('\n')}\n`);
  const file = (f: string) => path.join(dir, f);
  return {
    dir,
    teacher: file('teacher.onnx'),
    base: file('base.onnx'),
    data: file('data.jsonl'),
    probe: file('probe.jsonl'),
    config: {
      teacher: file('teacher.onnx'),
      base: file('base.onnx'),
      data: file('data.jsonl'),
      task: { kind: 'logits', input: 'x', target: 't', outputs: [3, 5] },
      probes: [
        { name: 'classes', kind: 'accuracy', data: file('probe.jsonl'), input: 'x', label: 'y', outputs: [0, 3] },
        { name: 'agreement', kind: 'agreement', data: file('probe.jsonl'), input: 'x', outputs: [0, 3] },
      ],
      train: { seeds: 2, epochs: 1, batchSize: 32 },
      out: file('out'),
    },
  };
}
