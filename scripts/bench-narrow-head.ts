/**
 * The narrowed output layer (src/train/narrowHead.ts) on audit-shaped text batches (run alone:
 * `npx tsx scripts/bench-narrow-head.ts`): a GPT of the tiny-LM fixture's shape (width 128, 4
 * layers, 1,615-token vocabulary), 64 rows of 46 prompt and 11 completion tokens like the study's
 * number rows, soft targets over 20 tokens as the audit's default soft data. Steps with the head at
 * the loss positions only against steps with the full logits, in the same process, rounds
 * alternating so load hits both alike; each side's figure is its median round.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildGpt } from '../src/models/gpt.js';
import { Random } from '../src/random.js';
import { textBatch, type TokenRow } from '../src/train/textBatches.js';
import { Trainer } from '../src/train/trainer.js';
import type { BenchResult } from './lib/bench-result.js';
import { median } from './bench-train.js';

const SHAPE = { vocabSize: 1615, width: 128, layers: 4, heads: 4, maxPositions: 128, seed: 1 };
const ROWS = 64;
const PROMPT = 46;
const COMPLETION = 11;
const K = 20;

function auditShapedRows(random: Random): TokenRow[] {
  return Array.from({ length: ROWS }, () => {
    const length = PROMPT + COMPLETION + (random.int(5) - 2);
    const ids = Int32Array.from({ length }, () => 1 + random.int(SHAPE.vocabSize - 1));
    const lossFrom = length - COMPLETION;
    const softIds = Int32Array.from({ length: COMPLETION * K }, () => 1 + random.int(SHAPE.vocabSize - 1));
    const probs = Float32Array.from({ length: COMPLETION * K }, () => 1 / K);
    return { ids, lossFrom, soft: { k: K, ids: softIds, probs } };
  });
}

export async function benchNarrowHead(options: { rounds?: number; steps?: number; log?: (line: string) => void } = {}): Promise<BenchResult[]> {
  const { rounds = 5, steps = 4, log = () => {} } = options;
  const model = buildGpt(SHAPE);
  const batch = textBatch(auditShapedRows(new Random(7)), Array.from({ length: ROWS }, (_, i) => i), 0, K);
  const make = (narrow: boolean) => Trainer.create(model, { loss: { kind: 'tokenKlDivergence', k: K }, optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 }, narrowTokenHead: narrow });
  const narrow = await make(true);
  const full = await make(false);
  try {
    if (!narrow.io.lossPositions || full.io.lossPositions) throw new Error('the head was not narrowed as expected');
    const time = async (t: Trainer): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await t.step(batch);
      return (performance.now() - t0) / 1000 / steps;
    };
    await time(narrow);
    await time(full);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await time(narrow));
      b.push(await time(full));
    }
    const [narrowS, fullS] = [median(a), median(b)];
    const tokens = (batch.inputs as Record<string, BigInt64Array>).input_ids!.length;
    log(`narrow head ${(narrowS * 1000).toFixed(0)} ms/step, full ${(fullS * 1000).toFixed(0)} ms/step (${tokens} padded tokens, ${batch.tokens} loss positions; load ${loadavg()[0]!.toFixed(1)})`);
    return [{
      name: `text training step, head at the loss positions only vs full logits (width 128, 4 layers, vocabulary 1,615, ${ROWS} rows of ${PROMPT} + ${COMPLETION} tokens, soft k ${K})`,
      value: ROWS / narrowS,
      unit: 'rows/s',
      target: '<= 0.9x the full step time',
      reference: { name: 'full logits', value: ROWS / fullS },
      ratio: narrowS / fullS,
      pass: narrowS / fullS <= 0.9,
    }];
  } finally {
    await narrow.dispose();
    await full.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await benchNarrowHead({ log: (l) => process.stdout.write(`${l}\n`) });
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}
