// Lint: typescript-eslint's recommended rules with type information, so promises that are
// neither awaited nor handled (a lost Compute call, an unreported failure) are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import architecture from './scripts/lint/layers.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'cdktf.out/', 'coverage/', 'tools/', '**/node_modules/', '.scratch/', '.gen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json', './tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Which layer may import which (docs/architecture.md): the contract imports nothing, the core
    // only the contract, and the construct and the tools reach the function only through those two.
    files: ['function/**/*.ts', 'lib/**/*.ts', 'cli/**/*.ts', 'main.ts'],
    plugins: { architecture },
    rules: { 'architecture/layers': 'error' },
  },
  {
    // Tests and their harness read synthesized plans and API payloads as loose JSON.
    files: ['__tests__/**/*.ts', 'testkit/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The examples are consumer apps with their own tsconfig and the published package as a dependency.
    files: ['examples/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { project: null } },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
