import type { ResponseMode } from '../../../../function/contract';
import { RecordingInstances } from '../../../support/fakes';
import { GET, setup } from '../../../support/handler-setup';
import { linuxPcrs, tutorialDocument } from '../../../../testkit/fixtures';

// Dry run: decided and recorded as enforce would, with no Compute mutation.

describe('dry run (enforcement dry-run)', () => {
  const dry = (mode: ResponseMode = 'relearn-if-known-good', failureAction: 'stop' | 'suspend' = 'stop') =>
    setup(mode, new RecordingInstances(), { enforcement: 'dry-run', failureAction });

  it('decides a stop, records it and logs it, with no Compute mutation (only the get for its labels)', async () => {
    const t = dry();
    const outcome = await t.run({ actual: linuxPcrs('tampered') }, 'msg-1');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'not-known-good' } }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.baselines.lookups).toBe(1);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        containment: 'stop',
        dryRun: true,
        ledger: 'new',
        operationStatus: 'dry-run',
        message: expect.stringMatching(
          /^Dry run: would stop the instance: Integrity of .* not vetted \(not-known-good\); no action taken \(dry run\)$/,
        ),
      }),
    ]);
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({
        dryRun: true,
        outcome: 'done',
        operationStatus: 'dry-run',
        decision: { action: 'stop', reason: 'not-known-good' },
      }),
    ]);
  });

  it('says it would suspend when the failure action is suspend', async () => {
    const t = dry('shutdown', 'suspend');
    await t.run({ kind: 'earlyBootReportEvent' }, 'msg-1');
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        containment: 'suspend',
        dryRun: true,
        message: expect.stringMatching(/^Dry run: would suspend the instance: /),
      }),
    ]);
  });

  it('reads the VM to confirm a relearn, and does not relearn it', async () => {
    const t = dry();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') }, 'msg-1');
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'NOTICE',
        decision: 'relearn',
        dryRun: true,
        operationStatus: 'dry-run',
        message: expect.stringMatching(
          /^Dry run: would relearn the instance: Measurements of .* match a known-good baseline; no action taken \(dry run\)$/,
        ),
      }),
    ]);
  });

  it('still detects conflicting reports about one boot through the ledger', async () => {
    const t = dry();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ bootCounter: '7', actual: linuxPcrs('good') }, 'msg-a');
    await t.run({ bootCounter: '7', actual: linuxPcrs('tampered') }, 'msg-b');
    expect(t.instances.calls).toEqual([GET, GET]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'conflicting-reports',
        ledger: 'conflict',
        dryRun: true,
        message: expect.stringMatching(/^Dry run: would stop the instance: Conflicting integrity reports .*possible forged entry/),
      }),
    );
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({ conflict: true, dryRun: true, outcome: 'done', operationStatus: 'dry-run' }),
    ]);
  });

  it('still refuses to relearn an older boot than one already recorded', async () => {
    const t = dry();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ bootCounter: '9', actual: linuxPcrs('tampered') }, 'msg-a');
    await t.run({ bootCounter: '8', actual: linuxPcrs('good') }, 'msg-b');
    expect(t.instances.calls).toEqual([GET, GET]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({ decision: 'none', reason: 'older-boot', ledger: 'older-boot', dryRun: true }),
    );
  });

  it('makes no Compute mutation for a redelivered message either', async () => {
    const t = dry();
    await t.run({ actual: linuxPcrs('tampered') }, 'msg-1');
    await t.run({ actual: linuxPcrs('tampered') }, 'msg-1');
    expect(t.instances.calls).toEqual([GET, GET]);
    expect(t.logger.lines[1]).toEqual(expect.objectContaining({ severity: 'INFO', alreadyDone: true, dryRun: true, ledger: 'repeat' }));
  });
});
