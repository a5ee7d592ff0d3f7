import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Directory of the package: the one holding `function/index.ts`. */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'function'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package root (with function/) above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Where `npm run build:function` writes the source zip and its manifest. */
export function bundleDir(root: string): string {
  return join(root, 'dist', 'function');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/**
 * Hash of everything that shapes the bundle: the handler's sources, the locked dependency
 * versions and the bundling code itself. Recorded in the manifest, so a synth can tell a
 * stale bundle from a fresh one without rebuilding.
 */
export function sourcesHash(root: string): string {
  const files = [
    ...listFiles(join(root, 'function')).filter((f) => !/\.test\.ts$/.test(f)),
    ...listFiles(join(root, 'lib', 'bundle')),
    join(root, 'package-lock.json'),
  ]
    .filter(existsSync)
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}
