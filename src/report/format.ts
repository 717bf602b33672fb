/**
 * Number and text formatting shared by the human-readable writers (Markdown, HTML, summary,
 * JUnit). The JSON writer rounds separately (see json.ts) because it must stay machine-exact.
 */

/** A number for people: up to `digits` significant digits, no exponent for ordinary magnitudes. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'n/a';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e9) {
    // toPrecision then Number() drops trailing zeros; toFixed avoids "1e-4" style output.
    const v = Number(x.toPrecision(digits));
    const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(v))));
    return trimZeros(v.toFixed(Math.min(decimals, 20)));
  }
  return x.toExponential(Math.max(0, digits - 1));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Signed, for deltas: "+0.2", "-0.013". */
export function fmtSigned(x: number, digits = 3): string {
  const s = fmt(x, digits);
  return x > 0 ? `+${s}` : s;
}

/** "[lo, hi]". */
export function fmtCi(ci: readonly [number, number], digits = 3): string {
  return `[${fmt(ci[0], digits)}, ${fmt(ci[1], digits)}]`;
}

/** p-values: small ones as "< 0.001" would hide the actual figure, so keep 2 significant digits. */
export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return fmt(p);
  if (p !== 0 && p < 1e-4) return p.toExponential(1);
  return fmt(p, 2);
}

/** Integer counts with thousands separators, locale-independent. */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return fmt(n);
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtPercent(part: number, whole: number): string {
  if (whole <= 0) return 'n/a';
  return `${fmt((100 * part) / whole, 3)}%`;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${fmt(ms / 1000, 3)} s` : `${Math.round(ms)} ms`;
}

/** Collapse whitespace and cut long text (example rows) to `max` characters. */
export function truncate(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(oneLine); // by code point, so a surrogate pair is never split
  return chars.length <= max ? oneLine : `${chars.slice(0, max - 1).join('')}…`;
}

/** Reasons sorted by count descending, then name, so output is deterministic. */
export function topReasons(reasons: Record<string, number>, n = 3): [string, number][] {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n);
}

/** Scalar config/hyper-parameter values as short text; objects as compact JSON. */
export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return fmt(v, 6);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? String(v);
}
