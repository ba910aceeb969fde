/** Unit specs sit next to the code; e2e specs under test/ drive the built server and CLI as real processes. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/plugins', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The built-in plugins import the plugin API by package name (tsconfig.json "paths" does the same for tsc).
  moduleNameMapper: { '^tiled-ts/plugins-api$': '<rootDir>/src/plugins-api' },
  testTimeout: 60000,
  maxWorkers: 1,
};
