import { baselineDocument } from '../../../../function/core/baseline';
import { parseMeasurements } from '../../../../function/core/parse';
import { GET, RELEARNED, STOPPED, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, linuxPcrs, tutorialDocument, windowsPcrs } from '../../../../testkit/fixtures';

// Relearning a VM whose late-boot measurements are known good, and only the boot that was vetted.

const ownFormat = (pcrs = linuxPcrs('good')) => baselineDocument(parseMeasurements(pcrs, 'fixture'));

describe('handleMessage in relearn-if-known-good mode', () => {
  it('does nothing when the late-boot policy evaluation passed', async () => {
    const t = setup();
    await t.run({ passed: true });
    expect(t.instances.calls).toEqual([]);
    expect(t.baselines.lookups).toBe(0);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'INFO', decision: 'none', reason: 'policy-passed' })]);
  });

  it('relearns when the late-boot measurements match a baseline in the project format', async () => {
    const t = setup();
    const doc = ownFormat();
    t.baselines.add(doc.id, doc.data);
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'NOTICE',
        decision: 'relearn',
        baselineId: doc.id,
        instanceName: 'web-1',
        eventKind: 'lateBoot',
      }),
    ]);
  });

  it('relearns on a Linux baseline typed in the tutorial format under any document id', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ baselineId: 'baseline1' }));
  });

  it('relearns on a Windows baseline of six PCRs in the tutorial format', async () => {
    const t = setup();
    t.baselines.add('windows-2025-11', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
  });

  it('matches whatever the order of the measurements', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good').reverse() });
    expect(t.instances.calls).toEqual(RELEARNED);
  });

  it('stops the VM when the measurements are not known good', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'stop', reason: 'not-known-good' })]);
  });

  it('stops the VM when one PCR value differs', async () => {
    const t = setup();
    const good = windowsPcrs('good');
    t.baselines.add('baseline1', tutorialDocument(good));
    await t.run({ actual: good.map((p) => (p.pcrNum === 'PCR_13' ? { ...p, value: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } : p)) });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it('never relearns on a baseline holding a subset of the measured PCRs', async () => {
    const t = setup();
    // The three Linux PCRs of a Windows VM are known good; the other three are not vetted.
    t.baselines.add('linux-only', tutorialDocument(windowsPcrs('good').slice(0, 3)));
    await t.run({ actual: windowsPcrs('good') });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it('never relearns on a baseline holding a superset of the measured PCRs', async () => {
    const t = setup();
    t.baselines.add('windows', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good').slice(0, 3) });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it('never relearns when the hash algorithms differ for the same values', async () => {
    const t = setup();
    t.baselines.add('sha256', tutorialDocument(linuxPcrs('good').map((p) => ({ ...p, hashAlgo: 'SHA256' }))));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it('ignores a failed early-boot report: only the late-boot report may relearn', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ kind: 'earlyBootReportEvent', actual: linuxPcrs('good') });
    // Read only to note the boot (ADR 0020): nothing is done to the VM.
    expect(t.instances.calls).toEqual([GET]);
    expect(t.ledger.newestBoots.get(`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}`)).toBe('7');
    expect(t.baselines.lookups).toBe(0);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'DEBUG', decision: 'ignore', eventKind: 'earlyBoot' })]);
  });
});

describe('relearning only the boot that was vetted', () => {
  it('does not relearn when the instance has started again since the report', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(new Date(Date.now() + 60_000).toISOString()));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'superseded-by-later-boot' }),
    ]);
  });

  it('does not relearn when the id answers as another instance', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { id: 'other', status: 'RUNNING', lastStartTimestamp: '2026-11-20T09:00:00.000Z' });
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'instance-replaced' })]);
  });

  it('does not relearn a VM that is not running', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), status: 'TERMINATED' });
    const outcome = await t.run({ actual: linuxPcrs('good') });
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'instance-not-running' } }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'instance-not-running' })]);
  });

  it('settles the ledger record of a relearn that became no action', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), status: 'TERMINATED' });
    await t.run({ actual: linuxPcrs('good') });
    await t.run({ actual: linuxPcrs('good') });
    // Each delivery reads the VM (for its labels); only the first decides on it.
    expect(t.instances.calls).toEqual([GET, GET]);
    expect([...t.ledger.records.values()]).toEqual([
      expect.objectContaining({
        outcome: 'done',
        operationStatus: 'not-acted',
        decision: { action: 'none', reason: 'instance-not-running' },
      }),
    ]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({ severity: 'INFO', decision: 'none', reason: 'instance-not-running', ledger: 'repeat', alreadyDone: true }),
    );
  });
});

describe('the state of a baseline', () => {
  it('stops a VM whose measurements match only a revoked baseline', async () => {
    const t = setup();
    t.baselines.add('baseline1', { ...tutorialDocument(linuxPcrs('good')), state: 'revoked' });
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([expect.objectContaining({ decision: 'stop', reason: 'not-known-good' })]);
  });

  it('stops a VM whose measurements match only an expired or a proposed baseline', async () => {
    for (const fields of [{ expiresAt: '2020-01-01T00:00:00Z' }, { state: 'proposed' }]) {
      const t = setup();
      t.baselines.add('baseline1', { ...tutorialDocument(linuxPcrs('good')), ...fields });
      await t.run({ actual: linuxPcrs('good') });
      expect(t.instances.calls).toEqual(STOPPED);
    }
  });
});
