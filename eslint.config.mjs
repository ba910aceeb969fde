// ESLint (typescript-eslint) over everything we ship and test; `npm test` runs it before the suites.
// Type-aware rules are left out on purpose: `tsc --noEmit` already checks types, and they would
// double the time lint adds to every test run.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'fetch', 'setTimeout', 'clearTimeout', 'setInterval',
    'clearInterval', 'setImmediate', 'structuredClone', 'AbortController', 'TextEncoder', 'TextDecoder']
    .map((name) => [name, 'readonly']),
);

export default tseslint.config(
  // syntax-error.js is broken on purpose: a test checks that `serve module` reports it clearly.
  { ignores: ['dist/', 'node_modules/', '.cache/', 'coverage/', '**/*.d.ts', 'test/fixtures/trees/syntax-error.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Plain JavaScript here is CommonJS: the bin shim and the tree/plugin fixtures a user would write.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...nodeGlobals, require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
