// ESLint for the whole repository: `npm run lint` (scripts/test.sh runs it before the tests).
// typescript-eslint with type information (each file is checked with the tsconfig.json that
// covers it), and the rule that keeps workflow code deterministic at the import level.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports that cannot run in the workflow sandbox: Node's modules, and code that does I/O. */
const notInWorkflows = {
  paths: [
    ...builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: 'Workflow code is deterministic: no Node modules (do I/O in an activity).' })),
    ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map((name) => ({
      name,
      allowTypeImports: true,
      message: 'Workflow code imports @temporalio/workflow, never the worker, client or activity packages.',
    })),
  ],
  patterns: [
    { regex: '^node:', message: 'Workflow code is deterministic: no Node modules (do I/O in an activity).' },
    {
      regex: '(^|/)activities(/|$)',
      allowTypeImports: true,
      message: 'Workflows call activities through proxyActivities: import their types only (`import type`).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.slipway/', 'test-results/', 'domain/config/validate.generated.ts'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    // A disable comment that no longer silences anything is an error, so none are left behind.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promises that nobody awaits lose their errors. node:test's test()/describe() are awaited by the runner.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      // JSON from outside systems (ECS, GitHub, registries, Temporal histories) is read as `any` at the
      // edges and checked where it is used; the no-unsafe-* family would flag every such read.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Style, not bugs: async functions that happen not to await (activity implementations keep
      // their async signature), assertions the compiler already implies, assert methods passed as values,
      // template literals of values whose toString is meant.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', notInWorkflows] },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
