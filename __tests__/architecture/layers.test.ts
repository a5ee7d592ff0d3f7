import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../support/paths';
import { circles, importEdges, sourceFiles } from '../support/module-graph';

// The layers of docs/architecture.md, as scripts/lint/layers.mjs declares them, checked three
// ways: on the module graph read from the sources, through ESLint with the project's own
// configuration, and against the page that describes them.

interface Layer {
  readonly name: string;
  readonly path: string;
  readonly may: readonly string[];
}

/**
 * Runs an ES module snippet in the repository and returns what it prints as JSON. Under `CI=true`
 * typescript-eslint assumes a single run over the files on disk and parses those instead of the
 * text it is given; `TSESTREE_SINGLE_RUN=false` makes it parse the text.
 */
function esm<T>(code: string): T {
  const env = { ...process.env, TSESTREE_SINGLE_RUN: 'false' };
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO_ROOT, encoding: 'utf8', env })) as T;
}

const LAYERS = esm<Layer[]>(
  `const { LAYERS } = await import('./scripts/lint/layers.mjs');
   console.log(JSON.stringify(LAYERS.map((l) => ({ name: l.name, path: l.path.source, may: l.may }))));`,
);
const layerOf = (file: string) => LAYERS.find((l) => new RegExp(l.path).test(file))?.name;

const FILES = sourceFiles(REPO_ROOT, ['function', 'lib', 'cli', 'main.ts']);
const EDGES = importEdges(REPO_ROOT, FILES);

describe('the layers', () => {
  it('reads a graph worth checking', () => {
    expect(FILES.length).toBeGreaterThan(60);
    expect(EDGES.length).toBeGreaterThan(150);
    expect(FILES.filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it('has no import circle among the sources, type-only imports included', () => {
    expect(circles(FILES, EDGES)).toEqual([]);
  });

  it('has every import between layers be one the table allows', () => {
    const wrong = EDGES.filter((e) => {
      const from = LAYERS.find((l) => l.name === layerOf(e.from));
      const to = layerOf(e.to);
      return from !== undefined && to !== undefined && !from.may.includes(to);
    });
    expect(wrong).toEqual([]);
  });

  it('keeps the contract free of imports from outside it, the construct out of the adapters and the runtime, and the tools out of the runtime', () => {
    const reached = (layer: string) => new Set(EDGES.filter((e) => layerOf(e.from) === layer).map((e) => layerOf(e.to)));
    expect([...reached('contract')]).toEqual(['contract']);
    expect([...reached('construct')].filter((l) => l === 'adapters' || l === 'runtime' || l === 'entry')).toEqual([]);
    // The release shares the function's adapters (ADR 0031), over the tools' own clients.
    expect([...reached('tools')].filter((l) => l === 'runtime' || l === 'entry')).toEqual([]);
  });
});

describe('the lint rule, through ESLint with the project configuration', () => {
  // One ESLint process for every case: the project's configuration is type-aware, and building
  // its program once takes most of the time.
  const cases: Record<string, { readonly file: string; readonly add: string }> = {
    'the core importing the runtime': { file: 'function/core/parse.ts', add: "import type { Config } from '../runtime/config';" },
    'the core importing a Google client': {
      file: 'function/core/decide.ts',
      add: "import type { Firestore } from '@google-cloud/firestore';",
    },
    'the contract importing the core': { file: 'function/contract/names.ts', add: "import type { Decision } from '../core/decide';" },
    'a tool importing the runtime': { file: 'cli/firestore.ts', add: "import type { Config } from '../function/runtime/config';" },
    'the construct importing an adapter': {
      file: 'lib/labels.ts',
      add: "import type { FirestoreBaselineStore } from '../function/adapters/firestore-store';",
    },
    'a tool importing the entry by its folder': { file: 'cli/principal.ts', add: "import '../function';" },
    'a tool importing the runtime with import() of a template literal': {
      file: 'cli/network.ts',
      add: 'export const _late = () => import(`../function/runtime/config`);',
    },
    'the construct requiring an adapter': {
      file: 'lib/tokens.ts',
      add: "// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const _req = require('../function/adapters/compute-control');",
    },
    'a tool naming the runtime in a type': { file: 'cli/clients.ts', add: "export type _C = typeof import('../function/runtime/config');" },
    'the core importing a module named by an expression': {
      file: 'function/core/request-id.ts',
      add: "const _where = '../runtime/config';\nexport const _x = () => import(_where);",
    },
    'the core importing the contract (allowed)': {
      file: 'function/core/in-scope.ts',
      add: "import type { Scope as Allowed } from '../contract';",
    },
  };
  let results: Record<string, string[]>;
  beforeAll(() => {
    results = esm<Record<string, string[]>>(
      `import { readFileSync } from 'node:fs';
       const { ESLint } = await import('eslint');
       const eslint = new ESLint({ cwd: process.cwd() });
       const cases = ${JSON.stringify(cases)};
       const out = {};
       for (const [name, c] of Object.entries(cases)) {
         const text = c.add + '\\nexport type _Probe = unknown;\\n' + readFileSync(c.file, 'utf8');
         const [r] = await eslint.lintText(text, { filePath: c.file });
         out[name] = r.messages.filter((m) => m.ruleId === 'architecture/layers').map((m) => m.message);
       }
       console.log(JSON.stringify(out));`,
    );
  }, 120_000);

  it.each(Object.keys(cases).filter((c) => !c.endsWith('(allowed)')))('refuses %s, naming the layers and the page', (name) => {
    expect(results[name]).toHaveLength(1);
    expect(results[name]![0]).toMatch(/(may not import|imports a module named by an expression).*\(docs\/architecture\.md\)$/);
  });

  it('lets the core import the contract', () => {
    expect(results['the core importing the contract (allowed)']).toEqual([]);
  });
});
