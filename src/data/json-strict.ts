/**
 * JSON with one meaning: JSON.parse keeps the LAST of duplicate keys, a first-wins parser downstream
 * keeps the first, so `{"completion":"ok","completion":"<hidden>"}` would be checked as one text and
 * trained as another. A duplicate key anywhere makes the text unusable.
 *
 * Fast path: after JSON.parse succeeds, count the keys written in the text (a string token followed by
 * ':') and the own keys of every parsed object; they differ exactly when a key repeats within one
 * object (JSON.parse assigns every written key, duplicates collapse). Only then is the text scanned
 * again, with one key set per open object, to name the duplicate.
 */

export type StrictJson = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseJsonStrict(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `malformed JSON (${(e as Error).message.split('\n')[0]})` };
  }
  if (value === null || typeof value !== 'object') return { ok: true, value };
  if (writtenKeyCount(text) === parsedKeyCount(value)) return { ok: true, value };
  const key = firstDuplicateKey(text);
  return { ok: false, reason: `duplicate key ${JSON.stringify(key ?? '?')} in a JSON object` };
}

/** Keys written in valid JSON text: string tokens whose next non-blank character is ':'. */
function writtenKeyCount(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i >= 0) {
    const end = stringEnd(text, i);
    let k = end + 1;
    let c = text.charCodeAt(k);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++k);
    if (c === 58) n++;
    i = text.indexOf('"', k);
  }
  return n;
}

/** Index of the closing quote of the string opening at `open` (valid JSON assumed). */
function stringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  for (;;) {
    let back = j - 1;
    while (text.charCodeAt(back) === 92) back--;
    // An even number of backslashes before the quote: it is not escaped.
    if ((j - 1 - back) % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
}

function parsedKeyCount(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === 'object') n += parsedKeyCount(v);
    }
    return n;
  }
  // JSON.parse makes own keys only (a "__proto__" key included), so `for in` sees exactly them.
  for (const key in value) {
    n++;
    const v = (value as Record<string, unknown>)[key];
    if (v !== null && typeof v === 'object') n += parsedKeyCount(v);
  }
  return n;
}

/** The first key that repeats within one object (slow path; valid JSON assumed). */
function firstDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) stack.push(new Set());
    else if (c === 91) stack.push(null);
    else if (c === 125 || c === 93) stack.pop();
    else if (c === 34) {
      const end = stringEnd(text, i);
      let k = end + 1;
      while (/\s/.test(text[k] ?? '')) k++;
      const keys = stack[stack.length - 1];
      if (text.charCodeAt(k) === 58 && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}

/** Keys a row object must not have: they would reach Object.prototype when copied into a plain object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
