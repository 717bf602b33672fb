/**
 * A minimal well-formedness check for the XML and HTML the writers emit: every tag closes in order,
 * attributes are quoted, no stray '<' in text, every '&' starts an entity. Returns problems found.
 */
const HTML_VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>"']+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;

export function wellFormednessErrors(doc: string, kind: 'xml' | 'html'): string[] {
  const errors: string[] = [];
  let text = doc
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\?xml[^>]*\?>/, '')
    .replace(/<!DOCTYPE[^>]*>/i, '');
  if (kind === 'html') text = text.replace(/(<style[^>]*>)[\s\S]*?(<\/style>)/g, '$1$2');
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    const between = text.slice(last, m.index);
    if (between.includes('<')) errors.push(`stray '<' before offset ${m.index}: ${between.slice(0, 60)}`);
    last = m.index + m[0].length;
    const [, closing, name = '', , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) errors.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (selfClosing || (kind === 'html' && HTML_VOID.has(name.toLowerCase()))) {
      if (stack.length === 0) roots++;
    } else {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  if (text.slice(last).includes('<')) errors.push('stray < at end');
  if (stack.length > 0) errors.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) errors.push(`expected one root element, found ${roots}`);
  const badAmp = doc.match(/&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)/g);
  if (badAmp) errors.push(`${badAmp.length} bare '&'`);
  return errors;
}
