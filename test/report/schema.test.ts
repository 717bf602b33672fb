import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { REPORT_SCHEMA_VERSION } from '../../src/report/schema.js';
import { sampleReport } from './sample.js';

const schema = JSON.parse(readFileSync(new URL('../../docs/report.schema.json', import.meta.url), 'utf8'));
// date-time needs ajv-formats; the format is documentation here, the structure is what we check.
const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);

const valid = (report: unknown): boolean => validate(JSON.parse(renderJson(report as never)));

describe('docs/report.schema.json', () => {
  it('pins the current schema version', () => {
    expect(schema.properties.schemaVersion.const).toBe(REPORT_SCHEMA_VERSION);
  });

  it('accepts the sample report.json', () => {
    const ok = valid(sampleReport());
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('accepts the optional parts left out', () => {
    const r = sampleReport();
    delete r.screen;
    delete r.probes[0]!.crossInit;
    delete r.probes[1]!.extra;
    r.filters = null;
    r.probes[1]!.transferRatio = null;
    expect(valid(r)).toBe(true);
  });

  it('rejects a missing field, an unknown field, and a wrong enum', () => {
    const missing = sampleReport() as Partial<ReturnType<typeof sampleReport>>;
    delete missing.policy;
    expect(valid(missing)).toBe(false);
    const unknown = sampleReport() as ReturnType<typeof sampleReport> & { surprise?: boolean };
    unknown.probes[0] = { ...unknown.probes[0]!, ...({ surprise: true } as object) };
    expect(valid(unknown)).toBe(false);
    const badVerdict = sampleReport();
    (badVerdict as { verdict: string }).verdict = 'maybe';
    expect(valid(badVerdict)).toBe(false);
    const badHash = sampleReport();
    badHash.reproducibility.inputs[0]!.sha256 = 'xyz';
    expect(valid(badHash)).toBe(false);
  });
});
