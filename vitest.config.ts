import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Engines look keys up in WebAssembly, as in a worker (tests of the JavaScript lookup ask for it).
          setupFiles: ['test/unit/load-key-lookup.ts'],
          // The machine is shared (2 cores): a few tests work through 40k records; 5 s is too tight under load.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // Real services are shared: run files one at a time so they do not starve each other on 2 cores.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
