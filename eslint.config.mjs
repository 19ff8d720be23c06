// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/**
 * Which top-level folder may import which (README "The system"): imports flow one way, and nothing
 * imports test/. A wrong-way import fails `npm run lint` and so test/run.
 */
const LAYERS = {
  lib: [],
  proto: ['lib'],
  ovs: ['lib'],
  netmaster: ['lib', 'proto'],
  netplugin: ['lib', 'ovs', 'proto'],
  netctl: ['lib'],
  deploy: ['lib'],
  // what only tests, benchmarks and development use (reference encoders, plumbing without OVS, fakes)
  tools: ['lib', 'ovs', 'proto', 'netplugin', 'netmaster', 'deploy'],
  bench: ['lib', 'ovs', 'proto', 'netplugin', 'netmaster', 'deploy', 'tools'],
  test: ['lib', 'ovs', 'proto', 'netplugin', 'netmaster', 'netctl', 'deploy', 'bench', 'tools'],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gobgp/**', 'proto/gen/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // one way to touch etcd: the store (netmaster/store/) owns the client, the key layout and the
    // mapping of etcd errors; tests may use the client directly (compaction, lease inspection)
    files: ['**/*.ts'],
    ignores: ['netmaster/store/**', 'test/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'etcd3', message: 'Use netmaster/store (EtcdKV): it owns the etcd client.' }] }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
      'boundaries/elements': Object.keys(LAYERS).map((layer) => ({ type: layer, pattern: `${layer}/**`, partialMatch: false })),
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: Object.entries(LAYERS).map(([layer, uses]) => ({
            from: { element: { type: layer } },
            allow: { to: { element: { types: { anyOf: [layer, ...uses] } } } },
          })),
        },
      ],
    },
  },
);
