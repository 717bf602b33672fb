/** Escaping for each output language. Everything from the report (file names, rows) goes through these. */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text and attribute values in HTML (and SVG inside HTML). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * XML 1.0 text and attribute values. Characters XML forbids even when escaped (C0 controls except
 * tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, or the document would not parse.
 */
export function escapeXml(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

export function stripInvalidXmlChars(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}

/**
 * Inline Markdown text, also valid inside a GFM table cell: one line, pipes and markup escaped,
 * and angle brackets as entities so raw HTML in data is shown, not rendered.
 */
export function escapeMd(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]#|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * A Markdown code span for paths, hashes and example rows. The fence is longer than any backtick run
 * inside; in a table, pipes are escaped because GFM splits cells on them even inside code spans.
 */
export function mdCode(text: string, inTable = false): string {
  const flat = text.replace(/\r?\n|\r/g, ' ');
  const oneLine = inTable ? flat.replace(/\|/g, '\\|') : flat;
  const longest = Math.max(0, ...Array.from(oneLine.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || oneLine === '' ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}
