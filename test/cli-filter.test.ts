import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, tempFile } from './data/helpers.js';

import { runCli } from './helpers/cli.js';

function run(args: string[]) {
  const r = runCli(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('audit-dataset filter (CLI)', () => {
  beforeAll(() => {
    // The bin imports dist/, which test/global-setup.ts compiles before the suite.
    expect(existsSync('dist/cli/filter.js')).toBe(true);
  });

  it('filters the shipped example: exit 0, three outputs, a table on stdout', () => {
    const out = join(tempDir('cli-'), 'out');
    const r = run(['filter', '--data', 'examples/numbers/candidate.jsonl', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rows in 300, kept \d+ \(\d+\.\d%\), excluded \d+/);
    expect(r.stdout).toMatch(/numbers\s+\d+\s+invalid format \(\d+\)/);
    expect(r.stdout).toMatch(/banned-numbers\s+\d+\s+banned numbers \(\d+\)/);
    const report = JSON.parse(readFileSync(join(out, 'filter-report.json'), 'utf8'));
    const kept = readFileSync(join(out, 'kept.jsonl'), 'utf8').trim().split('\n');
    const excluded = readFileSync(join(out, 'excluded.jsonl'), 'utf8').trim().split('\n');
    expect(kept).toHaveLength(report.rowsKept);
    expect(excluded).toHaveLength(report.rowsExcluded);
    expect(report.rowsKept + report.rowsExcluded).toBe(300);
    const source = readFileSync('examples/numbers/candidate.jsonl', 'utf8').trim().split('\n');
    expect(kept[0]).toBe(source.find((l) => kept.includes(l))); // unchanged, input order
  });

  it('takes --rules by path and --field', () => {
    const dir = tempDir('cli-');
    const pack = join(dir, 'owls.yaml');
    writeFileSync(pack, 'rules:\n  - kind: keywords\n    name: owls\n    words: [owl]\n');
    const data = tempFile('d.jsonl', '{"answer":"an owl"}\n{"answer":"a cat"}\n');
    const r = run(['filter', '--data', data, '--rules', pack, '--field', 'answer', '--out', join(dir, 'out')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/owls\s+1\s+keyword: owl \(1\)/);
  });

  it('--skip-bad-rows counts bad rows instead of failing', () => {
    const data = tempFile('d.jsonl', '{"completion":"1, 2"}\n{oops\n');
    const r = run(['filter', '--data', data, '--skip-bad-rows', '--out', join(tempDir('cli-'), 'out')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bad rows 1/);
  });

  it.each([
    ['malformed JSON', 'd.jsonl', '{"completion":"1"}\n{oops\n', [], /^audit-dataset: .*d\.jsonl:2: malformed JSON/],
    ['an unknown pack', 'd.jsonl', '{"completion":"1"}\n', ['--rules', 'nope'], /^audit-dataset: unknown rule pack 'nope'/],
    ['a fake parquet', 'd.parquet', 'hello', [], /^audit-dataset: .*d\.parquet: not a Parquet file/],
    ['a ragged CSV row', 'd.csv', 'completion,x\n1,2\n3\n', [], /^audit-dataset: .*d\.csv:3: ragged row/],
  ])('exits 2 with one stderr line and no stack on %s', (_n, name, content, extra, message) => {
    const data = tempFile(name, content);
    const r = run(['filter', '--data', data, ...extra, '--out', join(tempDir('cli-'), 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 when --data is missing', () => {
    const r = run(['filter', '--out', tempDir('cli-')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
