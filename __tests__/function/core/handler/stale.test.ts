import { handleMessage } from '../../../../function/core/handler';
import { GET, STOPPED, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../../testkit/fixtures';

// Failed reports too old, too new or without a boot counter to be vetted: the stale-event policy.

describe('failed reports too old to vet', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

  it('stops the VM with a CRITICAL line, without a lookup, when fail-closed (the default)', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good'), timestamp: hoursAgo(2) });
    expect(t.baselines.lookups).toBe(0);
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'stale-event-fail-closed', ageSeconds: 7200 }),
    ]);
  });

  it('treats a report without a timestamp as one that cannot be vetted', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good'), timestamp: null });
    expect(t.baselines.lookups).toBe(0);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'stale-event-fail-closed',
        message: expect.stringContaining('of unknown age'),
      }),
    ]);
  });

  it('treats a report without a boot counter as one that cannot be vetted', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    const entry = integrityEntry({ actual: linuxPcrs('good') });
    delete (entry.jsonPayload as Record<string, unknown>).bootCounter;
    await t.run(entry);
    expect(t.baselines.lookups).toBe(0);
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'stale-event-fail-closed',
        message: expect.stringContaining('without a boot counter'),
      }),
    ]);
    expect(t.logger.lines[0]).not.toHaveProperty('bootCounter');
    expect([...t.ledger.records.keys()]).toEqual([`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-unknown-lateBoot`]);
  });

  it('treats a report dated in the future as one that cannot be vetted', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good'), timestamp: new Date(Date.now() + 3600_000).toISOString() });
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'stale-event-fail-closed',
        message: expect.stringContaining('in the future'),
      }),
    ]);
  });

  it('tolerates a little clock skew', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(hoursAgo(1)));
    await t.run({ actual: linuxPcrs('good'), timestamp: new Date(Date.now() + 60_000).toISOString() });
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ decision: 'relearn' }));
  });

  it('only raises a CRITICAL line when fail-open', async () => {
    const t = setup();
    const outcome = await handleMessage(
      pubsubData(integrityEntry({ timestamp: hoursAgo(2) })),
      { ...t.deps, staleEventPolicy: 'fail-open' },
      { id: 'm' },
    );
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'alert', reason: 'stale-event-fail-open' } }));
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'CRITICAL', decision: 'alert' })]);
  });

  it('treats an old passed report as passed', async () => {
    const t = setup();
    await t.run({ passed: true, timestamp: hoursAgo(48) });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'INFO', decision: 'none' })]);
  });

  it('still ignores an old early-boot report in relearn mode', async () => {
    const t = setup();
    await t.run({ kind: 'earlyBootReportEvent', timestamp: hoursAgo(48) });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ decision: 'ignore' })]);
  });

  it('uses the configured maximum age', async () => {
    const t = setup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(hoursAgo(3)));
    const deps = { ...t.deps, maxEventAgeSeconds: 86400 };
    await handleMessage(pubsubData(integrityEntry({ actual: linuxPcrs('rootkit'), timestamp: hoursAgo(2) })), deps, { id: 'm' });
    // Vetted (not stale): looked up and found unknown.
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ decision: 'stop', reason: 'not-known-good' }));
  });
});
