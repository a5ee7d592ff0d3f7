import type { ResponseMode } from '../../../../function/contract';
import { HandlerDeps } from '../../../../function/core/handler';
import type { InstanceState } from '../../../../function/core/decide';
import { RecordingInstances } from '../../../support/fakes';
import { GET, RELEARNED, STOPPED, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, linuxPcrs, tutorialDocument } from '../../../../testkit/fixtures';

// VMs that carry the exemption label.

describe('exempt VMs (the exemption label)', () => {
  const EXEMPT: InstanceState = { ...running(new Date(Date.now() - 60_000).toISOString()), labels: { 'integrity-response': 'exempt' } };
  const exempt = (
    extra: Partial<Pick<HandlerDeps, 'failureAction' | 'enforcement' | 'exemptLabel'>> = {},
    mode: ResponseMode = 'relearn-if-known-good',
  ) => {
    const t = setup(mode, new RecordingInstances(), extra);
    t.instances.states.set(DEFAULT_INSTANCE_ID, EXEMPT);
    return t;
  };

  it('never stops an exempt VM: a CRITICAL line says what it would have done, and the ledger remembers the report as settled', async () => {
    const t = exempt();
    const outcome = await t.run({ actual: linuxPcrs('tampered') });
    expect(outcome).toEqual(
      expect.objectContaining({
        status: 'decided',
        instanceFound: true,
        decision: { action: 'none', reason: 'exempt', wouldHave: 'stop' },
      }),
    );
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'none',
        reason: 'exempt',
        wouldHave: 'stop',
        exemptLabel: 'integrity-response=exempt',
        message: `Instance fleet-prod-1234/europe-west1-b/web-1 (boot 7) is exempt (label integrity-response=exempt): NOT stopping it though its integrity is not vetted`,
      }),
    ]);
    // Remembered, settled, outside the budget: a later different report of this boot is a conflict.
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({ outcome: 'done', operationStatus: 'exempt', decision: { action: 'none', reason: 'exempt' } }),
    ]);
  });

  it('never suspends an exempt VM either', async () => {
    const t = exempt({ failureAction: 'suspend' }, 'shutdown');
    await t.run({});
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'exempt',
        wouldHave: 'suspend',
        message: expect.stringMatching(/NOT suspending it/),
      }),
    ]);
  });

  it('never relearns an exempt VM, and reads it once', async () => {
    const t = exempt();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    const outcome = await t.run({ actual: linuxPcrs('good') });
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'exempt', wouldHave: 'relearn' } }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'exempt',
        wouldHave: 'relearn',
        message: expect.stringMatching(/is exempt \(label integrity-response=exempt\): NOT relearning/),
      }),
    ]);
    // Remembered, settled, outside the budget: a later different report of this boot is a conflict.
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({ outcome: 'done', operationStatus: 'exempt', decision: { action: 'none', reason: 'exempt' } }),
    ]);
  });

  it('reads a VM once for a relearn that is not exempt', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), labels: { team: 'a' } });
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
  });

  it('stops a VM whose exemption label has another value', async () => {
    const t = setup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, {
      ...running(new Date(Date.now() - 60_000).toISOString()),
      labels: { 'integrity-response': 'audit' },
    });
    const outcome = await t.run({ actual: linuxPcrs('tampered') });
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'not-known-good' } }));
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it('honours a configured EXEMPT_LABEL, and only that one', async () => {
    const t = exempt({ exemptLabel: 'ops_hold=yes' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);

    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...EXEMPT, labels: { ops_hold: 'yes' } });
    await t.run({ actual: linuxPcrs('tampered'), bootCounter: '8' }, 'msg-2');
    expect(t.instances.calls).toEqual([...STOPPED, GET]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ reason: 'exempt', exemptLabel: 'ops_hold=yes', message: expect.stringContaining('(label ops_hold=yes)') }),
    );
  });

  it('still reports an exemption in dry-run', async () => {
    const t = exempt({ enforcement: 'dry-run' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'exempt',
        wouldHave: 'stop',
        dryRun: true,
        message: expect.stringMatching(/^Instance .* is exempt/),
      }),
    ]);
    // Remembered, settled, outside the budget: a later different report of this boot is a conflict.
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({ outcome: 'done', operationStatus: 'exempt', decision: { action: 'none', reason: 'exempt' } }),
    ]);
  });

  it('redelivers, with no ledger record, when the get fails', async () => {
    const t = setup();
    t.instances.getFailsWith = new Error('503 Service Unavailable');
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow('503');
    expect(t.instances.calls).toEqual([GET]);
    expect(t.ledger.records.size).toBe(0);
  });
});
