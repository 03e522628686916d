// @ts-check
/**
 * @module eslint.config
 * ESLint runs only the type-aware promise rules. Biome (biome.json) does everything else; its own
 * noFloatingPromises infers types without the TypeScript checker and missed promises from
 * node:timers/promises, node:fs, pg and playwright-core in our code, which tsc's types catch.
 */
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**', '**/*.js'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
)
