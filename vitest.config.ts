import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: the e2e files start real chains, keep at most two at once.
    maxWorkers: 2,
    // Deadline tests force garbage collections while a peer stays silent (global.gc()).
    execArgv: ['--expose-gc'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    // After the last file, vitest's own process still holds a few hundred file handles (its
    // hanging-process reporter names only FILEHANDLEs, none opened by a test) and waits this
    // long before exiting anyway; the default 10 s is wasted on every run.
    teardownTimeout: 2_000,
    reporters: ['default'],
  },
});
