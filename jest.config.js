/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/setup-cdktf.ts'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  testTimeout: 30000,
  // Jest's default (cores - 1) is one worker on a 2-core machine. The slow suites mostly wait on
  // child processes (emulators, the function, npm), so two workers halve the wall time.
  maxWorkers: 2,
};
