/** File helpers for tests: JSONL text and temporary folders (one per test file, or one per test). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** Rows as JSONL text, one JSON value per line. */
export const jsonl = (rows: unknown[]): string => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** A temporary folder: `dir` is its path, `file(...parts)` a path inside it. */
export interface TempDir {
  readonly dir: string;
  file(...parts: string[]): string;
}

/** The folder made by `make` and removed by `remove` (vitest hooks registered where this is called). */
function tempDirHooks(prefix: string, make: typeof beforeAll, remove: typeof afterAll, when: string): TempDir {
  let made: string | undefined;
  make(async () => {
    made = await mkdtemp(join(tmpdir(), prefix));
  });
  remove(async () => {
    if (made) await rm(made, { recursive: true, force: true });
    made = undefined;
  });
  const dir = (): string => {
    if (made === undefined) throw new Error(`${prefix}: the temporary folder exists only ${when}`);
    return made;
  };
  return { get dir() { return dir(); }, file: (...parts) => join(dir(), ...parts) };
}

/**
 * A temporary folder made before a test file's tests and removed after them. Call it at the top
 * of the file, before the file's own beforeAll, which may then write into it.
 */
export function useTempDir(prefix: string): TempDir {
  return tempDirHooks(prefix, beforeAll, afterAll, 'from beforeAll to afterAll');
}

/** A fresh empty temporary folder for each test (made in beforeEach, removed in afterEach), for tests that must not see each other's files. */
export function useTempDirEach(prefix: string): TempDir {
  return tempDirHooks(prefix, beforeEach, afterEach, 'from beforeEach to afterEach');
}
