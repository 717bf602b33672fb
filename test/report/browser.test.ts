/**
 * report.html as a person sees it, in headless Chromium (Debian's `chromium` via puppeteer-core):
 * a FAIL and a PASS audit of the MNIST fixtures (3 seeds x 2 epochs). The verdict banner's text
 * and colour, one chart per probe with a visible marker per run, no console errors, nothing
 * fetched (every request but the page itself is blocked and counted). Skips, with a notice, only
 * when no Chromium is installed (`.ci/run` installs Debian's).
 */
// The callbacks given to page.$eval run in the page; this project compiles without the DOM lib,
// so the few browser-only names they use are cast.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { writeAuditOutputs } from '../../src/audit/outputs.js';
import { loadAuditConfig } from '../../src/config/index.js';
import type { AuditReport } from '../../src/report/schema.js';
import { findChromium, launchChromium, openOffline, type Chromium } from '../helpers/browser.js';
import { ensureMnistFixtures } from '../fixtures/mnist.js';
import { useTempDir } from '../helpers/files.js';

const chromiumPath = findChromium();
if (!chromiumPath) {
  process.stderr.write('\nNOTICE: report.html browser test SKIPPED: no Chromium found (set CHROMIUM_PATH, or apt-get install chromium)\n\n');
}

const tmp = useTempDir('audit-browser-');
let chromium: Chromium | null = null;
const reports: Record<'fail' | 'pass', { report: AuditReport; html: string }> = {} as never;

beforeAll(async () => {
  if (!chromiumPath) return;
  const fixtures = await ensureMnistFixtures();
  for (const [verdict, file] of [['fail', 'audit.yaml'], ['pass', 'audit-clean.yaml']] as const) {
    const config = await loadAuditConfig({ file: path.join(fixtures, file), overrides: { train: { seeds: 3, epochs: 2 } } });
    const { report, excluded } = await audit(config);
    const out = tmp.file(verdict);
    await writeAuditOutputs(report, excluded, out, ['html']);
    reports[verdict] = { report, html: path.join(out, 'report.html') };
  }
  chromium = await launchChromium(chromiumPath);
}, 600_000);

afterAll(async () => {
  await chromium?.close();
});

describe.skipIf(!chromiumPath)(`report.html in headless Chromium (${chromiumPath ?? 'not found: skipped'})`, () => {
  for (const verdict of ['fail', 'pass'] as const) {
    it(`${verdict.toUpperCase()} report: banner, one chart per probe with a marker per run, no errors, no requests`, async () => {
      const { report, html } = reports[verdict];
      expect(report.verdict).toBe(verdict);
      const { page, requests, errors } = await openOffline(chromium!.browser, html);
      try {
        const banner = await page.$eval('header.banner', (el) => {
          const r = el.getBoundingClientRect();
          const seen = (e: unknown) => (e as unknown as { innerText: string }).innerText;
          const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el);
          return { title: seen(el.querySelector('h1')), text: seen(el), height: r.height, background: style.backgroundColor };
        });
        expect(banner.title).toBe(`audit-dataset: ${verdict.toUpperCase()}`);
        expect(banner.text).toContain(report.summary.slice(0, 40));
        expect(banner.height).toBeGreaterThan(40);
        expect(banner.background).toBe(verdict === 'fail' ? 'rgb(180, 35, 24)' : 'rgb(26, 127, 55)');

        // One chart per probe, in the probes section, each with every run drawn inside it.
        const charts = await page.$$eval('#probes svg.chart', (svgs) =>
          svgs.map((svg) => {
            const box = svg.getBoundingClientRect();
            const marks = [...svg.querySelectorAll('.run')].map((m) => m.getBoundingClientRect());
            return {
              label: svg.getAttribute('aria-label') ?? '',
              width: box.width,
              runs: marks.length,
              visible: marks.filter((m) => m.width > 0 && m.height > 0 && m.left >= box.left && m.right <= box.right && m.top >= box.top && m.bottom <= box.bottom).length,
              means: svg.querySelectorAll('.mean').length,
            };
          }),
        );
        expect(charts).toHaveLength(report.probes.length);
        report.probes.forEach((p, i) => {
          const expected = p.control.runs.length + p.student.runs.length + (p.crossInit?.runs.length ?? 0);
          expect(charts[i]!.label.startsWith(`${p.name}:`)).toBe(true);
          expect(charts[i]!.runs).toBe(expected);
          expect(charts[i]!.visible).toBe(expected);
          expect(charts[i]!.means).toBe(p.crossInit ? 3 : 2);
          expect(charts[i]!.width).toBeGreaterThan(300);
        });
        expect(report.probes[0]!.student.runs).toHaveLength(3);

        // Each probe's verdict badge reads as the report says.
        const badges = await page.$$eval('#probes .probe h3 .badge', (els) => els.map((e) => (e as unknown as { innerText: string }).innerText));
        expect(badges).toEqual(report.probes.map((p) => p.verdict.toUpperCase()));

        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
