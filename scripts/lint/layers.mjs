// The project's layers and which may import which, checked on every import by ESLint
// (docs/architecture.md draws the same table). A path is the imported file's place in the
// repository; the first layer whose pattern matches it is its layer.
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each layer: where it lives, the layers it may import, and the packages it may import. */
export const LAYERS = [
  { name: 'contract', path: /^function\/contract\//, may: ['contract'], packages: [] },
  { name: 'core', path: /^function\/core\//, may: ['contract', 'core'], packages: [/^node:crypto$/] },
  { name: 'adapters', path: /^function\/adapters\//, may: ['contract', 'core', 'adapters'], packages: [/^@google-cloud\//] },
  {
    name: 'runtime',
    path: /^function\/runtime\//,
    may: ['contract', 'core', 'adapters', 'runtime'],
    packages: [/^@google-cloud\//, /^google-auth-library$/],
  },
  {
    name: 'entry',
    path: /^function\/index\.ts$/,
    may: ['contract', 'core', 'runtime'],
    packages: [/^@google-cloud\/functions-framework$/],
  },
  { name: 'construct', path: /^(lib\/|main\.ts$)/, may: ['contract', 'core', 'construct'], packages: [/.*/] },
  { name: 'tools', path: /^cli\//, may: ['contract', 'core', 'tools'], packages: [/.*/] },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function layerOf(path) {
  return LAYERS.find((l) => l.path.test(path));
}

/** The repository path a relative specifier names, with `.ts` where it names a file, or `/index.ts` for a folder. */
function targetOf(fromFile, specifier) {
  const base = relative(ROOT, resolve(dirname(fromFile), specifier.replace(/\.js$/, '')));
  if (/^function\/contract$/.test(base) || /\/$/.test(specifier)) return `${base}/index.ts`;
  return /\.(ts|js|mjs)$/.test(base) ? base : `${base}.ts`;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'keeps each layer to the layers and packages it may import (docs/architecture.md)' },
    schema: [],
    messages: {
      layer: "{{from}} may not import {{to}} ('{{specifier}}'): {{from}} imports only {{may}} (docs/architecture.md)",
      package: "{{from}} may not import the package '{{specifier}}': {{from}} stays free of it (docs/architecture.md)",
    },
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    const from = layerOf(file);
    if (from === undefined) return {};
    const check = (node, specifier) => {
      if (typeof specifier !== 'string') return;
      if (specifier.startsWith('.')) {
        const to = layerOf(targetOf(context.filename, specifier));
        if (to !== undefined && !from.may.includes(to.name)) {
          context.report({ node, messageId: 'layer', data: { from: from.name, to: to.name, specifier, may: from.may.join(', ') } });
        }
      } else if (!specifier.startsWith('node:') || from.name === 'core' || from.name === 'contract') {
        if (!from.packages.some((p) => p.test(specifier))) {
          context.report({ node, messageId: 'package', data: { from: from.name, specifier } });
        }
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { rules: { layers: rule } };
