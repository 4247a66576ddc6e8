// Lint config: typescript-eslint's recommended rules over every TypeScript source, and the import
// layers: api/ and policies/ at the bottom, then clock/ and kube/, then certs/, webhook/,
// controller/ and localcluster/, with cli/ on top; nothing outside test/ imports test/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Files under `folder` may import none of `forbidden` (top-level folders). */
function layer(folder, forbidden) {
  return {
    files: [`${folder}/**/*.ts`, `${folder}/**/*.js`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: forbidden.map((f) => ({ group: [`**/${f}/**`, `../${f}/*`, `./${f}/*`], message: `${folder}/ may not import ${f}/ (see the layers in eslint.config.js)` })),
      }],
      // no-restricted-imports does not see import(): the same layers for dynamic imports (esquery regexes cannot hold a slash).
      'no-restricted-syntax': ['error', ...forbidden.map((f) => ({
        selector: `ImportExpression[source.value=/(^|[^A-Za-z0-9_-])${f}[^A-Za-z0-9_-]/]`,
        message: `${folder}/ may not import ${f}/ (see the layers in eslint.config.js)`,
      }))],
    },
  };
}
const edges = ['webhook', 'controller', 'certs', 'cli', 'kube', 'clock', 'localcluster', 'bench', 'test'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tap/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  layer('api', [...edges, 'policies']),
  layer('policies', edges),
  layer('clock', [...edges.filter((f) => f !== 'clock'), 'api', 'policies']),
  layer('kube', ['webhook', 'controller', 'certs', 'cli', 'localcluster', 'bench', 'test', 'policies']),
  layer('certs', ['webhook', 'controller', 'cli', 'localcluster', 'bench', 'test']),
  layer('webhook', ['controller', 'cli', 'localcluster', 'bench', 'test']),
  layer('controller', ['webhook', 'cli', 'localcluster', 'bench', 'test']),
  layer('localcluster', ['cli', 'controller', 'bench', 'test']),
  layer('cli', ['bench', 'test']),
  layer('bin', ['bench', 'test']),
  layer('bench', ['test']),
  layer('scripts', ['test']),
);
