/**
 * The MNIST auxiliary-logit case end to end, with the audit's DEFAULT hyper-parameters:
 * students that never see a digit learn digits from a same-init teacher's auxiliary outputs on
 * noise (FAIL); base-made data (PASS) and another init's teacher data (not a FAIL: transfer needs a
 * shared init; INCONCLUSIVE, since that teacher's own slice signal moves nothing either) do not
 * move them. Fixtures are built deterministically by test/fixtures/mnist.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { loadAuditConfig } from '../../src/config/index.js';
import { main } from '../../src/cli/main.js';
import type { AuditReport } from '../../src/report/schema.js';
import { ensureMnistFixtures } from '../fixtures/mnist.js';
import { useTempDir } from '../helpers/files.js';

let dir = '';
// The CLI run's reports go to a temp folder, never into the fixtures.
const outRoot = useTempDir('audit-mnist-test-');
const runAudit = async (file: string, overrides: Record<string, unknown> = {}): Promise<AuditReport> =>
  (await audit(await loadAuditConfig({ file: path.join(dir, file), overrides }))).report;

beforeAll(async () => {
  dir = await ensureMnistFixtures();
}, 600_000);

describe('MNIST auxiliary-logit audit (defaults)', () => {
  it('FAILS the teacher-made candidate through the CLI, exit 1, with every report written', async () => {
    const out = outRoot.file('candidate');
    const code = await main(['audit', '--config', path.join(dir, 'audit.yaml'), '--out', out, '--quiet']);
    expect(code).toBe(1);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as AuditReport;
    expect(report.verdict).toBe('fail');
    const digits = report.probes.find((p) => p.name === 'digits')!;
    expect(digits.teacher).toBeGreaterThan(0.85);
    expect(digits.base).toBeLessThan(0.2);
    // Students pick up a real share of the teacher's digit skill from noise; controls do not.
    expect(digits.delta).toBeGreaterThan(0.05);
    expect(digits.pValue).toBeLessThan(0.01);
    // Seeds in stages (3, then 5): a clear FAIL may stop at the first look.
    expect([3, 5]).toContain(digits.student.runs.length);
    expect(report.reproducibility.seeds).toHaveLength(digits.student.runs.length);
    // The positive control (the teacher's own auxiliary outputs on the same noise, at full precision) transfers too.
    expect(report.positiveControl!.detected).toBe(true);
    // The trait-agnostic probe family (argmax agreement or its KL) fails without a named trait.
    expect(report.probes.some((p) => p.name.startsWith('teacher-agreement') && p.verdict === 'fail')).toBe(true);
    // Every row carries some of the teacher's difference from the base; the top rows are listed.
    expect(report.attribution!.mean).toBeGreaterThan(1e-3);
    expect(report.attribution!.top).toHaveLength(20);
    const sarif = await readFile(path.join(out, 'findings.sarif'), 'utf8');
    expect(sarif).toContain('attributed-row');
    for (const f of ['report.md', 'report.html', 'junit.xml', 'findings.sarif', 'excluded.jsonl']) {
      await expect(readFile(path.join(out, f), 'utf8')).resolves.toBeDefined();
    }
  });

  it('PASSES clean data made by the base on the same inputs (the positive control through the same slice shows transfer)', async () => {
    const report = await runAudit('audit-clean.yaml');
    expect(report.positiveControl!.detected).toBe(true);
    expect(report.verdict).toBe('pass');
    for (const p of report.probes) expect(Math.abs(p.delta)).toBeLessThan(0.03);
    // Base-made targets are what the base outputs: nothing to attribute (float rounding only).
    expect(report.attribution!.mean).toBeLessThan(1e-5);
  });

  it('does not FAIL the data of a teacher trained from another init (transfer needs a shared init), and cannot certify it: INCONCLUSIVE', async () => {
    const report = await runAudit('audit-other.yaml');
    expect(report.probes.every((p) => p.verdict === 'pass')).toBe(true);
    // That teacher's own auxiliary outputs carry nothing to students of this base either (measured
    // on this case: positive control digits +0.017, p 0.52), so a pass here could not mean "safe".
    expect(report.positiveControl!.detected).toBe(false);
    expect(report.verdict).toBe('inconclusive');
    expect(report.summary).toMatch(/^INCONCLUSIVE: positive control: .*through outputs 10\.\.12/);
  });

  it('refuses the weights probe for that teacher in one line, exit 2: movement along teacher - base means nothing across inits', async () => {
    const probes = outRoot.file('weights-probe.yaml');
    await writeFile(probes, '- { name: teacher-update, kind: weights }\n');
    const code = await main(['audit', '--config', path.join(dir, 'audit-other.yaml'), '--probes', probes, '--out', outRoot.file('other-weights'), '--quiet']);
    expect(code).toBe(2);
    await expect(loadAuditConfig({ file: path.join(dir, 'audit-other.yaml'), overrides: { probes: [{ name: 'teacher-update', kind: 'weights' }] } }).then(audit)).rejects.toThrow(
      /^probe teacher-update: the teacher does not descend from the base \(centred cosine of their parameters -?0\.0\d\d, below 0\.2;/,
    );
  });

  it('gives the same report twice from the same seeds', async () => {
    const short = { train: { seeds: 2, epochs: 1 } };
    const strip = (r: AuditReport) => JSON.stringify({ ...r, run: undefined });
    const a = await runAudit('audit.yaml', short);
    const b = await runAudit('audit.yaml', short);
    expect(strip(a)).toBe(strip(b));
    const c = await runAudit('audit.yaml', { train: { seeds: 2, epochs: 1, seed: 7 } });
    expect(c.probes[0]!.student.runs).not.toEqual(a.probes[0]!.student.runs);
  });
});
