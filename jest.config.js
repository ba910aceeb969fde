/** Unit specs sit next to the code; e2e specs under test/ drive the built server and CLI as real processes. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/plugins', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  maxWorkers: 1,
  // The whole-suite log scan: a directory for every server's output, the secrets the specs saw, the scan last.
  globalSetup: '<rootDir>/test/helpers/log-capture.global-setup.ts',
  setupFiles: ['<rootDir>/test/helpers/record-secrets.setup.ts'],
  testSequencer: '<rootDir>/test/helpers/log-scan.sequencer.js',
};
