import type { ResponseMode } from '../../../../function/contract';
import { HandlerDeps, handleMessage } from '../../../../function/core/handler';
import { requestIdFor } from '../../../../function/core/request-id';
import { RecordingInstances } from '../../../support/fakes';
import { GET, RELEARNED, STOPPED, VM, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../../testkit/fixtures';

// Containing a VM: the shutdown mode, and suspending instead of stopping.

describe('handleMessage in shutdown mode', () => {
  it('stops the VM on a failed early-boot report', async () => {
    const t = setup('shutdown');
    await t.run({ kind: 'earlyBootReportEvent' });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ mode: 'shutdown', decision: 'stop', reason: 'policy-failed', eventKind: 'earlyBoot' }),
    ]);
  });

  it('stops the VM on a failed late-boot report even when its measurements are known good', async () => {
    const t = setup('shutdown');
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.baselines.lookups).toBe(0);
  });

  it('does nothing when the policy evaluation passed', async () => {
    const t = setup('shutdown');
    await t.run({ kind: 'earlyBootReportEvent', passed: true });
    expect(t.instances.calls).toEqual([]);
  });
});

describe('containing a VM by suspending it (failureAction suspend)', () => {
  const SUSPEND = `suspend ${VM}`;
  const suspending = (mode: ResponseMode = 'relearn-if-known-good') => setup(mode, new RecordingInstances(), { failureAction: 'suspend' });

  it('suspends, instead of stopping, a VM whose measurements are not known good', async () => {
    const t = suspending();
    const outcome = await t.run({ actual: linuxPcrs('tampered') }, 'msg-1');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'not-known-good' } }));
    expect(t.instances.calls).toEqual([GET, SUSPEND]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        containment: 'suspend',
        reason: 'not-known-good',
        requestId: requestIdFor('msg-1', 'suspend'),
        operation: `operation-suspend-${requestIdFor('msg-1', 'suspend').slice(0, 8)}`,
        operationStatus: 'DONE',
        message: expect.stringMatching(/not vetted \(not-known-good\); suspending the instance$/),
      }),
    ]);
    expect(t.logger.lines[0]).not.toHaveProperty('dryRun');
  });

  it('suspends on a failed report in shutdown mode, and when a stale report fails closed', async () => {
    const t = suspending('shutdown');
    await t.run({ kind: 'earlyBootReportEvent', bootCounter: '3' }, 'msg-1');
    await t.run({ bootCounter: '4', timestamp: new Date(Date.now() - 7200_000).toISOString() }, 'msg-2');
    expect(t.instances.calls).toEqual([GET, SUSPEND, GET, SUSPEND]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        containment: 'suspend',
        message: expect.stringContaining('suspending the instance (fail-closed)'),
      }),
    );
  });

  it('suspends on conflicting reports about one boot', async () => {
    const t = suspending();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ bootCounter: '7', actual: linuxPcrs('good') }, 'msg-a');
    await t.run({ bootCounter: '7', actual: linuxPcrs('tampered') }, 'msg-b');
    expect(t.instances.calls).toEqual([...RELEARNED, GET, SUSPEND]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'conflicting-reports',
        containment: 'suspend',
        requestId: requestIdFor('msg-b', 'suspend'),
      }),
    );
  });

  it('records the suspend in the ledger, and repeats it on a redelivery whatever the configuration says now', async () => {
    const t = suspending();
    t.instances.failWith = new Error('503');
    await expect(t.run({ actual: linuxPcrs('tampered') }, 'msg-1')).rejects.toThrow('503');
    const [record] = [...t.ledger.records.values()];
    expect(record).toEqual(
      expect.objectContaining({
        decision: { action: 'stop', reason: 'not-known-good', containment: 'suspend' },
        requestId: requestIdFor('msg-1', 'suspend'),
        outcome: 'pending',
      }),
    );
    // The responder is reconfigured to stop; the recorded suspend is what the redelivery repeats.
    delete t.instances.failWith;
    const deps: HandlerDeps = { ...t.deps, failureAction: 'stop' };
    await handleMessage(pubsubData(integrityEntry({ actual: linuxPcrs('tampered') })), deps, { id: 'msg-1' });
    expect(t.instances.calls).toEqual([GET, SUSPEND, GET, SUSPEND]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ containment: 'suspend', ledger: 'repeat', requestId: requestIdFor('msg-1', 'suspend') }),
    );
  });

  it('names what it found nothing to suspend when the instance is gone', async () => {
    const t = suspending();
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', instanceFound: false, message: expect.stringMatching(/nothing to suspend \(/) }),
    ]);
  });
});
