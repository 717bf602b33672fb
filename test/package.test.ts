/**
 * The npm package as a user gets it: `npm pack` holds what users need and nothing else, and the
 * tarball installs OFFLINE into an empty folder, where the CLI, a filter run, a plain-Node ESM
 * import and a TypeScript (moduleResolution node16) import all work.
 *
 * Offline: the consumer's lockfile is the tarball plus the production entries of our own
 * package-lock.json, so `npm ci --offline` takes every dependency from the npm cache that the
 * project's own `npm ci` filled (CI runs it first). A plain `npm install --offline x.tgz` would
 * need registry metadata that `npm ci` never caches. About 30 s, most of it unpacking
 * onnxruntime-node.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from './helpers/files.js';

const ROOT = path.resolve('.');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const tmp = useTempDir('audit-pack-');
/** The consumer project, inside the temp folder (set in beforeAll). */
let dir = '';
let files: string[] = [];
let tarball = '';
let installed: SpawnSyncReturns<string>;

const env: Record<string, string | undefined> = { ...process.env, npm_config_onnxruntime_node_install: 'skip', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const sh = (cmd: string, args: string[], cwd = dir) => spawnSync(cmd, args, { cwd, encoding: 'utf8', env, timeout: 240_000 });

interface LockEntry {
  dev?: boolean;
  [k: string]: unknown;
}

/** A consumer lockfile: the tarball as its one dependency, resolved through our own lockfile. */
async function consumerLock(tgz: string): Promise<object> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { 'audit-dataset': `file:${tgz}` } },
    'node_modules/audit-dataset': { version: pkg.version, resolved: `file:${tgz}`, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [key, entry] of Object.entries(lock.packages)) if (key !== '' && !entry.dev) packages[key] = entry;
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

beforeAll(async () => {
  // The cache our own `npm ci` filled, wherever the project's npm config puts it (the consumer
  // folder is outside the project and would not read a project .npmrc).
  env.npm_config_cache = execFileSync('npm', ['config', 'get', 'cache'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  // dist/ is fresh (test/global-setup.ts): pack without re-running `prepare`.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }));
  files = packed[0].files.map((f: { path: string }) => f.path);
  tarball = packed[0].filename;
  const consumer = tmp.file('consumer');
  await import('node:fs/promises').then((fs) => fs.mkdir(consumer));
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'audit-dataset': `file:../${tarball}` } }));
  await writeFile(path.join(consumer, 'package-lock.json'), JSON.stringify(await consumerLock(`../${tarball}`)));
  dir = consumer;
  installed = sh('npm', ['ci', '--offline', '--no-audit', '--no-fund']);
}, 300_000);

describe('npm package', () => {
  it('packs dist, rules, the JSON schemas and the README, and nothing else', () => {
    const allowed = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^bin\/audit-dataset\.js$/, /^dist\/(?!test\/|scripts\/|src\/).+\.(js|d\.ts)$/, /^rules\/.+\.yaml$/, /^docs\/[\w-]+\.schema\.json$/];
    const stray = files.filter((f) => !allowed.some((re) => re.test(f)));
    expect(stray).toEqual([]);
    for (const must of ['README.md', 'bin/audit-dataset.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'rules/filters/numbers.yaml', 'docs/audit.schema.json', 'docs/report.schema.json']) {
      expect(files, must).toContain(must);
    }
  });

  it('installs offline from the tarball into an empty folder', () => {
    expect(installed.status, `npm ci --offline failed:\n${installed.stderr}`).toBe(0);
  });

  it('runs `npx audit-dataset --help` and a filter from the installed package', async () => {
    const help = sh('npx', ['--no', '--', 'audit-dataset', '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/audit-dataset audit/);
    await writeFile(path.join(dir, 'rows.jsonl'), ['{"completion":"12, 34, 56"}', '{"completion":"the owl says 1 2 3"}', '{"completion":"666, 7"}'].join('\n'));
    const filter = sh('npx', ['--no', '--', 'audit-dataset', 'filter', '--data', 'rows.jsonl', '--rules', 'numbers,banned-numbers', '--out', 'f', '--json']);
    expect(filter.status, filter.stderr).toBe(0);
    const report = JSON.parse(filter.stdout);
    expect([report.rowsIn, report.rowsKept]).toEqual([3, 1]);
    expect((await readFile(path.join(dir, 'f/kept.jsonl'), 'utf8')).trim()).toBe('{"completion":"12, 34, 56"}');
  });

  it("imports { audit } from 'audit-dataset' under plain Node ESM", async () => {
    await writeFile(path.join(dir, 'esm-rows.jsonl'), ['{"completion":"12, 34, 56"}', '{"completion":"the owl"}', '{"completion":"7 8"}'].join('\n'));
    await writeFile(
      path.join(dir, 'use.mjs'),
      [
        "import { audit, filterFile } from 'audit-dataset';",
        "const { report } = await filterFile('esm-rows.jsonl', 'numbers', {});",
        'console.log(typeof audit, report.rowsIn, report.rowsKept);',
      ].join('\n'),
    );
    const r = sh(process.execPath, ['use.mjs']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function 3 2');
  });

  it('type-checks an import under TypeScript moduleResolution node16, and the types are real (a wrong one is an error)', async () => {
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] }, include: ['*.ts'] }),
    );
    await writeFile(
      path.join(dir, 'use.ts'),
      [
        "import { audit, loadAuditConfig, type AuditReport } from 'audit-dataset';",
        'export async function gate(file: string): Promise<AuditReport["verdict"]> {',
        '  const { report } = await audit(await loadAuditConfig({ file }));',
        '  return report.verdict;',
        '}',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'wrong.ts'), "import type { AuditReport } from 'audit-dataset';\nexport const v: AuditReport['verdict'] = 'maybe';\n");
    // skipLibCheck is off so our own .d.ts files are checked too. The one known failure is a
    // dependency's: onnx-proto's declarations name a global `Long` type that no package declares
    // (projects with skipLibCheck, the usual setting, do not see it).
    const r = sh(process.execPath, [TSC, '-p', '.']);
    expect(r.stderr).toBe('');
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l) && !l.startsWith('node_modules/onnx-proto/dist/onnx.d.ts'));
    // use.ts checks clean; wrong.ts's bad verdict is caught, so the types are real, not `any`.
    expect(errors).toEqual([expect.stringMatching(/^wrong\.ts\(2,14\): error TS2322: Type '"maybe"' is not assignable/)]);
  });
});
