/**
 * Op histogram of each reference decoder (fixtures/reference/*.onnx): every op the export emitted,
 * and the ones on the gradient path (parameters -> logits) that the rules table differentiates.
 * Usage: npx tsx scripts/reference/op-histogram.ts
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gradientPath } from '../../src/autodiff/gradients.js';
import { topologicalOrder } from '../../src/onnx/graph.js';
import { readModel } from '../../src/onnx/io.js';
import { defaultOpset, graphOf } from '../../src/onnx/proto.js';
import { trainableParams } from '../../src/train/weights.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'reference');
const histogram = (ops: readonly string[]): string => {
  const counts = new Map<string, number>();
  for (const op of ops) counts.set(op, (counts.get(op) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([op, n]) => `${op} ${n}`).join(', ');
};
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort()) {
  const model = await readModel(join(DIR, file));
  const graph = graphOf(model);
  const order = topologicalOrder(graph);
  const { nodes } = gradientPath(order, graph.output.map((o) => o.name!), trainableParams(model).map((t) => t.name));
  process.stdout.write(`${file} (opset ${defaultOpset(model)}, ${order.length} nodes)\n  all: ${histogram(order.map((n) => n.opType))}\n  differentiated: ${histogram(nodes.map((n) => n.opType))}\n`);
}
