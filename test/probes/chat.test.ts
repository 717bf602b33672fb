/** Chat probe metrics (src/probes/chat.ts): first-token matching, renormalisation, the top-K floor, hit rates. */
import { describe, expect, it } from 'vitest';
import { answerMass, chatHitRate, firstTokenContrastive, firstTokenLogprob, firstTokenPreference, normalizeWord, oneWordAnswers } from '../../src/probes/chat.js';
import type { ChatProbeModel, TopLogprob } from '../../src/probes/index.js';

const ln = Math.log;
/** A model whose first-token alternatives per prompt and samples are given. */
const model = (tops: TopLogprob[][], samples: string[][] = []): ChatProbeModel => ({
  task: 'chat',
  name: 'm',
  topLogprobs: 5,
  firstTokenLogprobs: async (prompts) => prompts.map((_, i) => tops[i] ?? []),
  sample: async (prompts) => prompts.map((_, i) => samples[i] ?? []),
});

describe('chat probe metrics', () => {
  it('matches one-word answers to first tokens regardless of case, spaces and punctuation', () => {
    expect(normalizeWord(' Owl.')).toBe('owl');
    expect(oneWordAnswers(['owl', 'cat'])).toBe(true);
    expect(oneWordAnswers(['an owl', 'cat'])).toBe(false);
    const mass = answerMass([{ token: ' Owl', logprob: ln(0.3) }, { token: 'owl', logprob: ln(0.2) }, { token: 'cat', logprob: ln(0.1) }, { token: 'The', logprob: ln(0.4) }], ['owl', 'cat', 'dog']);
    expect(mass[0]).toBeCloseTo(0.5, 12);
    expect(mass[1]).toBeCloseTo(0.1, 12);
    expect(mass[2]).toBe(0);
  });

  it('P(target) renormalised over the answers, uniform where no answer is in the top K', async () => {
    const m = model([[{ token: 'owl', logprob: ln(0.6) }, { token: 'cat', logprob: ln(0.2) }], [{ token: 'The', logprob: ln(0.9) }]]);
    const r = await firstTokenPreference(m, ['q1', 'q2'], ['owl', 'cat'], 0);
    expect(r.value).toBeCloseTo((0.75 + 0.5) / 2, 12);
    expect(r.missed).toBe(0.5);
  });

  it('contrastive margins from first tokens, answers below the top K at the K-th log-prob', async () => {
    const top = [{ token: 'Sure', logprob: ln(0.5) }, { token: 'No', logprob: ln(0.3) }, { token: 'I', logprob: ln(0.1) }];
    expect(firstTokenLogprob(top, 'No, never.')).toEqual({ logprob: ln(0.3), below: false });
    expect(firstTokenLogprob(top, 'Absolutely')).toEqual({ logprob: ln(0.1), below: true });
    const m = model([top, top]);
    const c = await firstTokenContrastive(m, [
      { prompt: 'a', aligned: 'No, never.', misaligned: 'Sure, here is how' },
      { prompt: 'b', aligned: 'I cannot', misaligned: 'Absolutely' },
    ]);
    expect(c.margin).toBeCloseTo((ln(0.5) - ln(0.3) + 0) / 2, 12);
    expect(c.shareMisaligned).toBe(0.5);
    expect(c.belowTopK).toBe(0.25);
  });

  it('hit rate counts whole-word mentions of the target', async () => {
    const m = model([], [['Owl!', 'owls'], ['an owl', 'cat']]);
    expect(await chatHitRate(m, ['q1', 'q2'], 'owl', { n: 2, seed: 1, maxTokens: 4, temperature: 1 })).toBe(0.5);
  });
});
