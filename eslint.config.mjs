// Lint rules: the recommended JS and TypeScript sets, nothing bespoke.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'examples/**', 'node_modules/**', '.node-red/**', '.test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // Editor-side helpers run in the browser next to Node-RED's jQuery.
    files: ['resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', $: 'readonly' } },
  },
  {
    // The browser satellite's page: a plain script, and AudioWorklet modules (lib/browser-page).
    files: ['lib/browser-page/voice.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'navigator', 'fetch', 'URL', 'URLSearchParams', 'WebSocket', 'AudioContext', 'AudioWorkletNode', 'setTimeout', 'clearTimeout'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['lib/browser-page/*-worklet.js', 'lib/browser-page/resampler.js'],
    languageOptions: { sourceType: 'module', globals: { AudioWorkletProcessor: 'readonly', registerProcessor: 'readonly', sampleRate: 'readonly', currentTime: 'readonly' } },
  },
  {
    // Node-RED constructors are plain functions; `const node = this` is the idiom its docs use.
    files: ['nodes/**/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // Editor-side code inside .html is not linted; node runtime rules only.
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
