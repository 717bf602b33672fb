import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readItems } from '../../src/data/read.js';
import type { ReadOptions, RowOrBad } from '../../src/data/types.js';

export function tempDir(prefix = 'data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write `content` to a fresh temp file named `name`; returns its path. */
export function tempFile(name: string, content: string | Uint8Array): string {
  const file = join(tempDir(), name);
  writeFileSync(file, content);
  return file;
}

export async function collect(file: string, opts: ReadOptions = {}): Promise<RowOrBad[]> {
  const out: RowOrBad[] = [];
  for await (const item of readItems(file, opts)) out.push(item);
  return out;
}
