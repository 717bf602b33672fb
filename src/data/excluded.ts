/**
 * A row that was not used, and why: one shape for every producer (the `filter` command, the
 * audit's tensor reader, the content filters run inside an audit), told apart by a typed `kind`
 * rather than by the wording of its reasons. excluded.jsonl holds one of these per line.
 */
import type { BadRow, Row } from './types.js';

/** Every kind of exclusion. Adding one: a new entry here; the compiler then asks for its count key and finding level. */
export const EXCLUSION_KINDS = {
  'bad-row': 'the row could not be read (malformed, missing a field), with skipBadRows',
  'non-finite': 'the row holds NaN or Infinity values',
  filter: 'a content-filter rule rejected the row (`rules` names which)',
  'row-limit': 'the row came after the configured row limit (train.maxRows) and was not used',
  'too-long': 'the row\'s text is longer than maxRowChars: excluded before any filter rule ran',
  'empty-completion': 'a text row whose completion is empty or whitespace',
  'no-completion-tokens': 'a text row whose prompt alone fills task.maxLength, or whose completion adds no token',
  'logprobs-malformed': "task.targets: logprobs: the row's logprobs field is missing or not OpenAI's {content: [{token, logprob, top_logprobs: [{token, logprob}]}]} shape",
  'logprobs-misaligned': "task.targets: logprobs: the logprobs content tokens are not the completion's own tokens, position by position, as the tokenizer encodes the row",
  'logprobs-unknown-token': 'task.targets: logprobs: a top_logprobs token is not in the vocabulary (or names several tokens)',
  'logprobs-invalid-value': 'task.targets: logprobs: a logprob is not a finite number <= 0',
  'logprobs-duplicate-token': 'task.targets: logprobs: one top_logprobs list names the same token twice',
  'logprobs-bad-k': 'task.targets: logprobs: a top_logprobs list is empty or longer than the cap (100)',
} as const;

export type ExclusionKind = keyof typeof EXCLUSION_KINDS;

export interface ExcludedRow {
  file: string;
  line: number;
  kind: ExclusionKind;
  reasons: string[];
  /** Names of the content-filter rules that excluded the row (kind 'filter'). */
  rules?: string[];
  /** The row itself, when the producer keeps it for the listing. */
  row?: Row;
  /** The unreadable row (kind 'bad-row'), when the producer keeps it. */
  bad?: BadRow;
}

/**
 * One excluded.jsonl line: `{file, line, kind, reasons, rules?}` and then, when the producer
 * kept it, the row (`row`: the parsed value, passed through verbatim when the source line is
 * known) or the raw text of a bad row (`raw`).
 */
export function excludedLine(ex: ExcludedRow): string {
  const head = JSON.stringify({ file: ex.file, line: ex.line, kind: ex.kind, reasons: ex.reasons, ...(ex.rules && ex.rules.length > 0 ? { rules: ex.rules } : {}) });
  if (ex.bad) return `${head.slice(0, -1)},"raw":${JSON.stringify(ex.bad.raw ?? null)}}`;
  if (ex.row) return `${head.slice(0, -1)},"row":${ex.row.raw ?? JSON.stringify(ex.row.value)}}`;
  return head;
}
