import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local starts once per run and every file gets its own tables.
    globalSetup: ['test/support/global-setup.ts'],
    // Two cores: more workers than that only adds contention with DynamoDB Local's JVM.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
