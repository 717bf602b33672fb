import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Our own version: package.json sits two folders above src/audit and dist/audit. */
export function toolVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function runtimeVersions(): Record<string, string> {
  return {
    'audit-dataset': toolVersion(),
    node: process.versions.node,
    'onnxruntime-node': versionOf('onnxruntime-node'),
    platform: `${process.platform}-${process.arch}`,
  };
}
