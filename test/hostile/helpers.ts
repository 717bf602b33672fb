/** Temp folders for the hostile-input tests: every test's files live under one folder removed afterwards. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditInputError } from '../../src/errors.js';
import { readItems } from '../../src/data/read.js';
import type { ReadOptions, RowOrBad } from '../../src/data/types.js';
import { useTempDir } from '../helpers/files.js';

/** A temp folder for this test file (useTempDir); `file` writes each file into a subfolder of its own. */
export function scratch(prefix: string): { file: (name: string, content: string | Uint8Array) => string } {
  const tmp = useTempDir(`hostile-${prefix}-`);
  let n = 0;
  return {
    file: (name, content) => {
      const sub = tmp.file(String(n++));
      mkdirSync(sub);
      const path = join(sub, name);
      writeFileSync(path, content);
      return path;
    },
  };
}

export async function collect(file: string, opts: ReadOptions = {}): Promise<RowOrBad[]> {
  const out: RowOrBad[] = [];
  for await (const item of readItems(file, opts)) out.push(item);
  return out;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Rejects with a one-line AuditInputError whose message matches `pattern`. */
export async function expectInputError(p: Promise<unknown>, pattern: RegExp): Promise<AuditInputError> {
  const e = await rejection(p);
  if (!(e instanceof AuditInputError)) throw new Error(`expected AuditInputError, got ${e.name}: ${e.message}`);
  if (!pattern.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${pattern}`);
  if (e.message.includes('\n')) throw new Error(`message is not one line: ${JSON.stringify(e.message)}`);
  return e;
}
