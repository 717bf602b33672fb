/**
 * Text rows -> token rows for training. A row is `{prompt, completion}` or chat `{messages}`.
 * Training text = BOS + prompt + completion + EOS as the model folder's tokenizer files say:
 * plain rows are encoded with the tokenizer's own special tokens (its post-processor decides BOS)
 * and EOS is appended unless the encoding already ends with it. The loss covers the completion
 * and EOS; where the completion starts is found by tokenizing the prompt alone (as TRL does).
 * When the prompt's tokens are not a prefix of the whole row's (a merge across the join), the
 * boundary is the longest common prefix and the row is counted as misaligned.
 *
 * Templates: with a `chat_template` in tokenizer_config.json, chat rows are rendered by it (prompt
 * = every message but the last, with the generation prompt; the last message, the assistant's,
 * is the completion) and encoded without extra special tokens, since the template writes them.
 * Without one, the plain template: prompt = the contents of every message but the last, one per
 * line; completion = the last message's content. Plain {prompt, completion} rows are joined by
 * one space unless either side already has whitespace at the join.
 */
import { AuditInputError } from '../errors.js';
import type { TokenRow } from '../train/textBatches.js';
import type { ChatMessage, TextTokenizer } from './tokenizer.js';

export type OverLength = 'truncate' | 'error';

/** A data row as the readers yield it: its source line and its parsed value. */
export interface TextRowInput {
  line: number;
  value: Record<string, unknown>;
}

/** `file:line: message`, one line (exit 2). */
const rowError = (file: string, line: number, message: string): AuditInputError => new AuditInputError(`${file}:${line}: ${message}`, { file, line });

export interface TextRowOptions {
  /** Field names of plain rows (default prompt / completion) and chat rows (default messages). */
  promptField?: string;
  completionField?: string;
  messagesField?: string;
  /** Longest training sequence in tokens (BOS and EOS included). */
  maxLength: number;
  overLength: OverLength;
}

/** What happened to one row: a token row, or why it was left out. */
export type EncodedRow =
  | { kind: 'row'; row: TokenRow; truncated: boolean; misaligned: boolean }
  | { kind: 'excluded'; reason: string };

/** The prompt and completion texts of a row (plain or chat), or a reason it has none. */
export function rowTexts(row: TextRowInput, file: string, tokenizer: TextTokenizer, options: TextRowOptions): { prompt: string; completion: string; templated: boolean } {
  const v = row.value;
  const messagesField = options.messagesField ?? 'messages';
  const promptField = options.promptField ?? 'prompt';
  const completionField = options.completionField ?? 'completion';
  if (v[messagesField] !== undefined) {
    const messages = chatMessages(v[messagesField], file, row.line, messagesField);
    const last = messages.at(-1)!;
    if (last.role !== 'assistant') throw rowError(file, row.line, `the last message of '${messagesField}' is from '${last.role}'; the completion must be the assistant's`);
    const context = messages.slice(0, -1);
    if (tokenizer.chatTemplate !== undefined) {
      const prompt = tokenizer.applyChatTemplate(context, { addGenerationPrompt: true });
      const full = tokenizer.applyChatTemplate(messages);
      if (!full.startsWith(prompt)) return { prompt, completion: last.content, templated: true };
      return { prompt, completion: full.slice(prompt.length), templated: true };
    }
    return { prompt: context.map((m) => m.content).join('\n'), completion: last.content, templated: false };
  }
  const prompt = v[promptField];
  const completion = v[completionField];
  if (typeof prompt !== 'string') throw rowError(file, row.line, `field '${promptField}' is ${prompt === undefined ? 'missing' : 'not a string'} (text rows are {${promptField}, ${completionField}} or {${messagesField}})`);
  if (typeof completion !== 'string') throw rowError(file, row.line, `field '${completionField}' is ${completion === undefined ? 'missing' : 'not a string'}`);
  return { prompt, completion, templated: false };
}

function chatMessages(value: unknown, file: string, line: number, field: string): ChatMessage[] {
  if (!Array.isArray(value) || value.length < 2) throw rowError(file, line, `field '${field}' must be a list of at least two {role, content} messages`);
  return value.map((m, i) => {
    const msg = m as { role?: unknown; content?: unknown };
    if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string' || typeof msg.content !== 'string') {
      throw rowError(file, line, `${field}[${i}] is not a {role, content} message with string fields`);
    }
    return { role: msg.role, content: msg.content };
  });
}

/** Joins plain prompt and completion with one space unless the join already has whitespace. */
export function joinPlain(prompt: string, completion: string): string {
  if (prompt.length === 0 || /\s$/u.test(prompt) || /^\s/u.test(completion)) return prompt + completion;
  return `${prompt} ${completion}`;
}

export function encodeTextRow(row: TextRowInput, file: string, tokenizer: TextTokenizer, options: TextRowOptions): EncodedRow {
  const { prompt, completion, templated } = rowTexts(row, file, tokenizer, options);
  if (completion.trim().length === 0) return { kind: 'excluded', reason: 'empty completion' };
  if (tokenizer.eosId === undefined) throw rowError(file, row.line, `the tokenizer of ${tokenizer.folder} names no EOS token (tokenizer_config.json eos_token or config.json eos_token_id)`);
  const full = templated ? prompt + completion : joinPlain(prompt, completion);
  const special = { addSpecialTokens: !templated };
  const promptIds = tokenizer.encode(prompt, special);
  const ids = tokenizer.encode(full, special);
  if (ids.at(-1) !== tokenizer.eosId) ids.push(tokenizer.eosId);
  let lossFrom = promptIds.length;
  // A post-processor that appends EOS to the prompt alone would hide the boundary: ignore it.
  if (promptIds.at(-1) === tokenizer.eosId && ids[lossFrom - 1] !== tokenizer.eosId) lossFrom--;
  let common = 0;
  while (common < lossFrom && common < ids.length && ids[common] === promptIds[common]) common++;
  const misaligned = common < lossFrom;
  lossFrom = Math.max(1, common);
  if (lossFrom >= ids.length) return { kind: 'excluded', reason: 'completion adds no tokens' };
  let truncated = false;
  if (ids.length > options.maxLength) {
    if (options.overLength === 'error') {
      throw rowError(file, row.line, `${ids.length} tokens exceed task.maxLength ${options.maxLength} (set task.overLength: truncate to cut such rows)`);
    }
    if (lossFrom >= options.maxLength) return { kind: 'excluded', reason: `prompt fills task.maxLength ${options.maxLength}` };
    ids.length = options.maxLength;
    truncated = true;
  }
  return { kind: 'row', row: { ids: Int32Array.from(ids), lossFrom }, truncated, misaligned };
}
