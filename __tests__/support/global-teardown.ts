import { rmSync } from 'node:fs';
import { SHARED_EMULATORS_DIR, stopSharedEmulators } from '../../testkit/emulators';

// Stops the emulators the workers shared between their suites (testkit/emulators.ts).
export default async function globalTeardown(): Promise<void> {
  const dir = process.env[SHARED_EMULATORS_DIR];
  if (!dir) return;
  await stopSharedEmulators(dir);
  rmSync(dir, { recursive: true, force: true });
}
