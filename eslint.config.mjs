// ESLint (flat config): typescript-eslint's recommended rules, run by `npm test` before jest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.medic/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unused names are a compile error already (tsconfig noUnusedLocals/Parameters); `_`-prefixed ones are deliberate.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // inert-text.ts and the parsers match control characters on purpose: that is how they make untrusted text inert.
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Tests and the offline tools (local runner, game day) read synthesized templates, state machine
    // definitions and scenario YAML: untyped JSON, walked with checks.
    files: ['test/**', 'lib/local/**', 'lib/gameday/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
