/**
 * The GitHub Action's script (dist/cli/github-action-run.js, what action.yml runs), run locally with the
 * variables GitHub sets pointing at temp files: a FAIL and a PASS audit of the MNIST fixtures
 * (3 seeds x 2 epochs through the `args` input), and a bad config. Plus its pure parts.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureMnistFixtures } from './fixtures/mnist.js';
import { codeScanningSarif, MAX_ROW_RESULTS, outputLines, readInputs, splitArgs, stepFails } from '../src/cli/github-action.js';
import { useTempDir } from './helpers/files.js';

const RUN = path.resolve('dist/cli/github-action-run.js');
let fixtures = '';
const tmp = useTempDir('audit-action-');

beforeAll(async () => {
  fixtures = await ensureMnistFixtures();
}, 600_000);

/** $GITHUB_OUTPUT's two forms: name=value and name<<DELIM ... DELIM. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(\S+)$/.exec(lines[i]!);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const k = lines[i]!.slice(0, lines[i]!.indexOf('='));
      out[k] = lines[i]!.slice(k.length + 1);
    }
  }
  return out;
}

async function runAction(name: string, inputs: Record<string, string>) {
  const summaryFile = tmp.file(`${name}-summary.md`);
  const outputFile = tmp.file(`${name}-output.txt`);
  await writeFile(summaryFile, '');
  await writeFile(outputFile, '');
  const env: Record<string, string | undefined> = { ...process.env, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile, GITHUB_WORKSPACE: fixtures };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k}`] = v;
  const r = spawnSync(process.execPath, [RUN], { cwd: fixtures, encoding: 'utf8', env: env as NodeJS.ProcessEnv });
  return { status: r.status, stderr: r.stderr, summary: await readFile(summaryFile, 'utf8'), outputs: parseOutputs(await readFile(outputFile, 'utf8')) };
}

const FAST = '--train.seeds 3 --train.epochs 2 --quiet';

describe('GitHub Action script (process)', () => {
  it('FAIL: step fails, the summary has the verdict and the probe table, outputs name every report, SARIF paths are repo-relative', async () => {
    const out = tmp.file('fail');
    const r = await runAction('fail', { CONFIG: 'audit.yaml', ARGS: FAST, OUT: out });
    expect(r.status, r.stderr).toBe(1);
    expect(r.outputs).toMatchObject({ verdict: 'fail', failed: 'true', 'exit-code': '1', 'report-dir': out, 'report-json': path.join(out, 'report.json'), 'report-html': path.join(out, 'report.html'), sarif: path.join(out, 'code-scanning.sarif') });
    const report = JSON.parse(await readFile(r.outputs['report-json']!, 'utf8'));
    expect(report.verdict).toBe('fail');
    expect(report.reproducibility.seeds).toEqual([1, 2, 3]);
    expect(r.summary).toMatch(/^## audit-dataset: \*\*FAIL\*\*\n/);
    expect(r.summary).toContain('### Probes');
    expect(r.summary).toMatch(/^\| `digits` \| accuracy .*\|$/m);
    expect(r.summary).toMatch(/^\| `[^`]+` \| .*\| \*\*FAIL\*\* \|$/m);
    expect(r.summary).toMatch(/^\| `teacher-agreement` \|/m);
    expect(r.summary).toContain('This step fails (fail-on: `fail`).');
    expect(r.summary).toContain('`audit-dataset-report` artifact');
    const sarif = JSON.parse(await readFile(r.outputs.sarif!, 'utf8'));
    const results = sarif.runs[0].results as { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
    const transfer = results.filter((x) => x.ruleId === 'trait-transfer');
    // One code-scanning result per probe that failed the gate (with KL probes: whichever of the three).
    const failing = (report.probes as { verdict: string }[]).filter((p) => p.verdict === 'fail');
    expect(failing.length).toBeGreaterThan(0);
    expect(transfer).toHaveLength(failing.length);
    for (const x of results) expect(x.locations[0]!.physicalLocation.artifactLocation.uri).toBe('candidate.jsonl');
  }, 600_000);

  it('PASS: step passes with verdict pass', async () => {
    const r = await runAction('pass', { CONFIG: 'audit-clean.yaml', ARGS: FAST, OUT: tmp.file('pass'), FAIL_ON: 'inconclusive' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ verdict: 'pass', failed: 'false', 'exit-code': '0' });
    expect(r.summary).toMatch(/^## audit-dataset: \*\*PASS\*\*\n/);
    expect(r.summary).toMatch(/^\| `digits` \| accuracy .*\| pass \|$/m);
    expect(r.summary).toContain('This step passes (fail-on: `inconclusive`).');
  }, 600_000);

  it('a bad config: verdict error, the CLI message in the summary, the step fails even with fail-on never', async () => {
    const r = await runAction('error', { CONFIG: 'no-such.yaml', FAIL_ON: 'never', OUT: tmp.file('error') });
    expect(r.status).toBe(1);
    expect(r.outputs).toMatchObject({ verdict: 'error', failed: 'true', 'exit-code': '2', 'report-json': '' });
    expect(r.summary).toMatch(/^## audit-dataset: ERROR \(exit 2\)/);
    expect(r.summary).toContain('no-such.yaml: cannot read config file');
  });

  it('run cache: a second run of the step reads every probe run, with the same verdict and numbers', async () => {
    const cache = tmp.file('run-cache');
    const first = await runAction('cache-1', { CONFIG: 'audit.yaml', ARGS: FAST, OUT: tmp.file('cache-1'), RUN_CACHE_DIR: cache });
    const second = await runAction('cache-2', { CONFIG: 'audit.yaml', ARGS: FAST, OUT: tmp.file('cache-2'), RUN_CACHE_DIR: cache });
    const [a, b] = await Promise.all([first, second].map(async (r) => JSON.parse(await readFile(r.outputs['report-json']!, 'utf8'))));
    expect(second.outputs.verdict).toBe(first.outputs.verdict);
    expect(a.run.cachedRuns).toBe(0);
    expect(b.run.cachedRuns).toBeGreaterThan(0);
    expect(b.probes).toEqual(a.probes);
  });

  it('action.yml passes every input the script reads and exposes every output it writes', async () => {
    const action = parse(await readFile('action.yml', 'utf8'));
    const step = action.runs.steps.find((s: { id?: string }) => s.id === 'audit');
    const cacheDir = '${{ runner.temp }}/audit-dataset-run-cache';
    for (const [name, value] of Object.entries(step.env as Record<string, string>)) {
      if (name === 'INPUT_RUN_CACHE_DIR') expect(value).toBe("${{ inputs.run-cache == 'true' && format('{0}/audit-dataset-run-cache', runner.temp) || '' }}");
      else if (name.startsWith('INPUT_')) expect(value).toBe(`\${{ inputs.${name.slice(6).toLowerCase().replace(/_/g, '-')} }}`);
    }
    // The folder the script is given is the one actions/cache restores and saves, only when asked.
    const cache = action.runs.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/cache@'));
    expect(cache).toMatchObject({ if: "inputs.run-cache == 'true'", with: { path: cacheDir } });
    expect(action.runs.steps.indexOf(cache)).toBeLessThan(action.runs.steps.indexOf(step));
    expect(action.inputs['run-cache'].default).toBe('true');
    for (const k of ['verdict', 'failed', 'exit-code', 'report-dir', 'report-json', 'report-html', 'sarif']) {
      expect(action.outputs[k].value).toBe(`\${{ steps.audit.outputs.${k} }}`);
    }
    expect(action.inputs['fail-on'].default).toBe('fail');
    expect(action.runs.steps.some((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact@'))).toBe(true);
  });
});

describe('GitHub Action: pure parts', () => {
  it('splits the args input like a shell, for words and quotes', () => {
    expect(splitArgs(' --train.seeds 8  --out "my reports" --x \'a b\' c\\ d ')).toEqual(['--train.seeds', '8', '--out', 'my reports', '--x', 'a b', 'c d']);
    expect(splitArgs('--a ""')).toEqual(['--a', '']);
    expect(() => splitArgs('--a "b')).toThrow(/unclosed/);
  });

  it('decides the step under each fail-on', () => {
    const table = (['pass', 'fail', 'inconclusive', 'error'] as const).map((v) => [v, stepFails(v, 'fail'), stepFails(v, 'inconclusive'), stepFails(v, 'never')]);
    expect(table).toEqual([
      ['pass', false, false, false],
      ['fail', true, true, false],
      ['inconclusive', false, true, false],
      ['error', true, true, true],
    ]);
    expect(() => readInputs({ INPUT_FAIL_ON: 'sometimes' }, '/w')).toThrow(/fail-on: 'sometimes' is not one of fail, inconclusive, never/);
    expect(readInputs({}, '/w')).toMatchObject({ config: 'audit.yaml', args: [], failOn: 'fail', out: '/w/audit-report' });
    expect(readInputs({}, '/w').runCache).toBeUndefined();
    expect(readInputs({ INPUT_RUN_CACHE_DIR: '/tmp/rc' }, '/w').runCache).toBe('/tmp/rc');
  });

  it('writes multi-line outputs with a delimiter not in the value', () => {
    expect(outputLines({ a: 'x', b: 'one\nAUDIT_DATASET_EOF\ntwo' })).toBe('a=x\nb<<AUDIT_DATASET_EOF_\none\nAUDIT_DATASET_EOF\ntwo\nAUDIT_DATASET_EOF_\n');
  });

  it('makes SARIF paths relative to the workspace (others untouched) and caps row results for code scanning', () => {
    const loc = (uri: string) => [{ physicalLocation: { artifactLocation: { uri } } }];
    const rows = Array.from({ length: MAX_ROW_RESULTS + 10 }, () => ({ ruleId: 'numbers', locations: loc('file:///w/data/my%20file.jsonl') }));
    const log = { runs: [{ results: [{ ruleId: 'trait-transfer', locations: loc('file:///elsewhere/x.jsonl') }, ...rows] }] };
    const out = JSON.parse(codeScanningSarif(JSON.stringify(log), '/w'));
    expect(out.runs[0].results).toHaveLength(MAX_ROW_RESULTS + 1);
    expect(out.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('file:///elsewhere/x.jsonl');
    expect(out.runs[0].results[1].locations[0].physicalLocation.artifactLocation.uri).toBe('data/my%20file.jsonl');
    expect(out.runs[0].properties).toEqual({ rowResultsTotal: MAX_ROW_RESULTS + 10, rowResultsShown: MAX_ROW_RESULTS });
  });
});
