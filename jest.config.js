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
};
