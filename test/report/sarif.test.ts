import { describe, expect, it } from 'vitest';
import { renderSarif, toSarifUri } from '../../src/report/sarif.js';
import { inconclusiveReport, sampleFindings, sampleReport } from './sample.js';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
}

function parse(text: string): { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: SarifResult[] }[] } {
  return JSON.parse(text);
}

describe('renderSarif', () => {
  const log = parse(renderSarif(sampleReport(), sampleFindings()));
  const run = log.runs[0]!;

  it('is SARIF 2.1.0 from the audit-dataset driver', () => {
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    expect(run.tool.driver.name).toBe('audit-dataset');
  });

  it('declares trait-transfer plus one rule per filter rule seen, and results point at them', () => {
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(['trait-transfer', 'banned-numbers', 'number-format']);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
  });

  it('has one result per finding plus one per failing probe, at the right lines', () => {
    expect(run.results).toHaveLength(3 + 1);
    const probe = run.results.filter((r) => r.ruleId === 'trait-transfer');
    expect(probe).toHaveLength(1);
    expect(probe[0]!.level).toBe('error');
    expect(probe[0]!.message.text).toContain('Probe digits failed');
    expect(probe[0]!.locations[0]!.physicalLocation).toEqual({ artifactLocation: { uri: 'data/aux-noise.jsonl' }, region: { startLine: 1 } });
    const rows = run.results.filter((r) => r.ruleId !== 'trait-transfer');
    expect(rows.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.region.startLine, r.level])).toEqual([
      ['number-format', 17, 'warning'],
      ['number-format', 42, 'warning'],
      ['banned-numbers', 88, 'note'],
    ]);
  });

  it('reports an inconclusive audit as an error on the data file (a warning when policy.onInconclusive is pass)', () => {
    const r = inconclusiveReport();
    const run = parse(renderSarif(r, [])).runs[0]!;
    expect(run.results.map((x) => [x.ruleId, x.level])).toEqual([['inconclusive-audit', 'error']]);
    r.policy.onInconclusive = 'pass';
    expect(parse(renderSarif(r, [])).runs[0]!.results[0]!.level).toBe('warning');
  });

  it('has no probe result when all probes pass, and keeps startLine >= 1', () => {
    const r = sampleReport();
    r.probes[0]!.verdict = 'pass';
    const out = parse(renderSarif(r, [{ file: 'x.csv', line: 0, ruleId: 'pii', message: 'm', level: 'error' }])).runs[0]!;
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.locations[0]!.physicalLocation.region.startLine).toBe(1);
  });
});

describe('toSarifUri', () => {
  it('encodes paths as URI references', () => {
    expect(toSarifUri('data/my file#1.jsonl')).toBe('data/my%20file%231.jsonl');
    expect(toSarifUri('C:\\data\\a.csv')).toBe('file:///C:/data/a.csv');
    expect(toSarifUri('/abs/a?.csv')).toBe('file:///abs/a%3F.csv');
    expect(toSarifUri('https://example.com/a.csv')).toBe('https://example.com/a.csv');
  });
});
