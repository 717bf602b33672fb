/**
 * Issue 12, class 4 "`filter` loses nothing" and the audit's output folder: an input that is (or
 * lies inside) the output is refused before anything is written; outputs appear only complete
 * (temporary names, then rename), so a failed run leaves the previous files; a second audit into a
 * folder another live audit holds refuses (lock file). Class 8 in part: a file where the output
 * folder should be is one line naming it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeAuditOutputs } from '../../src/audit/outputs.js';
import { LOCK_FILE, lockDir, writeWhole } from '../../src/data/output-dir.js';
import { filterFile } from '../../src/filters/filter-file.js';
import { tinyCase } from '../audit/tiny.js';
import { expectInputError, scratch } from './helpers.js';

const tmp = scratch('outputs');
const BIN = path.resolve('bin/audit-dataset.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
const GOOD = '{"completion":"1, 2, 3"}\n{"completion":"4, 5, 6"}\n';

describe('filter: input and output never the same file', () => {
  it('refuses --data that is the kept.jsonl of --out, before writing anything', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const out = path.join(dir, 'out');
    await mkdir(out);
    const kept = path.join(out, 'kept.jsonl');
    writeFileSync(kept, GOOD);
    await expectInputError(filterFile(kept, 'numbers', { outDir: out }), /the input is also the output .*kept\.jsonl/);
    expect(readFileSync(kept, 'utf8')).toBe(GOOD);
    expect(readdirSync(out)).toEqual(['kept.jsonl']);
  });
  it('refuses an input inside the output folder, and one reached through a symlink', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const out = path.join(dir, 'out');
    await mkdir(path.join(out, 'sub'), { recursive: true });
    const inside = path.join(out, 'sub', 'data.jsonl');
    writeFileSync(inside, GOOD);
    await expectInputError(filterFile(inside, 'numbers', { outDir: out }), /lies inside the output folder/);
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(path.join(out, 'excluded.jsonl'), link);
    writeFileSync(path.join(out, 'excluded.jsonl'), GOOD);
    await expectInputError(filterFile(link, 'numbers', { outDir: out }), /the input is also the output/);
  });
  it('the CLI says so in one line with exit 2', () => {
    const data = tmp.file('d.jsonl', GOOD);
    const r = cli(['filter', '--data', data, '--out', path.dirname(data), '--rules', 'numbers']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/d\.jsonl: the input lies inside the output folder/);
  });
});

describe('filter: a failed run leaves the previous outputs', () => {
  it('a run that fails on a bad row changes nothing in --out and leaves no temporary files', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const out = path.join(dir, 'out');
    const good = path.join(dir, 'good.jsonl');
    writeFileSync(good, GOOD);
    await filterFile(good, 'numbers', { outDir: out });
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(path.join(out, f), 'utf8')]));
    expect(Object.keys(before).sort()).toEqual(['excluded.jsonl', 'filter-report.json', 'kept.jsonl']);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `${'{"completion":"7, 8"}\n'.repeat(100_000)}{"completion": oops}\n`);
    await expectInputError(filterFile(bad, 'numbers', { outDir: out }), /bad\.jsonl:100001: malformed JSON/);
    const after = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(path.join(out, f), 'utf8')]));
    expect(after).toEqual(before);
  });
  it('--out naming an existing file is one line naming it (exit 2), not an internal error', () => {
    const data = tmp.file('d.jsonl', GOOD);
    const notDir = tmp.file('out.txt', 'x');
    const r = cli(['filter', '--data', data, '--out', notDir, '--rules', 'numbers']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/out\.txt: cannot use it as the output folder: .*\((EEXIST|ENOTDIR)\)$/);
  });
});

describe('audit: one complete set of reports per folder', () => {
  it('writes through a staging folder: only the final files remain, and a failure keeps the old ones', async () => {
    const c = await tinyCase({ rows: 40 });
    const out = path.join(c.dir, 'out');
    await mkdir(out);
    const report = { verdict: 'pass' } as never;
    // A writer failing mid-way (an unknown format) must leave the folder untouched.
    writeFileSync(path.join(out, 'report.json'), 'old');
    await expect(writeAuditOutputs(report, [], out, ['json', 'nope' as never])).rejects.toThrow(/unknown report format/);
    expect(readdirSync(out)).toEqual(['report.json']);
    expect(readFileSync(path.join(out, 'report.json'), 'utf8')).toBe('old');
  });
  it('a second audit into a folder a live audit holds refuses; a stale lock is taken over', async () => {
    const c = await tinyCase({ rows: 100 });
    const out = c.config.out as string;
    await mkdir(out, { recursive: true });
    // The parent of this test process is alive: its pid in the lock stands for a running audit.
    writeFileSync(path.join(out, LOCK_FILE), `${process.ppid}\n`);
    const file = path.join(c.dir, 'audit.yaml');
    await writeFile(file, stringify(c.config));
    const refused = cli(['audit', '--config', file, '--quiet']);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toMatch(new RegExp(`another audit \\(pid ${process.ppid}\\) is writing this folder`));
    expect(readdirSync(out)).toEqual([LOCK_FILE]);
    // A lock whose process is gone does not block: the audit runs, writes, and releases it.
    writeFileSync(path.join(out, LOCK_FILE), '999999999\n');
    const ran = cli(['audit', '--config', file, '--quiet']);
    expect([0, 1]).toContain(ran.status);
    expect(readdirSync(out).sort()).toEqual(['excluded.jsonl', 'findings.sarif', 'junit.xml', 'report.html', 'report.json', 'report.md']);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });
  it('lockDir: the second taker in a live process is refused until release', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const release = await lockDir(dir);
    await expectInputError(lockDir(dir), /already writing this folder/);
    await release();
    await (await lockDir(dir))();
  });
});

describe('writeWhole: one file written whole or not at all', () => {
  it('replaces the file, leaves no temporary beside it, and two writers at once each land a complete file', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const file = path.join(dir, 'state.json');
    await writeWhole(file, 'old\n');
    const a = 'a'.repeat(200_000);
    const b = 'b'.repeat(300_000);
    await Promise.all([writeWhole(file, a), writeWhole(file, b)]);
    expect([a, b]).toContain(readFileSync(file, 'utf8'));
    expect(readdirSync(dir).filter((f) => f.startsWith('state.json'))).toEqual(['state.json']);
  });
  it('a failed write keeps the previous content and removes its temporary file', async () => {
    const dir = path.dirname(tmp.file('x', ''));
    const file = path.join(dir, 'kept.json');
    await writeWhole(file, 'previous\n');
    await mkdir(path.join(dir, 'blocker'));
    // Renaming a file over a folder fails (EISDIR): the write must leave everything as it was.
    await expect(writeWhole(path.join(dir, 'blocker'), 'x')).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('previous\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
