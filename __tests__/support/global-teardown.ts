import { rmSync } from 'node:fs';
import { SHARED_EMULATORS_DIR, stopSharedEmulators } from '../../testkit/shared-emulators';

// Stops the emulators the workers shared between their suites (ADR 0019).
export default async function globalTeardown(): Promise<void> {
  const dir = process.env[SHARED_EMULATORS_DIR];
  if (!dir) return;
  await stopSharedEmulators(dir);
  rmSync(dir, { recursive: true, force: true });
}
