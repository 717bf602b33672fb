/**
 * Screenshots of report.html for the README: the MNIST candidate (FAIL) and clean (PASS) audits
 * with the default settings, rendered in headless Chromium, cut to the verdict banner and the
 * probes section. Writes docs/report-fail.png and docs/report-pass.png (reports in out/screenshots/).
 * Run: npx tsx scripts/screenshots.ts
 */
import path from 'node:path';
import { audit } from '../src/audit/audit.js';
import { writeAuditOutputs } from '../src/audit/outputs.js';
import { loadAuditConfig } from '../src/config/index.js';
import { findChromium, launchChromium, openOffline } from '../test/helpers/browser.js';
import { ensureMnistFixtures } from './fixtures.js';

const chromiumPath = findChromium();
if (!chromiumPath) throw new Error('no Chromium found: apt-get install chromium, or set CHROMIUM_PATH');
const fixtures = await ensureMnistFixtures();
const chromium = await launchChromium(chromiumPath);
try {
  for (const [name, file] of [['fail', 'audit.yaml'], ['pass', 'audit-clean.yaml']] as const) {
    const config = await loadAuditConfig({ file: path.join(fixtures, file) });
    const { report, excluded } = await audit(config);
    const out = path.resolve('out/screenshots', name);
    await writeAuditOutputs(report, excluded, out, ['html', 'json']);
    const { page, requests, errors } = await openOffline(chromium.browser, path.join(out, 'report.html'), { width: 1100, height: 800 });
    if (requests.length > 0 || errors.length > 0) throw new Error(`report.html fetched ${requests.join(', ')} / errors ${errors.join('; ')}`);
    const bottom = await page.$eval('#probes', (el) => el.getBoundingClientRect().bottom);
    const png = path.resolve('docs', `report-${name}.png`);
    await page.screenshot({ path: png, clip: { x: 0, y: 0, width: 1100, height: Math.ceil(bottom) + 12 } });
    process.stdout.write(`${report.verdict.toUpperCase()}: ${png}\n`);
    await page.close();
  }
} finally {
  await chromium.close();
}
