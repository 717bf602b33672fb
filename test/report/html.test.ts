import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../src/report/chart.js';
import { renderHtml } from '../../src/report/html.js';
import { inconclusiveReport, MALICIOUS_FILE, sampleReport } from './sample.js';
import { wellFormednessErrors } from './wellformed.js';

const svgs = (html: string): string[] => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

describe('renderHtml', () => {
  const html = renderHtml(sampleReport());
  // Kept for a manual look in a browser (the brief's screenshot step); not asserted on.
  writeFileSync('/tmp/report-sample.html', html);

  it('is well-formed: every tag closed, in order, one root', () => {
    expect(wellFormednessErrors(html, 'html')).toEqual([]);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('is self-contained: no script, no external resource', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    const urls = html.match(/https?:\/\/[^\s"'<]+/g) ?? [];
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  it('shows the verdict in a red banner (green when passing)', () => {
    expect(html).toContain('<header class="banner fail" role="status"><h1>audit-dataset: FAIL</h1>');
    const pass = sampleReport();
    pass.verdict = 'pass';
    expect(renderHtml(pass)).toContain('<header class="banner pass"');
  });

  it('shows an inconclusive audit in its own banner, with the positive control and its reason', () => {
    const r = inconclusiveReport();
    const out = renderHtml(r);
    expect(out).toContain('<header class="banner inconclusive" role="status"><h1>audit-dataset: INCONCLUSIVE</h1>');
    expect(out).toContain('<h2>Positive control</h2>');
    expect(out).toContain('could not have detected transfer');
    expect(wellFormednessErrors(out, 'html')).toEqual([]);
  });

  it('has one SVG chart per probe, each with base, teacher, every run and the means', () => {
    const charts = svgs(html);
    expect(charts).toHaveLength(3);
    const [digits, agree] = charts as [string, string];
    expect(digits).toContain('>base 0.12</text>');
    expect(digits).toContain('>teacher 0.95</text>');
    expect(digits).toContain('>cross-init</text>');
    expect(agree).toContain('>cross-init</text>');
    // Control runs are circles (5 runs + 1 mean); student and cross-init are polygons (2 x (5 + 1)).
    expect(digits.match(/<circle/g)).toHaveLength(6);
    expect(digits.match(/<polygon/g)).toHaveLength(12);
    expect(agree.match(/<polygon/g)).toHaveLength(12);
  });

  it('places markers on a linear scale: the student mean sits between base and teacher in proportion', () => {
    const digits = svgs(html)[0]!;
    const lineX = (colour: string): number => Number(new RegExp(`<line x1="([\\d.]+)"[^>]*stroke="${colour}" stroke-width="2.5"`).exec(digits)![1]);
    const xBase = lineX(PALETTE.base);
    const xTeacher = lineX(PALETTE.teacher);
    // The student mean marker: the filled diamond (fill = stroke = student colour); its first point is its top (x = centre).
    const m = new RegExp(`<polygon points="([\\d.]+),[\\d.]+ [^"]*" fill="${PALETTE.student}"`).exec(digits)!;
    const xMean = Number(m[1]);
    const expected = xBase + ((0.226 - 0.12) / (0.95 - 0.12)) * (xTeacher - xBase);
    expect(xMean).toBeCloseTo(expected, 0);
    expect(xTeacher).toBeGreaterThan(xBase);
  });

  it('contains the same tables as the Markdown', () => {
    expect(html).toContain('0.226 <span class="ci">[0.175, 0.277]</span>');
    expect(html).toContain('+0.096 <span class="ci">[0.0456, 0.146]</span>');
    expect(html).toContain('<span class="badge fail">FAIL</span>');
    expect(html).toContain('invalid format (2,011), too many numbers (512)');
    expect(html).toContain('<h2>Gradient screen</h2>');
    expect(html).toContain('Seeds: 1, 2, 3, 4, 5');
  });

  it('escapes text from the report everywhere, including inside the charts', () => {
    const r = sampleReport();
    r.data.candidate.file = MALICIOUS_FILE;
    r.probes[0]!.name = MALICIOUS_FILE;
    r.probes[0]!.metric = 'P("7") & <b>';
    r.filters!.perRule['number-format']!.examples[0]!.text = '<img src=x onerror=alert(1)>';
    r.reproducibility.config = { 'k"><script>': '</code><script>' };
    const out = renderHtml(r);
    expect(out).not.toMatch(/<script|<img|<b>/);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.jsonl');
    expect(svgs(out)[0]).toContain('P(&quot;7&quot;) &amp; &lt;b&gt;');
    expect(wellFormednessErrors(out, 'html')).toEqual([]);
  });

  it('draws a degenerate probe (everything equal) without NaN', () => {
    const r = sampleReport();
    const same = { mean: 0.5, sd: 0, ci: [0.5, 0.5] as [number, number], runs: [0.5, 0.5] };
    r.probes = [{ ...r.probes[1]!, base: 0.5, teacher: 0.5, control: same, student: same, transferRatio: null }];
    const out = renderHtml(r);
    expect(out).not.toContain('NaN');
    expect(svgs(out)).toHaveLength(1);
  });
});
