/**
 * Probes of a text audit, scored on text models (a model folder's tokenizer and graph, with a
 * student's weights). Interim until the probe-kind registry (src/probes) serves text tasks:
 * `agreement` only — top-1 agreement with the teacher's next token after each probe prompt, and
 * KL(teacher || model) of those next-token distributions, on held-out prompts.
 */
import type { TextAuditConfig } from '../config/schema.js';
import { readItems } from '../data/read.js';
import { isBadRow } from '../data/types.js';
import { rowError } from '../data/errors.js';
import { AuditInputError } from '../errors.js';
import type { ProgressListener } from '../events.js';
import type { TextModel } from '../models/generate.js';
import { encodePrompt } from '../models/tokenizer.js';
import type { TextModelPair } from './models.js';
import type { ProbeScores } from './probeSets.js';
import { loadTextModel } from '../models/generate.js';

export interface TextProbes {
  score(model: TextModel): Promise<ProbeScores>;
  close?(): Promise<void>;
}

interface AgreementProbe {
  name: string;
  prompts: number[][];
  teacher: Float32Array;
}

export const scoreTextProbes = {
  async load(config: TextAuditConfig, models: TextModelPair, emit: ProgressListener): Promise<TextProbes> {
    void emit;
    const teacher = await loadTextModel(models.teacherFolder);
    const probes: AgreementProbe[] = [];
    try {
      for (const p of config.probes) {
        if (p.kind !== 'agreement') throw new AuditInputError(`probe ${p.name}: kind ${p.kind} is not a text probe kind (text audits take agreement)`);
        const prompts: number[][] = [];
        for await (const item of readItems(p.data, { skipBadRows: config.skipBadRows, stringColumns: [p.input] })) {
          if (isBadRow(item)) continue;
          const value = item.value[p.input];
          if (typeof value !== 'string' || value.length === 0) throw rowError(p.data, item.line, `field '${p.input}' is not a non-empty prompt string`);
          prompts.push(encodePrompt(models.tokenizer, value));
        }
        if (prompts.length === 0) throw new AuditInputError(`${p.data}: probe ${p.name} has no usable rows`, { file: p.data });
        probes.push({ name: p.name, prompts, teacher: await teacher.runner.nextTokenLogProbs(prompts) });
      }
    } finally {
      await teacher.runner.dispose();
    }
    return {
      async score(model) {
        const scores: ProbeScores = {};
        for (const probe of probes) {
          const logp = await model.runner.nextTokenLogProbs(probe.prompts);
          const V = logp.length / probe.prompts.length;
          let agree = 0;
          let kl = 0;
          for (let r = 0; r < probe.prompts.length; r++) {
            const t = probe.teacher.subarray(r * V, (r + 1) * V);
            const m = logp.subarray(r * V, (r + 1) * V);
            if (argmax(t) === argmax(m)) agree++;
            for (let v = 0; v < V; v++) kl += Math.exp(t[v]!) * (t[v]! - m[v]!);
          }
          scores[probe.name] = { value: agree / probe.prompts.length, kl: kl / probe.prompts.length };
        }
        return scores;
      },
    };
  },
};

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
