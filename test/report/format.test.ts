import { describe, expect, it } from 'vitest';
import { escapeXml, mdCode } from '../../src/report/escape.js';
import { fmt, fmtCount, fmtP, fmtPercent, truncate } from '../../src/report/format.js';

describe('number formatting for people', () => {
  it('keeps 3 significant digits without exponents for ordinary values', () => {
    expect(fmt(0.240963855)).toBe('0.241');
    expect(fmt(0.0412345)).toBe('0.0412');
    expect(fmt(-0.0085)).toBe('-0.0085');
    expect(fmt(12.3456)).toBe('12.3');
    expect(fmt(1)).toBe('1');
    expect(fmt(0.1 + 0.2)).toBe('0.3');
    expect(fmt(1.5e-7)).toBe('1.50e-7');
    expect(fmt(null)).toBe('n/a');
    expect(fmt(Number.NaN)).toBe('NaN');
  });
  it('formats counts, percentages and p-values', () => {
    expect(fmtCount(1234567)).toBe('1,234,567');
    expect(fmtCount(999)).toBe('999');
    expect(fmtPercent(2650, 12000)).toBe('22.1%');
    expect(fmtPercent(1, 0)).toBe('n/a');
    expect(fmtP(0.2414)).toBe('0.24');
    expect(fmtP(3e-7)).toBe('3.0e-7');
  });
  it('truncates by code point, never splitting a surrogate pair', () => {
    const t = truncate('🦉'.repeat(100), 10);
    expect(Array.from(t)).toHaveLength(10);
    expect(t.endsWith('…')).toBe(true);
    expect(t).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('escaping', () => {
  it('makes Markdown code spans that survive backticks and table pipes', () => {
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('a|b', true)).toBe('`a\\|b`');
    expect(mdCode('a|b')).toBe('`a|b`');
  });
  it('replaces characters XML 1.0 forbids', () => {
    expect(escapeXml('a\u0001b\uD800c')).toBe('a\uFFFDb\uFFFDc');
    expect(escapeXml('🦉 & <')).toBe('🦉 &amp; &lt;');
  });
});
