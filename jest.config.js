const { SourceTextModule } = require('node:vm');

/**
 * Unit specs sit next to the code; e2e specs under test/ drive the built server and CLI as real processes.
 *
 * `*.nest-spec.ts` build a Nest application in-process. Nest 12 ships as ES modules, which Jest can
 * load into its CommonJS VM only through require(esm): Node >= 24.9 with --experimental-vm-modules
 * (the `test` script passes it). Elsewhere those specs are left out with one line saying so, except
 * under CI=true, where they must run.
 */
const canLoadNest = typeof SourceTextModule?.prototype?.hasAsyncGraph === 'function';
if (!canLoadNest) {
  const why = `in-process Nest specs (*.nest-spec.ts) need Node >= 24.9 run with --experimental-vm-modules; this is ${process.version}`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${why}. Run \`npm test\` on Node 24 or 26.`);
  process.stderr.write(`Skipping ${why}.\n`);
}

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/plugins', '<rootDir>/test'],
  testRegex: canLoadNest ? '.*\\.(spec|e2e-spec|nest-spec)\\.ts$' : '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The built-in plugins import the plugin API by package name (tsconfig.json "paths" does the same for tsc).
  moduleNameMapper: { '^tiled-ts/plugins-api$': '<rootDir>/src/plugins-api', '^tiled-ts/adapters-api$': '<rootDir>/src/adapters-api' },
  testTimeout: 60000,
  maxWorkers: 1,
  // The whole-suite log scan: a directory for every server's output, the secrets the specs saw, the scan last.
  globalSetup: '<rootDir>/test/helpers/log-capture.global-setup.ts',
  setupFiles: ['<rootDir>/test/helpers/record-secrets.setup.ts'],
  testSequencer: '<rootDir>/test/helpers/log-scan.sequencer.js',
};
