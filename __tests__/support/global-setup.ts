import { buildFunctionBundle } from '../../lib/bundle/build';
import { packageRoot } from '../../lib/bundle/sources';

// Plan and artifact tests read the bundle the construct uploads: build it once, up front
// (a no-op when dist/function already matches the sources).
export default async function globalSetup(): Promise<void> {
  await buildFunctionBundle(packageRoot(__dirname));
}
