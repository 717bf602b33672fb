/**
 * Before the suite: compiles src/ to dist/ once (the CLI tests spawn bin/audit-dataset.js, which
 * runs the compiled code; a type error fails the suite here, with tsc's own message), and points
 * TMPDIR at one fresh folder for the whole run, so every temp folder a test, a worker or a spawned
 * CLI makes (os.tmpdir()) lands inside it. After the suite that folder is removed: a run leaves
 * nothing in the system's temp folder even when a test forgets its own clean-up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`tsc -p tsconfig.build.json failed:\n${out}`);
  }
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'audit-dataset-tests-'));
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
