import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PACKAGE_NAME } from '../../function/contract';

/** Name in the package's `package.json`: how the package root is recognised from anywhere inside it. */
export { PACKAGE_NAME };

function isPackageRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * Directory of this package: the nearest one above `from` whose `package.json` is ours. The
 * same walk finds the checkout (from `lib/`) and an installed copy (from `dist/lib/`).
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${from}`);
  }
}

/** Where the prebuilt source zip and its manifest live, in a checkout and in the published package. */
export function bundleDir(root: string): string {
  return join(root, 'dist', 'bundle');
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
  for (const f of files)
    h.update(`${f}\0`)
      .update(readFileSync(join(root, f)))
      .update('\0');
  return h.digest('hex');
}
