import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import { inconclusiveReport, MALICIOUS_FILE, sampleReport } from './sample.js';
import { wellFormednessErrors } from './wellformed.js';

const testcases = (xml: string): string[] => xml.match(/<testcase [\s\S]*?<\/testcase>/g) ?? [];

describe('renderJunit', () => {
  const xml = renderJunit(sampleReport());

  it('is well-formed XML with one testsuite named audit-dataset', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(wellFormednessErrors(xml, 'xml')).toEqual([]);
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toContain('<testsuite name="audit-dataset" tests="6" failures="1" errors="0" skipped="0"');
  });

  it('has a testcase per probe, the positive control and per filter rule, failing only the failing probe', () => {
    const cases = testcases(xml);
    expect(cases.map((c) => / name="([^"]*)"/.exec(c)![1])).toEqual(['digits', 'teacher-agreement', 'teacher-agreement (KL)', 'positive-control', 'number-format', 'banned-numbers']);
    const failing = cases.filter((c) => c.includes('<failure'));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toContain('name="digits"');
    expect(failing[0]).toContain('message="students moved 0.096 toward the teacher beyond controls (p=0.006 adjusted &lt; 0.0465, &gt; minEffect 0.05)"');
    expect(failing[0]).toContain('delta +0.096 [0.0456, 0.146], p 0.0058 (welch)');
  });

  it('puts filter counts in system-out without failing', () => {
    const format = testcases(xml).find((c) => c.includes('name="number-format"'))!;
    expect(format).not.toContain('<failure');
    expect(format).toContain('excluded 2,650 of 12,000 rows');
    expect(format).toContain('invalid format: 2,011');
    expect(format).toContain('line 17: Sure! Here are the numbers');
  });

  it('escapes hostile names and drops characters XML cannot carry', () => {
    const r = sampleReport();
    r.probes[0]!.name = MALICIOUS_FILE;
    r.probes[0]!.reason = 'quote " apostrophe \' amp & bell \u0007 end';
    r.filters!.perRule['number-format']!.examples[0]!.text = ']]> <x> \u0000';
    const out = renderJunit(r);
    expect(wellFormednessErrors(out, 'xml')).toEqual([]);
    expect(out).toContain('name="&lt;script&gt;alert(1)&lt;/script&gt;.jsonl"');
    expect(out).toContain('message="quote &quot; apostrophe &#39; amp &amp; bell \uFFFD end"');
    expect(out).not.toMatch(/[\u0000-\u0008]/);
  });

  it('fails a positive-control testcase when the audit is inconclusive, unless policy.onInconclusive is pass', () => {
    const r = inconclusiveReport();
    const out = renderJunit(r);
    expect(out).toContain('name="positive-control"');
    expect(out).toContain('type="inconclusive"');
    expect(out).toContain('failures="1"');
    expect(wellFormednessErrors(out, 'xml')).toEqual([]);
    r.policy.onInconclusive = 'pass';
    expect(renderJunit(r)).toContain('failures="0"');
  });

  it('has no failures when every probe passes', () => {
    const r = sampleReport();
    r.verdict = 'pass';
    r.probes[0]!.verdict = 'pass';
    const out = renderJunit(r);
    expect(out).not.toContain('<failure');
    expect(out).toContain('failures="0"');
  });
});
