import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: the e2e files start real chains, keep at most two at once.
    maxWorkers: 2,
    testTimeout: 240_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
