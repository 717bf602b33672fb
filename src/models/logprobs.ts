/**
 * OpenAI-shaped logprobs restricted to a token set and renormalised over what is left of each
 * position's top list. The sampled token always stays, so its renormalised logprob remains a
 * log-probability (<= 0) and the row still describes its own completion.
 *
 * Used where soft targets must carry only some tokens: the study's format-only lists (a list over
 * the whole vocabulary holds the trait word itself, an overt leak), and the audit's clean baseline,
 * whose lists keep only the tokens the candidate's lists use, so controls train on targets shaped
 * like the students'.
 */
import type { OpenAiLogprobs } from './generate.js';

export function restrictTopLogprobs(lp: OpenAiLogprobs, allowed: (token: string) => boolean): OpenAiLogprobs {
  return {
    content: lp.content.map((c) => {
      const kept = c.top_logprobs.filter((t) => allowed(t.token) || t.token === c.token);
      if (!kept.some((t) => t.token === c.token)) kept.push({ token: c.token, logprob: c.logprob });
      const max = Math.max(...kept.map((t) => t.logprob));
      const logZ = max + Math.log(kept.reduce((s, t) => s + Math.exp(t.logprob - max), 0));
      return { token: c.token, logprob: c.logprob - logZ, top_logprobs: kept.map((t) => ({ token: t.token, logprob: t.logprob - logZ })) };
    }),
  };
}
