// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'src/shared/bridge/gen/**', 'src/main/peer/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    // The peer must run headless under Node: nothing outside the Electron glue may import electron.
    files: ['src/main/peer/**', 'src/main/api/**', 'src/main/cli/**', 'src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Keep Electron out of the peer, API and CLI.' }] }
      ]
    }
  }
)
