/** How the CLI reports failures: user errors exit 2, bugs exit 3, one line each, stacks on request. */
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, reportError } from '../src/cli/main.js';
import { AuditInputError, UnsupportedModelError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { useTempDir } from './helpers/files.js';

const tmp = useTempDir('cli-errors-');

function report(e: unknown, argv: string[] = []): { code: number; text: string } {
  let text = '';
  const code = reportError(e, argv, (t) => void (text += t));
  return { code, text };
}

describe('reportError', () => {
  const saved = process.env.AUDIT_DATASET_DEBUG;
  afterEach(() => {
    if (saved === undefined) delete process.env.AUDIT_DATASET_DEBUG;
    else process.env.AUDIT_DATASET_DEBUG = saved;
  });

  it('input errors: exit 2, the message on one line', () => {
    delete process.env.AUDIT_DATASET_DEBUG;
    const r = report(new AuditInputError('data.jsonl:3: bad\nrow'));
    expect(r.code).toBe(EXIT.input);
    expect(r.code).toBe(2);
    expect(r.text).toBe('audit-dataset: data.jsonl:3: bad row\n');
    expect(report(new UnsupportedModelError('m.onnx: op Foo')).code).toBe(2);
  });

  it('anything else is a bug: exit 3, one line that says so, no stack', () => {
    delete process.env.AUDIT_DATASET_DEBUG;
    const r = report(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(r.code).toBe(3);
    expect(r.text.trimEnd().split('\n')).toHaveLength(1);
    expect(r.text).toMatch(/^audit-dataset: internal error, a bug in audit-dataset .*--debug.*: Cannot read properties of undefined/);
    expect(r.text).not.toMatch(/\bat .*:\d+:\d+/);
    expect(report('a thrown string').code).toBe(3);
  });

  it('--debug (or AUDIT_DATASET_DEBUG) adds the stack', () => {
    delete process.env.AUDIT_DATASET_DEBUG;
    const withFlag = report(new RangeError('boom'), ['audit', '--debug']);
    expect(withFlag.code).toBe(3);
    expect(withFlag.text).toMatch(/RangeError: boom\n\s+at /);
    process.env.AUDIT_DATASET_DEBUG = '1';
    expect(report(new RangeError('boom')).text).toMatch(/\n\s+at /);
    process.env.AUDIT_DATASET_DEBUG = '0';
    expect(report(new RangeError('boom')).text).not.toMatch(/\n\s+at /);
  });
});

describe('the CLI process', () => {
  it('a user error exits 2 with one line, --debug accepted by every command', () => {
    const r = runCli(['filter', '--data', 'no/such.jsonl', '--out', tmp.dir, '--debug']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('audit-dataset: no/such.jsonl: cannot read (ENOENT)\n');
  });

  it('an unwritable output folder is the user\'s error (exit 2), not a bug', () => {
    const r = runCli(['filter', '--data', 'examples/numbers/candidate.jsonl', '--out', '/dev/null/out']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('audit-dataset: /dev/null/out: cannot use it as the output folder: a path component is a file, not a folder (ENOTDIR)\n');
  });
});
