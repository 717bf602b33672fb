import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-fast-check.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // 2 cores: onnxruntime already uses both; more workers only thrash.
    maxWorkers: 2,
  },
});
