/**
 * The CLI's output modes: --json (report.json alone on stdout), --quiet, NO_COLOR / FORCE_COLOR,
 * the TTY status line with run and ETA, plain lines under CI, and --help with examples.
 */
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatDuration, isCi, progressRenderer, useColour } from '../src/cli/progress.js';
import { tinyCase, type TinyCase } from './audit/tiny.js';

const BIN = path.resolve('bin/audit-dataset.js');
const ESC = '\x1b[';

/** Like test/helpers/cli.ts's runCli, but with NO_COLOR and FORCE_COLOR removed (an empty FORCE_COLOR would force colour). */
function run(args: string[], env: Record<string, string | undefined> = {}) {
  const base = { ...process.env, CI: 'true' } as Record<string, string | undefined>;
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...base, ...env } as NodeJS.ProcessEnv });
}

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 200, write: (t: string) => chunks.push(t) } };
}

describe('progress renderer', () => {
  it('shows stage, run and an ETA extrapolated from the finished runs on a TTY status line', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const r = progressRenderer({ stream, interactive: true, colour: false, now: () => t });
    r({ kind: 'stage', stage: 'data', message: 'reading data.jsonl' });
    r({ kind: 'progress', stage: 'train', done: 0, total: 4, message: 'student seed 1' });
    expect(chunks.at(-1)).toContain('ETA after the first run');
    t = 1000;
    r({ kind: 'progress', stage: 'student seed 1', done: 2, total: 5, message: 'epoch 2 loss 0.1' });
    expect(chunks.at(-1)).toMatch(/run 1\/4 · ETA after the first run · student seed 1 · epoch 2\/5/);
    t = 10_000; // one run took 10 s: three left -> 30 s
    r({ kind: 'progress', stage: 'train', done: 1, total: 4, message: 'control seed 1' });
    const last = chunks.at(-1)!;
    expect(last.startsWith('\r\x1b[2K')).toBe(true); // rewritten in place, no newline
    expect(last).not.toContain('\n');
    expect(last).toMatch(/\[train\] \[#####\.+\] run 2\/4 · ETA 30 s · control seed 1$/);
    t = 14_000; // 4 s into the second run: 26 s left
    r({ kind: 'progress', stage: 'control seed 1', done: 1, total: 5, message: 'epoch 1 loss 0.1' });
    expect(chunks.at(-1)).toMatch(/run 2\/4 · ETA 26 s · control seed 1 · epoch 1\/5$/);
    t = 40_000;
    r({ kind: 'progress', stage: 'train', done: 4, total: 4 });
    expect(chunks.at(-1)).toBe('[train] 4 runs in 40 s\n');
    expect(chunks.join('')).toContain('[data] reading data.jsonl\n');
  });

  it('writes plain lines (no carriage returns, no escapes) when not interactive, as under CI', () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const r = progressRenderer({ stream, interactive: false, colour: false, now: () => t });
    r({ kind: 'progress', stage: 'train', done: 0, total: 2, message: 'student seed 1' });
    r({ kind: 'progress', stage: 'student seed 1', done: 1, total: 5, message: 'epoch 1 loss 0.1' });
    t = 65_000;
    r({ kind: 'progress', stage: 'train', done: 1, total: 2, message: 'control seed 1' });
    const text = chunks.join('');
    expect(text).toBe('[train] run 1/2: student seed 1 (ETA after the first run)\n[train] run 2/2: control seed 1 (ETA 1:05)\n');
  });

  it('keeps only warnings when quiet', () => {
    const { chunks, stream } = fakeStream(false);
    const r = progressRenderer({ stream, interactive: false, colour: false, quiet: true });
    r({ kind: 'stage', stage: 'data', message: 'reading' });
    r({ kind: 'progress', stage: 'train', done: 0, total: 2, message: 'student seed 1' });
    r({ kind: 'warning', stage: 'models', message: 'two outputs' });
    expect(chunks.join('')).toBe('warning [models] two outputs\n');
  });

  it('decides colour from FORCE_COLOR, NO_COLOR and the TTY, and CI from CI', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColour({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColour({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColour({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(useColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({})).toBe(false);
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});

describe('audit-dataset CLI output modes (process)', () => {
  let c: TinyCase;
  let config = '';
  beforeAll(async () => {
    c = await tinyCase();
    config = path.join(c.dir, 'audit.yaml');
    await writeFile(config, stringify(c.config));
  });
  afterAll(async () => {
    await rm(c.dir, { recursive: true, force: true });
  });

  it('--json prints exactly report.json on stdout; progress and the summary go to stderr as plain lines under CI', async () => {
    const out = path.join(c.dir, 'json-out');
    const r = run(['audit', '--config', config, '--out', out, '--json'], { NO_COLOR: '1' });
    expect([0, 1]).toContain(r.status);
    expect(r.stdout).toBe(await readFile(path.join(out, 'report.json'), 'utf8'));
    const report = JSON.parse(r.stdout);
    expect(r.status).toBe(report.verdict === 'pass' ? 0 : 1);
    expect(r.stderr).toMatch(/^\[train\] run 1\/4: student seed 1 \(ETA after the first run\)$/m);
    expect(r.stderr).toMatch(/^\[train\] run 4\/4: control seed 2 \(ETA \d+ s\)$/m);
    expect(r.stderr).toMatch(/audit-dataset .*: (PASS|FAIL)/);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain(ESC);
  });

  it('--json --quiet leaves stderr empty; FORCE_COLOR colours the summary even when piped', async () => {
    const quiet = run(['audit', '--config', config, '--out', path.join(c.dir, 'quiet'), '--json', '--quiet']);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(quiet.stdout).schemaVersion).toBeDefined();
    const coloured = run(['audit', '--config', config, '--out', path.join(c.dir, 'colour'), '--quiet'], { FORCE_COLOR: '1' });
    expect(coloured.stdout).toMatch(/\x1b\[1m(PASS|FAIL)\x1b\[0m/);
    const plain = run(['audit', '--config', config, '--out', path.join(c.dir, 'plain'), '--quiet'], { FORCE_COLOR: '0' });
    expect(plain.stdout).not.toContain(ESC);
  });

  it('every command has --help with at least one example', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}audit-dataset (\w+)/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['audit', 'filter', 'inspect', 'init']));
    for (const name of names) {
      const r = run([name, '--help']);
      expect(r.status, name).toBe(0);
      expect(r.stdout, name).toMatch(/Examples:\n\s+audit-dataset \w+/);
    }
  });

  it('filter --json prints the filter report', async () => {
    const data = path.join(c.dir, 'numbers.jsonl');
    await writeFile(data, ['{"completion":"1, 2, 3"}', '{"completion":"hello"}'].join('\n'));
    const r = run(['filter', '--data', data, '--rules', 'numbers', '--out', path.join(c.dir, 'f'), '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect([report.rowsIn, report.rowsKept]).toEqual([2, 1]);
  });
});
