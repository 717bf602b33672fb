/**
 * Compiles src/ to dist/ once before the suite: the CLI tests spawn bin/audit-dataset.js, which
 * runs the compiled code. A type error fails the suite here, with tsc's own message.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`tsc -p tsconfig.build.json failed:\n${out}`);
  }
}
