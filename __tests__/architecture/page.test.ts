import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../support/paths';
import { importEdges, sourceFiles } from '../support/module-graph';

// docs/architecture.md held against the code: its table of layers against the lint rule's, the
// files it names against the tree, the event's path against the module graph.

const PAGE = readFileSync(join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
const section = (title: string) => {
  const start = PAGE.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`docs/architecture.md has no section '${title}'`);
  const end = PAGE.indexOf('\n## ', start + 1);
  return PAGE.slice(start, end < 0 ? undefined : end);
};

const LAYERS = JSON.parse(
  execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { LAYERS } = await import('./scripts/lint/layers.mjs'); console.log(JSON.stringify(LAYERS.map((l) => [l.name, l.may])));`,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  ),
) as [string, string[]][];

describe('docs/architecture.md', () => {
  it('draws the table of layers the lint rule enforces', () => {
    const rows = [...section('Layers').matchAll(/^\| ([a-z]+) \| [^|]+ \| ([a-z, ]+) \|$/gm)]
      .map((m) => [m[1], m[2]!.split(', ')])
      .filter(([name]) => name !== 'layer');
    expect(rows).toEqual(LAYERS);
  });

  it('names every file of the function in the layer it lives in', () => {
    const list = section('Files of the function');
    const named = new Map<string, string>();
    for (const line of list.split(/\n(?=- )/)) {
      const layer = /^- ([a-z]+):/m.exec(line)?.[1];
      const folder = /`(function\/[a-z]+\/)/.exec(line)?.[1] ?? '';
      for (const m of line.matchAll(/`([a-z./-]+\.ts)`/g)) {
        const path = m[1]!.startsWith('function/') ? m[1]! : `${folder}${m[1]}`;
        named.set(path, layer ?? '');
      }
    }
    const files = sourceFiles(REPO_ROOT, ['function']);
    const layerOf = (f: string) => (f === 'function/index.ts' ? 'entry' : f.split('/')[1]);
    expect(files.filter((f) => named.get(f) !== layerOf(f)).map((f) => `${f} (named under ${named.get(f) ?? 'no layer'})`)).toEqual([]);
    expect([...named.keys()].filter((f) => !files.includes(f))).toEqual([]);
  });

  it('names only files and folders that exist', () => {
    const paths = [...PAGE.matchAll(/`((?:function|lib|cli|scripts|__tests__)\/[A-Za-z0-9./_-]*)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((p) => !existsSync(join(REPO_ROOT, p)))).toEqual([]);
  });

  it('follows one event through files that the entry point reaches', () => {
    const steps = [...section("One event's path").matchAll(/`(function\/[a-z/.-]+\.ts)`/g)].map((m) => m[1]!);
    const files = sourceFiles(REPO_ROOT, ['function']);
    const edges = importEdges(REPO_ROOT, files);
    const reached = new Set(['function/index.ts']);
    for (let grew = true; grew;) {
      grew = false;
      for (const e of edges) if (reached.has(e.from) && !reached.has(e.to)) grew = reached.add(e.to) !== undefined;
    }
    expect(steps[0]).toBe('function/index.ts');
    expect(steps.filter((s) => !reached.has(s))).toEqual([]);
    // The core never imports the adapters: a step into an adapter goes through a port of the core.
    expect(edges.filter((e) => e.from.startsWith('function/core/') && e.to.startsWith('function/adapters/'))).toEqual([]);
  });
});
