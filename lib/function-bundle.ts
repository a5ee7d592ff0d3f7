import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionBundleManifest } from './bundle/manifest';
import { bundleDir, packageRoot, sourcesHash } from './bundle/sources';

/** The built function source as the construct uploads it. */
export interface FunctionBundle extends FunctionBundleManifest {
  /** Absolute path of the zip. */
  readonly zipPath: string;
}

let loaded: FunctionBundle | undefined;

/**
 * Loads the bundle `npm run build:function` wrote, checking that the zip is the one the
 * manifest describes and, in a source checkout, that it was built from the current sources:
 * a stale bundle would deploy code that is not the code under review.
 */
export function loadFunctionBundle(root: string = packageRoot()): FunctionBundle {
  if (loaded) return loaded;
  const dir = bundleDir(root);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`IntegrityResponder: the function bundle is missing (${manifestPath}); run 'npm run build:function' first`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as FunctionBundleManifest;
  const zipPath = join(dir, manifest.zipFile);
  const actual = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
  if (actual !== manifest.zipSha256) {
    throw new Error(`IntegrityResponder: ${zipPath} does not match its manifest (sha256 ${actual}); run 'npm run build:function -- --force'`);
  }
  if (existsSync(join(root, 'function', 'index.ts')) && sourcesHash(root) !== manifest.sourcesHash) {
    throw new Error(`IntegrityResponder: the function bundle in ${dir} is older than the sources in function/; run 'npm run build:function'`);
  }
  loaded = { ...manifest, zipPath };
  return loaded;
}
