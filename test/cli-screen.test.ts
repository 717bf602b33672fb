/** `audit-dataset screen` as a process: no training, every report format marked as a screen, exit 0; bad input exit 2. */
import { spawnSync } from 'node:child_process';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LOCK_FILE } from '../src/data/output-dir.js';
import type { AuditReport } from '../src/report/schema.js';
import { tinyCase } from './audit/tiny.js';

const BIN = path.resolve('bin/audit-dataset.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

describe('audit-dataset screen (CLI)', () => {
  it('writes the report formats marked as a screen, with filters, attribution and the gradient screen, and exits 0', async () => {
    const c = await tinyCase({ mutateRow: (row, i) => (row.completion = i % 10 === 0 ? '1, 2, 666' : '1, 2, 3') });
    try {
      const file = path.join(c.dir, 'audit.yaml');
      await writeFile(file, stringify({ ...c.config, filters: ['banned-numbers'], filterField: 'completion' }));
      const r = run(['screen', '--config', file, '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/SCREEN/);
      const out = c.config.out as string;
      const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as AuditReport;
      expect(report.mode).toBe('screen');
      expect(report.verdict).toBe('screen');
      expect(report.probes).toEqual([]);
      expect(report.run.steps).toBe(0);
      expect(report.filters!.rowsExcluded).toBe(30);
      expect(report.attribution!.rows).toBe(270);
      expect(report.screen).toBeDefined();
      expect(await readFile(path.join(out, 'report.md'), 'utf8')).toMatch(/^# audit-dataset: \*\*SCREEN\*\*/);
      expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('class="banner screen"');
      expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toContain('failures="0"');
      // The output folder's lock is released when the screen is done.
      await expect(access(path.join(out, LOCK_FILE))).rejects.toThrow();
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it("takes the output folder's lock: refuses (exit 2, one line) while another live run holds it, writing nothing", async () => {
    const c = await tinyCase();
    try {
      const file = path.join(c.dir, 'audit.yaml');
      await writeFile(file, stringify(c.config));
      const out = c.config.out as string;
      await mkdir(out, { recursive: true });
      // This test process is alive and is not the screen's process: its pid holds the folder.
      await writeFile(path.join(out, LOCK_FILE), `${process.pid}\n`);
      const r = run(['screen', '--config', file, '--quiet']);
      expect(r.status).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`(pid ${process.pid}) is writing this folder`);
      await expect(access(path.join(out, 'report.json'))).rejects.toThrow();
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with one line on bad input', () => {
    const r = run(['screen', '--config', 'no/such/audit.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
