/** `audit-dataset audit` as a process: exit codes and one-line errors (dist/ is built by test/global-setup.ts). */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tinyCase } from './audit/tiny.js';

import { runCli } from './helpers/cli.js';

const run = (args: string[]) => runCli(args);

function expectOneLineError(r: ReturnType<typeof run>, message: RegExp): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack trace
}

describe('audit-dataset audit (CLI)', () => {
  it('exits 2 naming a config file that does not exist', () => {
    expectOneLineError(run(['audit', '--config', 'no/such/audit.yaml']), /no\/such\/audit\.yaml: cannot read config file/);
  });

  it('exits 2 on an unknown flag', () => {
    expectOneLineError(run(['audit', '--config', 'x.yaml', '--train.epoch', '3']), /Unknown argument/);
  });

  it('exits 2 naming an unknown key in the config file', async () => {
    const c = await tinyCase();
    const file = path.join(c.dir, 'audit.yaml');
    await writeFile(file, stringify({ ...c.config, tarin: { seeds: 2 } }));
    expectOneLineError(run(['audit', '--config', file]), /audit\.yaml: unknown key 'tarin'/);
  });

  it('exits 2 naming the row of a malformed dataset', async () => {
    const c = await tinyCase();
    await writeFile(c.data, '{"x": [1, 2, 3, 4], "t": [0.5, 0.5]}\n{"x": [1, 2, \n');
    const file = path.join(c.dir, 'audit.yaml');
    await writeFile(file, stringify(c.config));
    expectOneLineError(run(['audit', '--config', file, '--quiet']), new RegExp(`${c.data.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: `));
  });

  it('runs a small audit to the end with flags overriding the file, exit 0 or 1 with the reports written', async () => {
    const c = await tinyCase();
    const file = path.join(c.dir, 'audit.yaml');
    await writeFile(file, stringify(c.config));
    const out = path.join(c.dir, 'flag-out');
    const r = run(['audit', '--config', file, '--train.seeds', '3', '--out', out, '--formats', 'json', 'md']);
    expect([0, 1]).toContain(r.status);
    expect(r.stdout).toMatch(/audit-dataset .*: (PASS|FAIL|INCONCLUSIVE)/);
    const report = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path.join(out, 'report.json'), 'utf8')));
    expect(report.reproducibility.seeds).toEqual([1, 2, 3]);
    expect(report.verdict === 'pass' ? 0 : 1).toBe(r.status);
  });

  it('runs from flags alone, the probes list from --probes FILE', async () => {
    const c = await tinyCase();
    const probes = path.join(c.dir, 'probes.yaml');
    await writeFile(probes, stringify([{ name: 'classes', kind: 'accuracy', data: 'probe.jsonl', input: 'x', label: 'y', outputs: [0, 3] }]));
    const out = path.join(c.dir, 'flags-only');
    const r = run([
      'audit', '--teacher', c.teacher, '--base', c.base, '--data', c.data,
      '--task.kind', 'logits', '--task.input', 'x', '--task.target', 't', '--task.outputs', '3', '5',
      '--probes', probes, '--train.seeds', '2', '--train.epochs', '1', '--train.batchSize', '32', '--out', out, '--quiet',
    ]);
    expect([0, 1]).toContain(r.status);
    const report = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path.join(out, 'report.json'), 'utf8')));
    expect(report.probes.map((p: { name: string }) => p.name)).toEqual(['classes']);
    expect(report.reproducibility.inputs.find((i: { role: string }) => i.role === 'probe:classes').path).toBe(c.probe);
  });
});
