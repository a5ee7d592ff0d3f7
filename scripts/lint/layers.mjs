// The project's layers and which may import which, checked on every import by ESLint
// (docs/architecture.md draws the same table). A path is the imported file's place in the
// repository; the first layer whose pattern matches it is its layer.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
  { name: 'tools', path: /^cli\//, may: ['contract', 'core', 'adapters', 'tools'], packages: [/.*/] },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function layerOf(path) {
  return LAYERS.find((l) => l.path.test(path));
}

/**
 * The repository path a relative specifier names, resolved as TypeScript resolves it here: the
 * file itself, `<path>.ts`, or the folder's `index.ts`. A path that names nothing is returned
 * as `<path>.ts`, so that it still falls into the layer of its folder.
 */
function targetOf(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier.replace(/\.js$/, ''));
  const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
  return relative(ROOT, found ?? `${base}.ts`);
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
      computed:
        '{{from}} imports a module named by an expression, which no layer check can follow: name it with a string (docs/architecture.md)',
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
    /** The text of a string literal, or of a template literal without expressions. */
    const textOf = (node) =>
      node?.type === 'Literal' && typeof node.value === 'string'
        ? node.value
        : node?.type === 'TemplateLiteral' && node.expressions.length === 0
          ? node.quasis[0].value.cooked
          : undefined;
    const dynamic = (node, source) => {
      const text = textOf(source);
      if (text !== undefined) check(node, text);
      else context.report({ node, messageId: 'computed', data: { from: from.name } });
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => dynamic(node, node.source),
      // require('…') and import x = require('…'), which TypeScript resolves as imports too.
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1)
          dynamic(node, node.arguments[0]);
      },
      TSExternalModuleReference: (node) => dynamic(node, node.expression),
      // `typeof import('…')` and `import('…').Type` in a type.
      TSImportType: (node) => {
        const source = node.source ?? node.argument?.literal ?? node.argument;
        dynamic(node, source);
      },
    };
  },
};

export default { rules: { layers: rule } };
