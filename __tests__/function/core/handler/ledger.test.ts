import { requestIdFor } from '../../../../function/core/request-id';
import { ledgerDocumentId, ledgerKey } from '../../../../function/core/ledger';
import { fingerprint } from '../../../../function/core/measurements';
import { IntegrityReport, parseMessage } from '../../../../function/core/parse';
import { OperationFailedError } from '../../../../function/core/ports';
import { GET, RELEARNED, STOPPED, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../../testkit/fixtures';

// The decision ledger: conflicts, older boots, redeliveries and Compute request ids.

describe('the decision ledger', () => {
  const knownGood = () => linuxPcrs('good');
  const unknown = () => linuxPcrs('tampered');
  const calls = (t: ReturnType<typeof setup>) => t.instances.calls;
  const onlyRecord = (t: ReturnType<typeof setup>) => {
    expect(t.ledger.records.size).toBe(1);
    return [...t.ledger.records.values()][0]!;
  };

  it('stops the VM on a conflicting report after a relearn, and nothing relearns it afterwards', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(knownGood()));
    await t.run({ bootCounter: '7', actual: knownGood() }, 'msg-a');
    expect(calls(t)).toEqual(RELEARNED);

    const outcome = await t.run({ bootCounter: '7', actual: unknown() }, 'msg-b');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'conflicting-reports' } }));
    expect(calls(t)).toEqual([...RELEARNED, ...STOPPED]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'conflicting-reports',
        ledger: 'conflict',
        requestId: requestIdFor('msg-b', 'stop'),
        message: expect.stringContaining('possible forged entry'),
      }),
    );

    await t.run({ bootCounter: '7', actual: knownGood() }, 'msg-a');
    expect(calls(t)).toEqual([...RELEARNED, ...STOPPED, GET]);
    expect(t.logger.lines[2]).toEqual(
      expect.objectContaining({
        severity: 'INFO',
        message: expect.stringMatching(/^Already handled: /),
        decision: 'stop',
        reason: 'conflicting-reports',
        alreadyDone: true,
        requestId: requestIdFor('msg-b', 'stop'),
      }),
    );
    expect(onlyRecord(t)).toEqual(
      expect.objectContaining({ conflict: true, outcome: 'done', decision: { action: 'stop', reason: 'conflicting-reports' } }),
    );
  });

  it('never relearns a known-good report that conflicts with an earlier unknown one', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(knownGood()));
    await t.run({ bootCounter: '7', actual: unknown() }, 'msg-b');
    expect(calls(t)).toEqual(STOPPED);

    const outcome = await t.run({ bootCounter: '7', actual: knownGood() }, 'msg-a');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'conflicting-reports' } }));
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'conflicting-reports',
        message: expect.stringContaining('possible forged entry'),
      }),
    );
    await t.run({ bootCounter: '7', actual: knownGood() }, 'msg-a');
    expect(calls(t).filter((c) => c.startsWith('relearn'))).toEqual([]);
    expect(calls(t)).toEqual([...STOPPED, ...STOPPED, GET]);
  });

  it('never relearns on a report about a boot older than one already recorded', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(knownGood()));
    await t.run({ bootCounter: '9', actual: knownGood() }, 'msg-9');
    expect(calls(t)).toEqual(RELEARNED);

    const outcome = await t.run({ bootCounter: '8', actual: knownGood() }, 'msg-8');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'older-boot' } }));
    expect(calls(t)).toEqual([...RELEARNED, GET]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'older-boot', ledger: 'older-boot' }),
    );
  });

  it('compares boot counters as numbers, not as text', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(knownGood()));
    await t.run({ bootCounter: '10', actual: knownGood() }, 'msg-10');
    await t.run({ bootCounter: '9', actual: knownGood() }, 'msg-9');
    expect(calls(t)).toEqual([...RELEARNED, GET]);
    expect(t.logger.lines[1]).toEqual(expect.objectContaining({ decision: 'none', reason: 'older-boot' }));
  });

  it('still stops the VM on a report about an older boot whose measurements are not known good', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(knownGood()));
    await t.run({ bootCounter: '9', actual: knownGood() }, 'msg-9');
    const outcome = await t.run({ bootCounter: '6', actual: unknown() }, 'msg-6');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'stop', reason: 'not-known-good' } }));
    expect(calls(t)).toEqual([...RELEARNED, ...STOPPED]);
  });

  it('makes no second stop for a redelivered message whose action completed (only the get that reads its labels)', async () => {
    const t = setup();
    await t.run({ actual: unknown() }, 'msg-1');
    await t.run({ actual: unknown() }, 'msg-1');
    expect(calls(t)).toEqual([...STOPPED, GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', decision: 'stop', ledger: 'new', alreadyDone: false }),
      expect.objectContaining({
        severity: 'INFO',
        decision: 'stop',
        ledger: 'repeat',
        alreadyDone: true,
        requestId: requestIdFor('msg-1', 'stop'),
        operation: `operation-stop-${requestIdFor('msg-1', 'stop').slice(0, 8)}`,
        message: expect.stringContaining('Already handled'),
      }),
    ]);
  });

  it('repeats, with the same request id, the action of a redelivered message that did not complete', async () => {
    const t = setup();
    t.instances.failWith = new Error('503');
    await expect(t.run({ actual: unknown() }, 'msg-1')).rejects.toThrow('503');
    expect(onlyRecord(t)).toEqual(expect.objectContaining({ outcome: 'pending', requestId: requestIdFor('msg-1', 'stop') }));

    delete t.instances.failWith;
    await t.run({ actual: unknown() }, 'msg-1');
    expect(calls(t)).toEqual([...STOPPED, ...STOPPED]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        decision: 'stop',
        ledger: 'repeat',
        alreadyDone: false,
        requestId: requestIdFor('msg-1', 'stop'),
        operationStatus: 'DONE',
      }),
    );
    expect(onlyRecord(t)).toEqual(expect.objectContaining({ outcome: 'done', operationStatus: 'DONE' }));
  });

  it('withdraws a relearn when a conflicting report was recorded in between', async () => {
    const t = setup();
    // Another function instance records a conflicting report after this one recorded its relearn.
    const standing = t.ledger.standing.bind(t.ledger);
    t.ledger.standing = async (key) => {
      const parsed = parseMessage(pubsubData(integrityEntry({ actual: unknown() }), 'msg-b'));
      if (parsed.status !== 'report') throw new Error('fixture did not parse');
      const report: IntegrityReport = parsed.report;
      await t.ledger.record({
        report,
        proposed: { action: 'stop', reason: 'not-known-good' },
        fingerprint: fingerprint(report.actualMeasurements),
        requestIdFor: (action) => requestIdFor('msg-b', action),
      });
      return standing(key);
    };
    t.baselines.add('baseline1', tutorialDocument(knownGood()));

    const outcome = await t.run({ actual: knownGood() }, 'msg-a');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'withdrawn-after-conflict' } }));
    expect(calls(t)).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'withdrawn-after-conflict' }),
    ]);
    // The conflicting report's stop is still to be done, under its own request id.
    expect(onlyRecord(t)).toEqual(
      expect.objectContaining({
        conflict: true,
        outcome: 'pending',
        requestId: requestIdFor('msg-b', 'stop'),
        decision: { action: 'stop', reason: 'conflicting-reports' },
      }),
    );
  });

  it('records the report before acting on it', async () => {
    const t = setup();
    const seen: string[] = [];
    const stop = t.instances.stop.bind(t.instances);
    t.instances.stop = async (i, requestId) => {
      const key = ledgerDocumentId({ projectId: i.projectId, zone: i.zone, instanceId: i.id, bootCounter: '7', kind: 'lateBoot' });
      seen.push(`${t.ledger.records.get(key)?.outcome} ${t.ledger.records.get(key)?.requestId === requestId}`);
      return stop(i, requestId);
    };
    await t.run({ actual: unknown() });
    expect(seen).toEqual(['pending true']);
  });

  it('redelivers on a failed operation and leaves the ledger record pending', async () => {
    const t = setup();
    t.instances.failWith = new OperationFailedError('operation-1', 'QUOTA_EXCEEDED: quota CPUS exceeded');
    await expect(t.run({ actual: unknown() })).rejects.toThrow(OperationFailedError);
    expect(calls(t)).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'ERROR', retry: true, error: expect.stringContaining('QUOTA_EXCEEDED'), eventId: 'msg-1' }),
    ]);
    expect(onlyRecord(t)).toEqual(expect.objectContaining({ outcome: 'pending', failedAttempts: 1 }));
    expect(onlyRecord(t)).not.toHaveProperty('operationStatus');
  });

  it('retries an action whose operation finished in error under a new request id, and one that is not done yet under the same', async () => {
    const t = setup();
    t.instances.failWith = new OperationFailedError('operation-1', 'RESOURCE_NOT_READY: not ready');
    await expect(t.run({ actual: unknown() })).rejects.toThrow(OperationFailedError);
    const renewed = onlyRecord(t).requestId;
    expect(renewed).not.toBe(requestIdFor('msg-1', 'stop'));

    t.instances.failWith = new OperationFailedError('operation-2', 'not done after 15 s', false);
    await expect(t.run({ actual: unknown() })).rejects.toThrow(OperationFailedError);
    expect(onlyRecord(t).requestId).toBe(renewed);

    t.instances.failWith = undefined;
    await t.run({ actual: unknown() });
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'stop', requestId: renewed, operationStatus: 'DONE' }));
    expect(onlyRecord(t)).toEqual(expect.objectContaining({ outcome: 'done', requestId: renewed, failedAttempts: 1 }));
  });

  it('keys the record by instance id, boot counter and report kind', async () => {
    const t = setup('shutdown');
    await t.run({ kind: 'earlyBootReportEvent', bootCounter: '12' });
    await t.run({ kind: 'lateBootReportEvent', bootCounter: '12' });
    const report = parseMessage(pubsubData(integrityEntry({ bootCounter: '12' })));
    expect(report.status === 'report' && ledgerDocumentId(ledgerKey(report.report))).toBe(
      `fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-12-lateBoot`,
    );
    expect([...t.ledger.records.keys()].sort()).toEqual([
      `fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-12-earlyBoot`,
      `fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-12-lateBoot`,
    ]);
  });
});

describe('requestIdFor', () => {
  it('gives a redelivered message the same Compute request id', () => {
    expect(requestIdFor('msg-1', 'stop')).toBe(requestIdFor('msg-1', 'stop'));
    expect(requestIdFor('msg-1', 'stop')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives different messages and actions different request ids', () => {
    expect(requestIdFor('msg-1', 'stop')).not.toBe(requestIdFor('msg-2', 'stop'));
    expect(requestIdFor('msg-1', 'stop')).not.toBe(requestIdFor('msg-1', 'relearn'));
    expect(requestIdFor('msg-1', 'stop')).not.toBe(requestIdFor('msg-1', 'suspend'));
    expect(requestIdFor('msg-1', 'suspend')).not.toBe(requestIdFor('msg-1', 'relearn'));
  });
});
