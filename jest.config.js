/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/support/env.ts'],
  testTimeout: 60000,
  // Jest's default on a 2-core machine (CI's) is one worker; the suite is half waiting on child
  // processes and local DynamoDB, so two workers take about 250 s instead of 375 s there.
  maxWorkers: 2,
};
