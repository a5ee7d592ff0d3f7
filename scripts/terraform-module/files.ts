import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as babel from 'prettier/plugins/babel';
import * as estree from 'prettier/plugins/estree';
import { format } from 'prettier/standalone';
import { GeneratedModule, Options, generateModule } from './module';
import { readmeOf } from './readme';
import { MODULES } from './spec';

/** The files of the module tree, by path relative to its root, and the modules they were generated from. */
export interface ModuleTree {
  readonly files: ReadonlyMap<string, string>;
  readonly modules: readonly GeneratedModule[];
}

/**
 * Generates the root module and its submodules; the JSON as the repository's prettier writes it,
 * so format:check passes (prettier's standalone build: its main entry loads plugins with a dynamic
 * import, which Jest's module system refuses).
 */
export async function moduleTree(options: Options): Promise<ModuleTree> {
  const config = JSON.parse(readFileSync(join(options.root, '.prettierrc.json'), 'utf8')) as Record<string, unknown>;
  const prettier = { ...config, parser: 'json', plugins: [babel, estree] };
  const files = new Map<string, string>();
  const modules: GeneratedModule[] = [];
  for (const spec of MODULES) {
    const module = generateModule(spec, options);
    modules.push(module);
    for (const [name, doc] of Object.entries(module.configuration)) {
      files.set(join(spec.dir, name), await format(JSON.stringify(doc), prettier));
    }
    files.set(join(spec.dir, 'README.md'), readmeOf(module));
  }
  return { files, modules };
}

/** Files a module tree writes: configuration and README files, not the zip. */
const GENERATED_FILE = /(\.tf\.json|README\.md)$/;

/** Where the files under `dir` differ from the tree: changed, missing, or generated files the tree no longer has. */
export function drift(dir: string, files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [path, content] of files) {
    const file = join(dir, path);
    if (!existsSync(file)) found.push(`${path}: missing`);
    else if (readFileSync(file, 'utf8') !== content) found.push(`${path}: differs`);
  }
  const walk = (d: string): string[] =>
    existsSync(d)
      ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]))
      : [];
  for (const path of walk(dir)) if (GENERATED_FILE.test(path) && !files.has(path)) found.push(`${path}: not generated any more`);
  return found;
}
