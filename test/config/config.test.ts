import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAuditConfig } from '../../src/config/index.js';
import { AuditInputError } from '../../src/errors.js';
import { useTempDirEach } from '../helpers/files.js';

const minimal = `
teacher: models/teacher.onnx
base: models/base.onnx
data: data/candidate.jsonl
task: { kind: logits, input: pixels, target: aux, outputs: [10, 13] }
probes:
  - { name: digits, kind: accuracy, data: data/probe.jsonl, input: pixels, label: label, outputs: [0, 10] }
`;

const tmp = useTempDirEach('cfg-');
/** `text` as this test's audit.yaml (each test writes one). */
async function configFile(text: string): Promise<string> {
  const file = tmp.file('audit.yaml');
  await writeFile(file, text);
  return file;
}

describe('audit config', () => {
  it('fills defaults and resolves paths against the file', async () => {
    const file = await configFile(minimal);
    const c = await loadAuditConfig({ file });
    expect(c.teacher).toBe(path.join(path.dirname(file), 'models/teacher.onnx'));
    expect(c.probes[0]!.data).toBe(path.join(path.dirname(file), 'data/probe.jsonl'));
    expect(c.train).toEqual({ backend: 'local', seeds: 5, seed: 1, epochs: 5, batchSize: 64, optimizer: 'adam', lr: 0.001, weightDecay: 0, crossInit: false, maxRows: 0, sequential: true, firstSeeds: 3, positiveControl: true, workers: 0 });
    expect(c.policy).toEqual({ alpha: 0.01, minEffect: 0.02, minShare: 0, preferenceShare: 0.01, test: 'welch', correction: 'holm', klProbes: true, onInconclusive: 'fail' });
    expect(c.task.kind === 'logits' && c.task.loss).toBe('kl');
    expect(c.filters).toEqual([]);
  });
  it('lets flags override file values, resolving flag paths against the cwd', async () => {
    const file = await configFile(minimal);
    const c = await loadAuditConfig({ file, overrides: { train: { epochs: 2 }, data: 'other.jsonl' }, cwd: '/tmp/x' });
    expect(c.train.epochs).toBe(2);
    expect(c.train.seeds).toBe(5);
    expect(c.data).toBe('/tmp/x/other.jsonl');
  });
  it.each([
    [`${minimal}\ntrain: { epoch: 3 }\n`, /unknown key 'train.epoch'/],
    [`${minimal}\nteachr: x\n`, /unknown key 'teachr'/],
    [minimal.replace('teacher: models/teacher.onnx', ''), /missing key 'teacher'/],
    [`${minimal}\npolicy: { alpha: 2 }\n`, /policy.alpha must be < 1/],
    [`${minimal}\ntrain: { optimizer: lbfgs }\n`, /train.optimizer must be one of adam, adamw, sgd/],
    [minimal.replace('outputs: [10, 13]', 'outputs: [13, 10]'), /task.outputs \[13, 10\] is empty/],
    [minimal.replace(', label: label', ''), /accuracy probe needs 'label'/],
    ['teacher: [unclosed\n', /invalid YAML/],
  ])('rejects bad config %#', async (text, message) => {
    const file = await configFile(text);
    const err = await loadAuditConfig({ file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain('\n');
  });
});
