/** File helpers for tests: JSONL text and a per-file temporary folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Rows as JSONL text, one JSON value per line. */
export const jsonl = (rows: unknown[]): string => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

/**
 * A temporary folder made before a test file's tests and removed after them. Call it at the top
 * of the file, before the file's own beforeAll, which may then write into it.
 */
export function useTempDir(prefix: string): { readonly dir: string; file(name: string): string } {
  let made: string | undefined;
  beforeAll(async () => {
    made = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (made) await rm(made, { recursive: true, force: true });
  });
  const dir = (): string => {
    if (made === undefined) throw new Error(`useTempDir(${prefix}): the folder is made in beforeAll`);
    return made;
  };
  return { get dir() { return dir(); }, file: (name) => join(dir(), name) };
}
