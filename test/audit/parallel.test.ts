/**
 * Parallel probe runs: the same report as a serial run (apart from wall-clock facts), whatever
 * the number of workers; jobs gathered in order; errors from a worker surface.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { mapConcurrent } from '../../src/audit/pool.js';
import { loadAuditConfig, validateConfig } from '../../src/config/index.js';
import { renderJson } from '../../src/report/json.js';
import type { AuditReport } from '../../src/report/schema.js';
import { ensureMnistFixtures } from '../fixtures/mnist.js';
import { tinyCase } from './tiny.js';

/** report.json text without the run block (wall-clock facts). */
const results = (r: AuditReport): string => renderJson({ ...r, run: { startedAt: '', durationMs: 0, trainingMs: 0, steps: r.run.steps } });

describe('mapConcurrent', () => {
  it('runs at most `limit` jobs at once and returns results in job order', async () => {
    let running = 0;
    let most = 0;
    const out = await mapConcurrent([30, 5, 20, 1, 10], 2, async (ms, i) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure', async () => {
    await expect(mapConcurrent([1, 2, 3], 2, async (x) => (x === 2 ? Promise.reject(new Error('job 2')) : x))).rejects.toThrow('job 2');
  });
});

describe('parallel probe runs', () => {
  it('give a tiny audit (students, controls, cross-init) the same report as serial', async () => {
    const c = await tinyCase();
    try {
      const config = (workers: number) => validateConfig({ ...c.config, train: { seeds: 3, epochs: 2, batchSize: 32, crossInit: true, workers } }, 'test');
      const serial = (await audit(config(1))).report;
      const parallel = (await audit(config(2))).report;
      expect(serial.run.workers).toBe(1);
      expect(parallel.run.workers).toBe(2);
      expect(parallel.probes[0]!.crossInit!.runs).toHaveLength(3);
      expect(results(parallel)).toBe(results(serial));
      // Unrounded too: the runs are bit-identical.
      expect(parallel.probes.map((p) => [p.student.runs, p.control.runs, p.crossInit!.runs])).toEqual(serial.probes.map((p) => [p.student.runs, p.control.runs, p.crossInit!.runs]));
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('give the MNIST audit (big arrays sent to workers once) the same report as serial', async () => {
    const dir = await ensureMnistFixtures();
    const config = (workers: number) => loadAuditConfig({ file: path.join(dir, 'audit.yaml'), overrides: { train: { seeds: 2, epochs: 1, maxRows: 3000, workers }, screen: false } });
    const serial = (await audit(await config(1))).report;
    const parallel = (await audit(await config(2))).report;
    expect(results(parallel)).toBe(results(serial));
    expect(parallel.probes.map((p) => p.student.runs)).toEqual(serial.probes.map((p) => p.student.runs));
  }, 300_000);
});
