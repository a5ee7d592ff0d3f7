import { emulatorsAvailable } from '../../testkit/emulators';

/**
 * For suites that need the emulators. In CI a missing emulator fails the run with what to
 * install; elsewhere the suite is skipped, loudly, so it is never counted as passed.
 */
export function describeWithEmulators(name: string, body: () => void): void {
  const available = emulatorsAvailable();
  if (available.ok) {
    describe(name, body);
  } else if (process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)) {
    describe(name, () => {
      it('needs the emulators', () => {
        throw new Error(`cannot run "${name}": missing ${available.missing}`);
      });
    });
  } else {
    process.stderr.write(`\n*** NOT RUN: "${name}" needs ${available.missing}. Install them to run this suite. ***\n\n`);
    describe.skip(name, body);
  }
}
