/** @type {import('jest').Config} The consumer test (`npm run test:consumer`): packs medic and uses it as a newcomer's app would. */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  testMatch: ['<rootDir>/*.consumer.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 600000,
};
