/** Text of a row: `{prompt, completion}`, chat `{messages:[{role, content}]}`, or a named field. */
import { rowError } from './errors.js';
import type { Row } from './types.js';

export interface TextFields {
  /** Field holding the text to check / the completion. Default 'completion' (or the last assistant message). */
  field?: string;
  /** Field holding the prompt. Default 'prompt'. */
  promptField?: string;
  /** Field holding chat messages. Default 'messages'. */
  messagesField?: string;
}

export interface RowText {
  prompt: string;
  completion: string;
}

interface Message {
  role?: unknown;
  content?: unknown;
}

/** The completion (text under test) of a row; throws AuditInputError naming file:line when absent. */
export function completionOf(row: Row, fields: TextFields = {}, file = '<rows>'): string {
  const name = fields.field ?? 'completion';
  const v = row.value[name];
  if (typeof v === 'string') return v;
  if (v === undefined) {
    const messages = row.value[fields.messagesField ?? 'messages'];
    if (Array.isArray(messages)) return lastAssistant(messages, row, file).content;
    throw rowError(file, row.line, `missing field '${name}' (expected {"prompt","completion"}, {"messages":[...]} or --field NAME)`);
  }
  return scalarText(v, name, row, file);
}

export function textOf(row: Row, fields: TextFields = {}, file = '<rows>'): RowText {
  const name = fields.field ?? 'completion';
  const messagesField = fields.messagesField ?? 'messages';
  if (row.value[name] === undefined && Array.isArray(row.value[messagesField])) {
    const messages = row.value[messagesField] as unknown[];
    const { index, content } = lastAssistant(messages, row, file);
    const prompt = messages
      .filter((_, i) => i !== index)
      .map((m, i) => messageContent(m, i, row, file))
      .join('\n');
    return { prompt, completion: content };
  }
  const completion = completionOf(row, fields, file);
  const promptName = fields.promptField ?? 'prompt';
  const p = row.value[promptName];
  const prompt = p === undefined || p === null ? '' : scalarText(p, promptName, row, file);
  return { prompt, completion };
}

function lastAssistant(messages: unknown[], row: Row, file: string): { index: number; content: string } {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message | null;
    if (m && typeof m === 'object' && m.role === 'assistant') return { index: i, content: messageContent(m, i, row, file) };
  }
  throw rowError(file, row.line, 'chat row has no assistant message');
}

function messageContent(m: unknown, i: number, row: Row, file: string): string {
  const content = m && typeof m === 'object' ? (m as Message).content : undefined;
  if (typeof content === 'string') return content;
  // OpenAI-style content parts: [{type:'text', text}]
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  }
  throw rowError(file, row.line, `messages[${i}] has no string 'content'`);
}

function scalarText(v: unknown, name: string, row: Row, file: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw rowError(file, row.line, `field '${name}' is not text (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`);
}
