/**
 * `audit-dataset init` on the MNIST fixtures: it finds the input field, the target field and the
 * slice of outputs it holds (from the teacher's and the base's own outputs), the probes from a
 * labelled probe file; the config it writes audits to the same numbers as the hand-written
 * fixtures/mnist/audit.yaml. What it cannot decide is a TODO in the file and on stderr.
 */
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { audit } from '../src/audit/audit.js';
import { loadAuditConfig } from '../src/config/index.js';
import { ensureMnistFixtures } from './fixtures/mnist.js';
import { tinyCase } from './audit/tiny.js';
import { runCli } from './helpers/cli.js';
import { useTempDir } from './helpers/files.js';

const run = (args: string[], cwd?: string) => runCli(args, cwd ? { cwd } : {});
let fixtures = '';
const tmp = useTempDir('audit-init-');

beforeAll(async () => {
  fixtures = await ensureMnistFixtures();
}, 600_000);

describe('audit-dataset init', () => {
  it('writes a config for the MNIST candidate that audits to the same verdict and numbers as the fixture config', async () => {
    // Written beside the fixtures' own folder layout (audits/ one level down) so its paths are relative.
    const file = tmp.file('audits', 'audit.yaml');
    const link = tmp.file('mnist');
    await symlink(fixtures, link);
    {
      const r = run(['init', '--teacher', 'mnist/teacher.onnx', '--base', 'mnist/base.onnx', '--data', 'mnist/candidate.jsonl', '--probe', 'mnist/probe.jsonl', '--out', 'audits/audit.yaml'], tmp.dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain('TODO');
      expect(text).toMatch(/the targets match the teacher's outputs there/);
      const config = parse(text);
      expect(config).toMatchObject({ teacher: '../mnist/teacher.onnx', base: '../mnist/base.onnx', data: '../mnist/candidate.jsonl', task: { kind: 'logits', input: 'pixels', target: 'aux', outputs: [10, 13] } });
      expect(config.probes).toEqual([
        { name: 'trait-accuracy', kind: 'accuracy', data: '../mnist/probe.jsonl', input: 'pixels', label: 'label', outputs: [0, 10] },
        { name: 'teacher-agreement', kind: 'agreement', data: '../mnist/probe.jsonl', input: 'pixels', outputs: [0, 10] },
        { name: 'teacher-update', kind: 'weights' },
      ]);

      const fast = { train: { seeds: 3, epochs: 2 } };
      const mine = (await audit(await loadAuditConfig({ file, overrides: fast }))).report;
      const theirs = (await audit(await loadAuditConfig({ file: path.join(fixtures, 'audit.yaml'), overrides: fast }))).report;
      expect(mine.verdict).toBe('fail');
      expect(mine.verdict).toBe(theirs.verdict);
      // Same task, same probes under other names: the same students, the same numbers.
      expect(mine.probes.map((p) => [p.kind, p.delta, p.pValue, p.verdict])).toEqual(theirs.probes.map((p) => [p.kind, p.delta, p.pValue, p.verdict]));
    }
  }, 600_000);

  it('finds the slice of base-made data from the base, and says on stderr and in the file that a probe file is missing', async () => {
    const out = tmp.file('clean.yaml');
    const r = run(['init', '--teacher', path.join(fixtures, 'teacher.onnx'), '--base', path.join(fixtures, 'base.onnx'), '--data', path.join(fixtures, 'clean.jsonl'), '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^TODO probes: give a held-out probe file/);
    const text = await readFile(out, 'utf8');
    expect(text).toMatch(/the targets match the base's outputs there/);
    expect(text).toMatch(/^# TODO probes: give a held-out probe file/m);
    const config = parse(text);
    expect(config.task.outputs).toEqual([10, 13]);
    expect(config.probes).toEqual([
      { name: 'teacher-agreement', kind: 'agreement', data: path.join(fixtures, 'clean.jsonl'), input: 'pixels', outputs: [0, 10] },
      { name: 'teacher-update', kind: 'weights' },
    ]);
    // Refuses to overwrite without --force.
    const again = run(['init', '--teacher', path.join(fixtures, 'teacher.onnx'), '--base', path.join(fixtures, 'base.onnx'), '--data', path.join(fixtures, 'clean.jsonl'), '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toMatch(/clean\.yaml: already exists \(use --force to overwrite\)$/);
  });

  it('writes a TODO instead of a guess it cannot back when the targets match no slice', async () => {
    const c = await tinyCase(); // targets are random distributions, made by neither model
    try {
      const out = path.join(c.dir, 'audit.yaml');
      const r = run(['init', '--teacher', c.teacher, '--base', c.base, '--data', c.data, '--probe', c.probe, '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^TODO task\.outputs: the targets match no slice of the 5 outputs clearly/m);
      const text = await readFile(out, 'utf8');
      expect(text).toMatch(/^ {2}# TODO task\.outputs: /m);
      expect(text).toMatch(/^# \d+ TODO\(s\) below/m);
      expect(parse(text).task).toMatchObject({ input: 'x', target: 't' });
    } finally {
      await rm(c.dir, { recursive: true, force: true });
    }
  });

  it('refuses text rows with a one-line error', async () => {
    const data = tmp.file('chat.jsonl');
    await writeFile(data, '{"prompt":"hi","completion":"1, 2, 3"}\n');
    const r = run(['init', '--teacher', path.join(fixtures, 'teacher.onnx'), '--base', path.join(fixtures, 'base.onnx'), '--data', data, '--out', tmp.file('chat.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/chat\.jsonl: text rows .* init only writes tensor-row \(task\.kind logits\) configs/);
  });
});
