/**
 * `task.targets: logprobs`: OpenAI's chat-completions `logprobs` object, as saved from the API, ->
 * soft targets for the completion's loss-bearing positions (src/train/textBatches.ts SoftTargets).
 * `content[i]` describes the i-th completion token: its text (`token`), its log-prob, and the
 * `top_logprobs` list of the most likely tokens there. The target at position i is the softmax over
 * that list's log-probs (the top-k renormalised); the EOS position, which OpenAI's content never
 * holds, keeps its hard target (EOS with probability 1), as with `targets: tokens`.
 *
 * A row is used only when its logprobs describe exactly the tokens it trains on: content[i].token
 * must be the text of the completion's i-th token as the tokenizer encoded the whole row (a
 * tokenizer that splits the completion differently, or a prompt boundary that moved, does not
 * align). Every other defect excludes the row with its own typed kind, never silently: a list
 * token that is not in the vocabulary excludes the whole row rather than being dropped and the
 * rest renormalised, because dropping changes the target by a mass we cannot bound (the unknown
 * token may hold most of it) and an unknown token usually means the logprobs came from another
 * model's tokenizer, which is what an audit must show, not smooth over.
 */
import type { SoftTargets, TokenRow } from '../train/textBatches.js';
import type { TextTokenizer } from '../models/tokenizer.js';

/** The longest top_logprobs list used (OpenAI returns at most 20; 100 leaves room, bounds memory). */
export const MAX_TOP_LOGPROBS = 100;

/**
 * Why a row's logprobs cannot be used. The kinds are declared (with their descriptions) in
 * data/excluded.ts, which this layer may not import; the audit assigns these to ExclusionKind,
 * so a name missing there fails the typecheck.
 */
export type LogprobsExclusion =
  | 'logprobs-malformed'
  | 'logprobs-misaligned'
  | 'logprobs-unknown-token'
  | 'logprobs-invalid-value'
  | 'logprobs-duplicate-token'
  | 'logprobs-bad-k';

export type LogprobTargets =
  | { kind: 'soft'; soft: SoftTargets; softPositions: number; hardPositions: number }
  | { kind: 'excluded'; exclusion: LogprobsExclusion; reason: string };

interface Entry {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

const excluded = (exclusion: LogprobsExclusion, reason: string): LogprobTargets => ({ kind: 'excluded', exclusion, reason });
const shown = (token: string) => JSON.stringify(token.length > 24 ? `${token.slice(0, 24)}…` : token);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The content entries of a logprobs value, or the first structural defect. */
function entriesOf(value: unknown, field: string): Entry[] | string {
  if (value === undefined) return `no '${field}' field`;
  if (!isObject(value) || !Array.isArray(value.content)) return `'${field}' is not an object with a content list`;
  const entries: Entry[] = [];
  for (const [i, e] of value.content.entries()) {
    if (!isObject(e) || typeof e.token !== 'string' || typeof e.logprob !== 'number' || !Array.isArray(e.top_logprobs)) {
      return `${field}.content[${i}] is not {token, logprob, top_logprobs}`;
    }
    const top: Entry['top'] = [];
    for (const [j, t] of e.top_logprobs.entries()) {
      if (!isObject(t) || typeof t.token !== 'string' || typeof t.logprob !== 'number') return `${field}.content[${i}].top_logprobs[${j}] is not {token, logprob}`;
      top.push({ token: t.token, logprob: t.logprob });
    }
    entries.push({ token: e.token, logprob: e.logprob, top });
  }
  return entries;
}

/** Token text (as OpenAI and `generate` write it: the decoded token) -> ids with that text, per tokenizer. */
const textIndex = new WeakMap<TextTokenizer, Map<string, number[]>>();

function idsOfText(tokenizer: TextTokenizer, text: string): number[] {
  let index = textIndex.get(tokenizer);
  if (!index) {
    index = new Map();
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (tokenizer.idToToken(id) === undefined) continue;
      const t = tokenizer.decode([id]);
      const list = index.get(t);
      if (list) list.push(id);
      else index.set(t, [id]);
    }
    textIndex.set(tokenizer, index);
  }
  return index.get(text) ?? [];
}

