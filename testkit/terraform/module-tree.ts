import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { loadFunctionBundle } from '../../lib/function-bundle';

const ROOT = join(__dirname, '..', '..');

/**
 * Copies the generated Terraform module (terraform/, as committed) into `dir`/terraform with the
 * function zip the construct uploads, which a checkout holds only after a build: a test that
 * calls the module then needs no build to have run before it. Returns the copied folder.
 */
export function placeModuleTree(dir: string): string {
  const tree = join(dir, 'terraform');
  cpSync(join(ROOT, 'terraform'), tree, { recursive: true, filter: (path) => !path.endsWith('function.zip') });
  copyFileSync(loadFunctionBundle(ROOT).zipPath, join(tree, 'function.zip'));
  return tree;
}
