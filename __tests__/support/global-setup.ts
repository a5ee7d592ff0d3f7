import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFunctionBundle } from '../../lib/bundle/build';
import { packageRoot } from '../../lib/bundle/sources';

// Plan and artifact tests read the bundle the construct uploads: build it once, up front
// (a no-op when dist/bundle already matches the sources). The tests that run the shipped
// bundle need the runtime's Node binary in tools/runtime-node: install it once (a no-op when
// present), here rather than in an install script, which would also run for consumers.
export default async function globalSetup(): Promise<void> {
  const root = packageRoot(__dirname);
  execFileSync(process.execPath, [join(root, 'scripts', 'install-runtime-node.js')], { stdio: 'inherit' });
  await buildFunctionBundle(root);
}
