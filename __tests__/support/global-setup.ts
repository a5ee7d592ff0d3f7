import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctionBundle } from '../../lib/bundle/build';
import { bundleDir, packageRoot } from '../../lib/bundle/sources';
import { SHARED_EMULATORS_DIR } from '../../testkit/emulators';
import { prepareFunctionDependencies } from '../../testkit/function-host';

// Plan and artifact tests read the bundle the construct uploads: build it once, up front
// (a no-op when dist/bundle already matches the sources). The tests that run the shipped
// bundle need the runtime's Node binary in tools/runtime-node: install it once (a no-op when
// present), here rather than in an install script, which would also run for consumers.
export default async function globalSetup(): Promise<void> {
  const root = packageRoot(__dirname);
  execFileSync(process.execPath, [join(root, 'scripts', 'install-runtime-node.js')], { stdio: 'inherit' });
  const bundle = await buildFunctionBundle(root);
  // The end-to-end suites serve the zip with the dependencies it declares, installed once here.
  prepareFunctionDependencies(join(bundleDir(root), bundle.zipFile));
  // Each worker's suites share its emulators (testkit/emulators.ts); the workers, forked after
  // this, inherit the variable; the global teardown stops what they recorded here.
  process.env[SHARED_EMULATORS_DIR] = mkdtempSync(join(tmpdir(), 'svir-emulators-'));
}
