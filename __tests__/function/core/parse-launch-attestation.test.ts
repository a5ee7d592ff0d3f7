import { parseMessage } from '../../../function/core/parse';
import { integrityEntry, otherIntegrityEntry, pubsubData } from '../../../testkit/fixtures';

// The launch-attestation report of an AMD SEV Confidential VM, in the shape Google's "Monitor
// Confidential VM integrity" page documents: a verdict and the SEV policy bits.

const sev = (report: unknown, extra: Record<string, unknown> = {}) => {
  const entry = integrityEntry({ kind: 'sevLaunchAttestationReportEvent', bootCounter: '0' });
  (entry.jsonPayload as Record<string, unknown>).sevLaunchAttestationReportEvent = report;
  Object.assign(entry.jsonPayload as Record<string, unknown>, extra);
  return parseMessage(pubsubData(entry));
};

describe('parsing a launch-attestation report', () => {
  it('reads the verdict and the SEV policy, with no measurements', () => {
    const parsed = parseMessage(pubsubData(integrityEntry({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' })));
    expect(parsed).toEqual({
      status: 'report',
      report: expect.objectContaining({
        kind: 'launchAttestation',
        passed: false,
        actualMeasurements: [],
        bootCounter: '0',
        sevPolicy: { debugEnabled: false, keySharingAllowed: false, esRequired: true },
      }),
    });
  });

  it('rejects a report without a boolean verdict', () => {
    expect(sev({ sevPolicy: {} })).toEqual({
      status: 'rejected',
      code: 'invalid-report',
      detail: 'sevLaunchAttestationReportEvent.integrityEvaluationPassed must be a boolean, got undefined',
    });
    expect(sev({ integrityEvaluationPassed: 'false' })).toEqual(expect.objectContaining({ status: 'rejected', code: 'invalid-report' }));
  });

  it('never refuses a failed attestation for what its SEV policy holds: it keeps the flat booleans and integers', () => {
    const parsed = sev({
      integrityEvaluationPassed: false,
      sevPolicy: { debugEnabled: true, minApiMajor: 1, nested: { x: 1 }, text: 'x' },
    });
    expect(parsed).toEqual({
      status: 'report',
      report: expect.objectContaining({ passed: false, sevPolicy: { debugEnabled: true, minApiMajor: 1 } }),
    });
    expect(sev({ integrityEvaluationPassed: false, sevPolicy: 'opaque' })).toEqual({
      status: 'report',
      report: expect.not.objectContaining({ sevPolicy: expect.anything() }),
    });
  });

  it('rejects an IntegrityEvent carrying a boot report and a launch attestation together', () => {
    expect(sev({ integrityEvaluationPassed: true }, { lateBootReportEvent: { policyEvaluationPassed: true } })).toEqual({
      status: 'rejected',
      code: 'invalid-report',
      detail: 'an IntegrityEvent carries exactly one report; this one has lateBootReportEvent and sevLaunchAttestationReportEvent',
    });
  });

  it('still ignores every other IntegrityEvent, naming what it carries', () => {
    for (const event of [
      'startupEvent',
      'shutdownEvent',
      'clearTPMEvent',
      'updateShieldedInstanceConfig',
      'setShieldedInstanceIntegrityPolicy',
    ]) {
      expect(parseMessage(pubsubData(otherIntegrityEntry(event)))).toEqual({
        status: 'ignored',
        reason: `IntegrityEvent without a boot or launch-attestation report (${event})`,
      });
    }
  });
});
