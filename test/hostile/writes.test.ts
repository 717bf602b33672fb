/**
 * Issue 12, class 3 "nothing written outside out/": an audit run as the CLI, in a child process
 * with its own empty HOME and TMPDIR, writes only into its out/ folder. onnxruntime-node 1.30 would
 * otherwise create ~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db} and
 * $TMPDIR/mat-debug-<pid>.log (its telemetry): the control case below shows the check sees them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tinyCase } from '../audit/tiny.js';

const BIN = path.resolve('bin/audit-dataset.js');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const dir = (name: string) => {
  const d = mkdtempSync(path.join(tmpdir(), `hostile-writes-${name}-`));
  made.push(d);
  return d;
};

/** Every file and folder under `root`, relative to it. */
function listAll(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      out.push(path.relative(root, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/**
 * The environment of a fresh user: empty HOME and TMPDIR, no telemetry switch inherited from this
 * process, and no CI variable (onnxruntime keeps telemetry off when CI is set, which would hide it).
 */
function freshEnv(home: string, temp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: temp, TMP: temp, TEMP: temp };
  for (const key of ['ORT_DISABLE_TELEMETRY', 'CI', 'XDG_CACHE_HOME']) delete env[key];
  return env;
}

describe('no writes outside out/', () => {
  it('control: onnxruntime loaded without our switch writes its telemetry files (the check can see them)', () => {
    const home = dir('home0');
    const temp = dir('tmp0');
    const script = `const ort = require('onnxruntime-node'); ort.InferenceSession.create(require('fs').readFileSync(process.argv[1])).then(() => {}, (e) => { console.error(e); process.exit(3); });`;
    const model = path.join(dir('model'), 'm.onnx');
    // The smallest valid model: our own MLP fixture bytes.
    const r0 = spawnSync(process.execPath, ['--input-type=module', '-e', `import { buildMlp } from ${JSON.stringify(path.resolve('dist/models/mlp.js'))}; import { encodeModel } from ${JSON.stringify(path.resolve('dist/onnx/io.js'))}; import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(model)}, encodeModel(buildMlp({ sizes: [4, 3, 2], seed: 1 })));`], { encoding: 'utf8' });
    expect(r0.status, r0.stderr).toBe(0);
    const r = spawnSync(process.execPath, ['-e', script, model], { encoding: 'utf8', env: freshEnv(home, temp), cwd: path.resolve('.') });
    expect(r.status, r.stderr).toBe(0);
    expect([...listAll(home), ...listAll(temp)].join('\n')).toMatch(/onnxruntime|mat-debug/);
  });

  it('an audit through the CLI writes its reports into out/ and nothing into HOME, TMPDIR or beside its inputs', async () => {
    const c = await tinyCase({ rows: 100 });
    made.push(c.dir);
    const home = dir('home');
    const temp = dir('tmp');
    const config = path.join(c.dir, 'audit.yaml');
    await writeFile(config, stringify({ ...c.config, saveModels: true }));
    const before = listAll(c.dir);
    const r = spawnSync(process.execPath, [BIN, 'audit', '--config', config, '--quiet'], { encoding: 'utf8', env: freshEnv(home, temp), cwd: c.dir });
    expect([0, 1], r.stderr).toContain(r.status);
    expect(listAll(home)).toEqual([]);
    expect(listAll(temp)).toEqual([]);
    const added = listAll(c.dir).filter((f) => !before.includes(f));
    expect(added.length).toBeGreaterThan(5);
    for (const f of added) expect(f === 'out' || f.startsWith(`out${path.sep}`), f).toBe(true);
  });
});