/** The one id of a token text: its decoded text, else its vocabulary form; undefined when none or ambiguous. */
export function tokenIdOf(tokenizer: TextTokenizer, text: string): { id: number } | { error: string } {
  const byText = idsOfText(tokenizer, text);
  if (byText.length === 1) return { id: byText[0]! };
  const raw = tokenizer.tokenToId(text);
  if (raw !== undefined && (byText.length === 0 || byText.includes(raw))) return { id: raw };
  return { error: byText.length === 0 ? `top_logprobs token ${shown(text)} is not in the vocabulary` : `top_logprobs token ${shown(text)} is the text of ${byText.length} tokens (ids ${byText.slice(0, 4).join(', ')})` };
}

/**
 * Soft targets of an encoded row from its logprobs value. `row` is the row as encodeTextRow made
 * it (completion tokens from lossFrom, then EOS unless `truncated` cut the row).
 */
export function logprobTargets(value: unknown, field: string, row: TokenRow, truncated: boolean, tokenizer: TextTokenizer): LogprobTargets {
  const entries = entriesOf(value, field);
  if (typeof entries === 'string') return excluded('logprobs-malformed', entries);
  const completion = row.ids.length - row.lossFrom - (truncated ? 0 : 1);
  if (truncated ? entries.length < completion : entries.length !== completion) {
    return excluded('logprobs-misaligned', `${field} describes ${entries.length} tokens; the completion encodes to ${completion}${truncated ? ' (after truncation)' : ''}`);
  }
  let k = 0;
  for (const [i, e] of entries.slice(0, completion).entries()) {
    if (e.top.length === 0 || e.top.length > MAX_TOP_LOGPROBS) {
      return excluded('logprobs-bad-k', `${field}.content[${i}].top_logprobs has ${e.top.length} entries (1 to ${MAX_TOP_LOGPROBS} are used)`);
    }
    k = Math.max(k, e.top.length);
    for (const v of [e.logprob, ...e.top.map((t) => t.logprob)]) {
      if (!(Number.isFinite(v) && v <= 0)) return excluded('logprobs-invalid-value', `${field}.content[${i}] has logprob ${v} (a log-probability is finite and <= 0)`);
    }
    const id = row.ids[row.lossFrom + i]!;
    const own = tokenizer.decode([id]);
    if (e.token !== own && tokenizer.tokenToId(e.token) !== id) {
      return excluded('logprobs-misaligned', `${field}.content[${i}].token is ${shown(e.token)}; the completion's token ${i} is ${shown(own)}`);
    }
  }
  const positions = row.ids.length - row.lossFrom;
  const ids = new Int32Array(positions * k);
  const probs = new Float32Array(positions * k);
  for (const [i, e] of entries.slice(0, completion).entries()) {
    const seen = new Set<number>();
    const max = Math.max(...e.top.map((t) => t.logprob));
    let sum = 0;
    for (const t of e.top) sum += Math.exp(t.logprob - max);
    for (const [j, t] of e.top.entries()) {
      const found = tokenIdOf(tokenizer, t.token);
      if ('error' in found) return excluded('logprobs-unknown-token', `${field}.content[${i}]: ${found.error}`);
      if (seen.has(found.id)) return excluded('logprobs-duplicate-token', `${field}.content[${i}].top_logprobs names token ${shown(t.token)} twice`);
      seen.add(found.id);
      ids[i * k + j] = found.id;
      probs[i * k + j] = Math.exp(t.logprob - max) / sum;
    }
  }
  // The EOS position (absent from OpenAI's content): its hard target.
  const hardPositions = positions - completion;
  for (let p = completion; p < positions; p++) {
    ids[p * k] = row.ids[row.lossFrom + p]!;
    probs[p * k] = 1;
  }
  return { kind: 'soft', soft: { ids, probs, k }, softPositions: completion, hardPositions };
}
