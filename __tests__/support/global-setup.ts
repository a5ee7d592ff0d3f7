import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctionBundle } from '../../lib/bundle/build';
import { bundleDir, packageRoot } from '../../lib/bundle/sources';
import { SHARED_EMULATORS_DIR, killSharedEmulatorsNow } from '../../testkit/shared-emulators';
import { prepareFunctionDependencies } from '../../testkit/function-host';

// Plan and artifact tests read the bundle the construct uploads: build it once, up front
// (a no-op when dist/bundle already matches the sources). The tests that run the shipped
// bundle need the runtime's Node binary in tools/runtime-node: install it once (a no-op when
// present), here rather than in an install script, which would also run for consumers.
export default async function globalSetup(): Promise<void> {
  // No test may ask a metadata server for credentials: on a Compute Engine machine it would
  // answer with real ones. The workers and the tools they spawn inherit this.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const root = packageRoot(__dirname);
  execFileSync(process.execPath, [join(root, 'scripts', 'install-runtime-node.js')], { stdio: 'inherit' });
  const bundle = await buildFunctionBundle(root);
  // The end-to-end suites serve the zip with the dependencies it declares, installed once here.
  prepareFunctionDependencies(join(bundleDir(root), bundle.zipFile));
  // Each worker's suites share its emulators (ADR 0019); the workers, forked after this, inherit
  // the variable and record there each emulator they spawn; the global teardown stops them.
  const dir = mkdtempSync(join(tmpdir(), 'svir-emulators-'));
  process.env[SHARED_EMULATORS_DIR] = dir;
  // A run that ends without its teardown (--bail, quitting --watch, Ctrl-C, SIGTERM) kills them
  // as Jest's process exits.
  exitingKills(dir);
}

const runs: string[] = [];

function exitingKills(dir: string): void {
  runs.push(dir);
  if (runs.length > 1) return; // installed by an earlier run of this process (--watch)
  const killAll = () => {
    for (const run of runs) {
      killSharedEmulatorsNow(run);
      rmSync(run, { recursive: true, force: true });
    }
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}
