/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // esbuild strips the types (ADR 0018); `npm run typecheck` checks them.
    '^.+\\.ts$': '<rootDir>/__tests__/support/esbuild-transform.js',
  },
  globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/setup-cdktf.ts', '<rootDir>/__tests__/support/no-leaks.ts'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  testTimeout: 30000,
  // Jest's default (cores - 1) is one worker on a 2-core machine. The slow suites mostly wait on
  // child processes (emulators, the function, npm, Pub/Sub's redelivery backoff): on 2 cores, 2
  // workers took 97 s and kept the cores 60 % busy, 3 took 82 s, 4 took 80 s.
  maxWorkers: 3,
};
