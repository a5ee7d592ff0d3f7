import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { baselineDocument } from '../function/baseline';
import { parseMeasurements } from '../function/parse';
import { integrityEntry, otherIntegrityEntry, windowsPcrs } from '../testkit/fixtures';

const root = join(__dirname, '..');
const cli = (input: unknown) =>
  execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/baseline.ts'), '-'], { input: JSON.stringify(input), encoding: 'utf8' });

describe('npm run baseline', () => {
  it('turns the late-boot entry from gcloud logging read output into a baseline document', () => {
    const out = JSON.parse(cli([otherIntegrityEntry('startupEvent'), integrityEntry({ name: 'canary-1', actual: windowsPcrs('new-kernel'), bootCounter: '5' })]));
    const expected = baselineDocument(parseMeasurements(windowsPcrs('new-kernel'), 't'));
    expect(out.id).toBe(expected.id);
    expect(out.data).toEqual({
      ...expected.data,
      description: 'late-boot measurements of canary-1 at boot 5',
      source: 'projects/fleet-prod-1234/zones/europe-west1-b/instances/canary-1',
    });
  });

  it('fails clearly when the input holds no late-boot report', () => {
    expect(() => cli([otherIntegrityEntry('startupEvent')])).toThrow(/no entry with a jsonPayload.lateBootReportEvent/);
  });
});
