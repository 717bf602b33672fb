/** A service's top_logprobs are checked before any probe reads them (a hostile or broken service). */
import { describe, expect, it } from 'vitest';
import { checkedTopLogprobs } from '../../src/audit/serviceTask.js';
import { ServiceError } from '../../src/service/client.js';

describe('checkedTopLogprobs', () => {
  it('keeps finite log-probabilities <= 0', () => {
    expect(checkedTopLogprobs('m', [{ token: 'owl', logprob: -0.1 }, { token: 'cat', logprob: 0 }])).toEqual([
      { token: 'owl', logprob: -0.1 },
      { token: 'cat', logprob: 0 },
    ]);
  });

  it.each([Infinity, -Infinity, NaN, 0.5, JSON.parse('1e999') as number])('refuses logprob %s with one line naming the model and token', (logprob) => {
    const call = () => checkedTopLogprobs('ft:base:owl', [{ token: 'owl', logprob: -1 }, { token: 'cat', logprob }]);
    expect(call).toThrow(ServiceError);
    expect(call).toThrow(/^ft:base:owl: the service returned top_logprobs token "cat" with logprob \S+ \(a finite number <= 0 is needed\)$/);
  });
});
