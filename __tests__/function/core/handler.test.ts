import type { ResponseMode } from '../../../function/contract';
import { baselineDocument } from '../../../function/core/baseline';
import { HandlerDeps, handleMessage, requestIdFor } from '../../../function/core/handler';
import { ledgerDocumentId, ledgerKey } from '../../../function/core/ledger';
import { fingerprint } from '../../../function/core/measurements';
import { IntegrityReport, parseMeasurements, parseMessage } from '../../../function/core/parse';
import { OperationFailedError } from '../../../function/core/ports';
import { ActionHeldError } from '../../../function/core/budget';
import type { InstanceState } from '../../../function/core/decide';
import { RecordingInstances } from '../../support/fakes';
import { GET, RELEARNED, STOP, STOPPED, VM, running, setup } from '../../support/handler-setup';
import {
  DEFAULT_INSTANCE_ID,
  integrityEntry,
  linuxPcrs,
  otherIntegrityEntry,
  pubsubData,
  tutorialDocument,
  windowsPcrs,
} from '../../../testkit/fixtures';

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

describe('addressing the instance', () => {
  it('acts on the numeric instance id even when the entry carries a name', async () => {
    const t = setup();
    await t.run({ name: 'db-3' });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it("uses the entry's name only in the log line", async () => {
    const t = setup();
    await t.run({ name: 'db-3' });
    expect(t.instances.calls.some((c) => c.includes('db-3'))).toBe(false);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ instanceName: 'db-3', instanceId: DEFAULT_INSTANCE_ID, message: expect.stringContaining('db-3') }),
    ]);
  });

  it('acts on the id alone when the entry carries no name', async () => {
    const t = setup();
    await t.run({ name: null });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([expect.objectContaining({ instanceId: DEFAULT_INSTANCE_ID, message: expect.stringContaining(VM) })]);
    expect(t.logger.lines[0]).not.toHaveProperty('instanceName');
  });

  it('names a VM it relearns by what instances.get answers when the entry carries no name', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), name: 'api-7' });
    await t.run({ actual: linuxPcrs('good'), name: null });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ decision: 'relearn', instanceName: 'api-7', instanceId: DEFAULT_INSTANCE_ID }),
    ]);
  });

  it('acknowledges with a warning, and records nothing, when the instance to stop no longer exists', async () => {
    const t = setup();
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    const outcome = await t.run({});
    expect(outcome).toEqual(expect.objectContaining({ status: 'decided', instanceFound: false }));
    // Gone at the get: no stop is sent.
    expect(t.instances.calls).toEqual([GET]);
    // Nothing was stopped: the line says so in its decision, which the stop alert counts.
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        instanceFound: false,
        decision: 'none',
        reason: 'instance-not-found',
        wouldHave: 'stop',
        operationStatus: 'instance-not-found',
      }),
    ]);
    // Nothing recorded: an id that does not exist in its project leaves no trace a later report could meet.
    expect(t.ledger.records.size).toBe(0);
  });

  it('acknowledges with a warning, and records nothing, when the instance to relearn no longer exists', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    const outcome = await t.run({ actual: linuxPcrs('good') });
    expect(outcome).toEqual(expect.objectContaining({ status: 'decided', instanceFound: false }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', instanceFound: false })]);
    // Nothing recorded: an id that does not exist in its project leaves no trace a later report could meet.
    expect(t.ledger.records.size).toBe(0);

    // Redelivered: still reported as gone, not as a relearn done.
    expect(await t.run({ actual: linuxPcrs('good') })).toEqual(expect.objectContaining({ instanceFound: false }));
    expect(t.instances.calls).toEqual([GET, GET]);
    expect(t.logger.lines[1]).toEqual(expect.objectContaining({ severity: 'WARNING', instanceFound: false }));
    expect(t.ledger.records.size).toBe(0);
  });
});

describe('failures and bad input', () => {
  it('rejects an entry about another project than the one it watches', async () => {
    const t = setup();
    const deps: HandlerDeps = { ...t.deps, scope: { kind: 'project', id: 'other-project-42' } };
    expect(await handleMessage(pubsubData(integrityEntry({})), deps, { id: 'm' })).toEqual({ status: 'rejected' });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'ERROR',
        rejection: 'foreign-project',
        detail: 'the entry is about project fleet-prod-1234, this responder watches projects/other-project-42',
      }),
    ]);
  });

  it('acts on an entry from any project under a folder scope', async () => {
    const t = setup();
    const deps: HandlerDeps = { ...t.deps, scope: { kind: 'folder', id: '123456789' }, excludedProjects: ['lab-sandbox-1'] };
    const outcome = await handleMessage(pubsubData(integrityEntry({ projectId: 'payments-prod-9' })), deps, { id: 'm' });
    expect(outcome).toMatchObject({ status: 'decided', decision: { action: 'stop' } });
    expect(t.instances.calls).toContain(`stop payments-prod-9/europe-west1-b/${DEFAULT_INSTANCE_ID}`);
  });

  it('rejects an entry from a project excluded from an organization scope, with no Compute call', async () => {
    const t = setup();
    const deps: HandlerDeps = { ...t.deps, scope: { kind: 'organization', id: '4242' }, excludedProjects: ['lab-sandbox-1'] };
    expect(await handleMessage(pubsubData(integrityEntry({ projectId: 'lab-sandbox-1' })), deps, { id: 'm' })).toEqual({
      status: 'rejected',
    });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'ERROR',
        rejection: 'excluded-project',
        detail: "project lab-sandbox-1 is excluded from this responder's scope organizations/4242",
      }),
    ]);
  });

  it('throws when the Compute API fails, so the platform redelivers the event', async () => {
    const t = setup();
    t.instances.failWith = new Error('503 Service Unavailable');
    await expect(t.run({})).rejects.toThrow('503 Service Unavailable');
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'ERROR', retry: true, error: '503 Service Unavailable', eventId: 'msg-1' }),
    ]);
  });

  it('throws when the baseline lookup fails', async () => {
    const t = setup();
    t.baselines.findExactMatch = () => Promise.reject(new Error('14 UNAVAILABLE'));
    await expect(t.run({})).rejects.toThrow('14 UNAVAILABLE');
    expect(t.instances.calls).toEqual([]);
  });

  it('logs one structured error and acknowledges a malformed entry', async () => {
    const t = setup();
    const outcome = await handleMessage({ message: { data: Buffer.from('{not json').toString('base64') } }, t.deps, { id: 'm' });
    expect(outcome).toEqual({ status: 'rejected' });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'ERROR', rejection: 'invalid-json', eventId: 'm' })]);
  });

  it('logs one structured error for a failed report without measurements', async () => {
    const t = setup();
    await t.run({ actual: [] });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'ERROR', rejection: 'invalid-measurements' })]);
  });

  it.each(['startupEvent', 'shutdownEvent', 'clearTPMEvent'])(
    'ignores an IntegrityEvent carrying %s with one debug line',
    async (event) => {
      const t = setup();
      expect(await t.run(otherIntegrityEntry(event))).toEqual({ status: 'ignored' });
      expect(t.instances.calls).toEqual([]);
      expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'DEBUG', reason: expect.stringContaining(event) })]);
    },
  );

  it('ignores entries of another payload type with one debug line', async () => {
    const t = setup();
    const entry = { ...integrityEntry(), jsonPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog' } };
    expect(await t.run(entry)).toEqual({ status: 'ignored' });
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'DEBUG' })]);
  });
});

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

describe('the decision log line', () => {
  it('carries mode, event kind, boot counter, instance, decision and baseline id', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good'), bootCounter: '42' }, 'msg-77');
    expect(t.logger.lines).toEqual([
      {
        severity: 'NOTICE',
        message: expect.stringContaining('web-1'),
        mode: 'relearn-if-known-good',
        eventKind: 'lateBoot',
        policyEvaluationPassed: false,
        bootCounter: '42',
        projectId: 'fleet-prod-1234',
        zone: 'europe-west1-b',
        instanceName: 'web-1',
        instanceId: '4617930134256183721',
        decision: 'relearn',
        reason: 'known-good',
        baselineId: 'baseline1',
        instanceFound: true,
        ledger: 'new',
        alreadyDone: false,
        requestId: requestIdFor('msg-77', 'relearn'),
        operation: `operation-relearn-${requestIdFor('msg-77', 'relearn').slice(0, 8)}`,
        operationStatus: 'DONE',
        firestoreReads: 2,
        ageSeconds: expect.any(Number),
        eventId: 'msg-77',
      },
    ]);
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

describe('exempt VMs (the exemption label)', () => {
  const EXEMPT: InstanceState = { ...running(new Date(Date.now() - 60_000).toISOString()), labels: { 'integrity-response': 'exempt' } };
  const exempt = (
    extra: Pick<HandlerDeps, 'failureAction' | 'enforcement' | 'exemptLabel'> = {},
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

describe('members of a managed instance group (ADR 0010)', () => {
  const ZONAL = 'projects/fleet-prod-1234/zones/europe-west1-b/instanceGroupManagers/web-mig';
  const REGIONAL = 'projects/fleet-prod-1234/regions/europe-west1/instanceGroupManagers/web-rmig';
  const LIST = `list ${ZONAL}`;
  const member = (createdBy: string, extra: Partial<InstanceState> = {}): InstanceState => ({
    ...running(new Date(Date.now() - 60_000).toISOString()),
    createdBy,
    ...extra,
  });
  const inGroup = (extra: Parameters<typeof setup>[2] = {}, createdBy = ZONAL, mode: ResponseMode = 'relearn-if-known-good') => {
    const t = setup(mode, new RecordingInstances(), { abandonSettleMs: 0, ...extra });
    t.instances.states.set(DEFAULT_INSTANCE_ID, member(createdBy));
    t.instances.members.set(createdBy, new Set([DEFAULT_INSTANCE_ID]));
    return t;
  };
  const abandonCall = (group: string, msg = 'msg-1') =>
    `abandon ${group} ${DEFAULT_INSTANCE_ID} ${requestIdFor(msg, `abandon ${group}`).slice(0, 8)}`;

  it('abandons a member from its zonal group, then stops it, and names the group', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, STOP]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        reason: 'not-known-good',
        instanceGroup: ZONAL,
        groupAction: 'abandoned',
        message: `Integrity of ${VM.replace(DEFAULT_INSTANCE_ID, 'web-1')} (boot 7) not vetted (not-known-good); abandoned it from its managed instance group ${ZONAL}, then stopping the instance`,
      }),
    ]);
  });

  it('records the abandon request in the ledger before sending it', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    const record = [...t.ledger.records.values()][0]!;
    expect(record.groupAbandon).toEqual({
      group: ZONAL,
      requestId: requestIdFor('msg-1', `abandon ${ZONAL}`),
      requestedAt: expect.any(String),
    });
    expect(record).toMatchObject({ outcome: 'done', operationStatus: 'DONE' });
  });

  it('abandons a member of a regional group the same way', async () => {
    const t = inGroup({}, REGIONAL);
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, `list ${REGIONAL}`, abandonCall(REGIONAL), `list ${REGIONAL}`, STOP]);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ instanceGroup: REGIONAL, groupAction: 'abandoned' }));
  });

  it('abandons, then suspends, when the failure action is suspend', async () => {
    const t = inGroup({ failureAction: 'suspend' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, `suspend ${VM}`]);
  });

  it('abandons in the shutdown mode too', async () => {
    const t = inGroup({}, ZONAL, 'shutdown');
    await t.run({ passed: false, kind: 'earlyBootReportEvent' });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, STOP]);
  });

  it('stops a VM whose created-by names a group that does not list it, as not a member', async () => {
    const t = inGroup();
    t.instances.members.set(ZONAL, new Set(['1']));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines[0]).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        instanceGroup: ZONAL,
        groupAction: 'not-a-member',
        message: expect.stringContaining(
          `its created-by names ${ZONAL}, but it is no member (the group does not list it); stopping the instance`,
        ),
      }),
    );
  });

  it('never asks a group in another project, and stops the VM as not a member', async () => {
    const other = 'projects/other-project-99/zones/europe-west1-b/instanceGroupManagers/web-mig';
    const t = inGroup({}, other);
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines[0]).toEqual(
      expect.objectContaining({
        instanceGroup: other,
        groupAction: 'not-a-member',
        message: expect.stringContaining('the group is in project other-project-99'),
      }),
    );
  });

  it('stops a member inside its group at CRITICAL with contain-only, naming the group', async () => {
    const t = inGroup({ instanceGroupAction: 'contain-only' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        instanceGroup: ZONAL,
        groupAction: 'contain-only',
        message: expect.stringContaining(`its created-by names managed instance group ${ZONAL}, which may recreate it`),
      }),
    ]);
  });

  it('in dry-run reads the group, abandons nothing and says it would abandon', async () => {
    const t = inGroup({ enforcement: 'dry-run' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST]);
    expect(t.instances.members.get(ZONAL)).toEqual(new Set([DEFAULT_INSTANCE_ID]));
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        dryRun: true,
        instanceGroup: ZONAL,
        groupAction: 'would-abandon',
        message: expect.stringMatching(new RegExp(`^Dry run: would abandon it from group ${ZONAL} and stop the instance: `)),
      }),
    ]);
    expect([...t.ledger.records.values()][0]!.groupAbandon).toBeUndefined();
  });

  it('in dry-run with contain-only says it would stop the member inside its group, at CRITICAL as enforcing would', async () => {
    const t = inGroup({ enforcement: 'dry-run', instanceGroupAction: 'contain-only' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        dryRun: true,
        groupAction: 'contain-only',
        message: expect.stringMatching(
          new RegExp(
            `^Dry run: would stop the instance inside its managed instance group ${ZONAL} \\(instanceGroupAction contain-only\\): `,
          ),
        ),
      }),
    ]);
  });

  it('never touches the group when it relearns', async () => {
    const t = inGroup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines[0]).not.toHaveProperty('groupAction');
  });

  it('leaves an exempt member and its group alone', async () => {
    const t = inGroup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, member(ZONAL, { labels: { 'integrity-response': 'exempt' } }));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
  });

  it('redelivers while the group still lists the VM, repeating the same abandon request, then contains it anyway after 120 s', async () => {
    let clock = Date.now();
    const t = inGroup({ now: () => clock });
    t.instances.sticky.add(ZONAL);

    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/still lists the instance after abandonInstances/);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'ERROR', retry: true, instanceGroup: ZONAL, groupAction: 'abandon-pending' }),
    );
    clock += 60_000;
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/still lists/);
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, GET, LIST, abandonCall(ZONAL), LIST]);

    clock += 61_000;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        instanceGroup: ZONAL,
        groupAction: 'abandon-timeout',
        message: expect.stringContaining(`managed instance group ${ZONAL} still lists it 121 s after it was asked to abandon it`),
      }),
    );
  });

  it('redelivers when the group refuses the abandon, keeping the stop request id, and contains the VM after 120 s', async () => {
    let clock = Date.now();
    const t = inGroup({ now: () => clock });
    t.instances.abandonFailsWith = new Error('abandonInstances on the group failed: CONDITION_NOT_MET');

    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/CONDITION_NOT_MET/);
    const record = [...t.ledger.records.values()][0]!;
    expect(record).toMatchObject({ outcome: 'pending', requestId: requestIdFor('msg-1', 'stop') });
    expect(record.failedAttempts).toBeUndefined();

    clock += 121_000;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ severity: 'CRITICAL', groupAction: 'abandon-timeout' }));
  });

  it('keeps the first abandon request id when a later message redelivers the same report', async () => {
    const t = inGroup();
    t.instances.sticky.add(ZONAL);
    await expect(t.run({ actual: linuxPcrs('tampered') }, 'msg-1')).rejects.toThrow(/still lists/);
    await expect(t.run({ actual: linuxPcrs('tampered') }, 'msg-2')).rejects.toThrow(/still lists/);
    expect(t.instances.calls.filter((c) => c.startsWith('abandon'))).toEqual([abandonCall(ZONAL, 'msg-1'), abandonCall(ZONAL, 'msg-1')]);
  });

  it('says abandoned on a redelivery after the group let go of the VM, and stops it', async () => {
    const t = inGroup();
    t.instances.failWith = new Error('503 on stop');
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow('503');
    t.instances.failWith = undefined;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ groupAction: 'abandoned', instanceGroup: ZONAL }));
  });

  it('does nothing again for a redelivery once the VM was abandoned and stopped', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ alreadyDone: true }));
  });
});

describe('the action budget (blast-radius limit)', () => {
  const BUDGET = { actionBudget: { limit: 2, windowSeconds: 3600 } } as const;
  const vm = (id: string) => `fleet-prod-1234/europe-west1-b/${id}`;
  /** A failed report about VM `id` whose measurements are not known good, delivered as `msg-<id>`. */
  const fail = (t: ReturnType<typeof setup>, id: string, message = `msg-${id}`) =>
    t.run({ instanceId: id, name: `vm-${id}`, actual: linuxPcrs('new-kernel') }, message);
  const actions = (t: ReturnType<typeof setup>) => t.instances.calls.filter((c) => !c.startsWith('get '));

  it('stops at most the budget, then leaves the next VM running with one CRITICAL line and fails the event for redelivery', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    const lines = t.logger.lines.length;
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect(t.logger.lines.slice(0, 2)).toEqual([
      expect.objectContaining({ decision: 'stop', budget: 'counted', budgetUsed: 1, budgetLimit: 2 }),
      expect.objectContaining({ decision: 'stop', budget: 'counted', budgetUsed: 2, budgetLimit: 2 }),
    ]);
    const held = t.logger.lines.slice(lines);
    expect(held).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'none',
        reason: 'budget-exhausted',
        wouldHave: 'stop',
        heldReason: 'not-known-good',
        budget: 'exhausted',
        budgetUsed: 2,
        budgetLimit: 2,
        budgetWindowSeconds: 3600,
        budgetFreesAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/),
        retry: true,
        instanceId: '3',
        eventId: 'msg-3',
      }),
    ]);
    expect(held[0]!.message).toMatch(
      /^Action budget exhausted \(2 of 2 stops and suspends per 3600 s used; the window frees at .*\): NOT stopping fleet-prod-1234\/europe-west1-b\/vm-3 \(boot 7\), reason not-known-good; the VM is left running and the event will be redelivered$/,
    );
    expect(t.ledger.records.get('fleet-prod-1234~europe-west1-b~3-7-lateBoot')).toEqual(
      expect.objectContaining({ outcome: 'held', conflict: false }),
    );
  });

  it('stops a held VM when its event comes back in the next window', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    t.ledger.clock = () => new Date(Date.now() + 3600_000);
    await fail(t, '3');
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`, `stop ${vm('3')}`]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'stop', ledger: 'new', budget: 'counted', budgetUsed: 1 }));
    expect(t.ledger.records.get('fleet-prod-1234~europe-west1-b~3-7-lateBoot')).toEqual(
      expect.objectContaining({ outcome: 'done', heldSince: expect.any(String) }),
    );
  });

  it('asks for a stop and start before it relearns a held VM whose baseline was recorded meanwhile (ADR 0020)', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('new-kernel')));
    await fail(t, '3');
    // Its measurements are vetted now, but nothing shows which boot the held VM runs.
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'none', reason: 'unvetted-boot', lastStopBoot: '7' }));
    expect(t.logger.lines.at(-1)).not.toHaveProperty('budget');
  });

  it('never counts a redelivery of a stop twice', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '1');
    await fail(t, '2');
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect([...t.ledger.budgetWindows.values()]).toEqual([expect.objectContaining({ count: 2, total: 2 })]);
  });

  it('never counts relearns, nor exempt VMs', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 } });
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('good')));
    await t.run({ instanceId: '1', actual: linuxPcrs('good') }, 'msg-1');
    t.instances.states.set('2', { id: '2', status: 'RUNNING', labels: { 'integrity-response': 'exempt' } });
    await fail(t, '2');
    await fail(t, '3');
    expect(actions(t)).toEqual([`relearn ${vm('1')}`, `stop ${vm('3')}`]);
    expect([...t.ledger.budgetWindows.values()]).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it('never counts an instance that no longer exists', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 } });
    t.instances.gone.add('1');
    await fail(t, '1');
    await fail(t, '2');
    expect(actions(t)).toEqual([`stop ${vm('2')}`]);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ severity: 'WARNING', instanceFound: false }));
    expect(t.logger.lines[0]).not.toHaveProperty('budget');
  });

  it('holds a suspend as it holds a stop', async () => {
    const t = setup('shutdown', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 }, failureAction: 'suspend' });
    await fail(t, '1');
    await expect(fail(t, '2')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([`suspend ${vm('1')}`]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        reason: 'budget-exhausted',
        wouldHave: 'suspend',
        heldReason: 'policy-failed',
        message: expect.stringContaining('NOT suspending'),
      }),
    );
  });

  it('counts in dry-run as enforcing would, and says it would have held the VM', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { ...BUDGET, enforcement: 'dry-run' });
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([]);
    expect(t.logger.lines.map((l) => l.budget)).toEqual(['counted', 'counted', 'exhausted']);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        dryRun: true,
        reason: 'budget-exhausted',
        message: expect.stringMatching(/^Dry run: action budget exhausted \(2 of 2 .*\): would NOT stop .*vm-3/),
      }),
    );
  });

  it('stops, once the window frees, a held VM whose report has grown too old to vet (fail-closed)', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    const later = Date.now() + 2 * 3600_000;
    t.ledger.clock = () => new Date(later);
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('new-kernel')));
    await handleMessage(
      pubsubData(integrityEntry({ instanceId: '3', name: 'vm-3', actual: linuxPcrs('new-kernel') })),
      { ...t.deps, now: () => later },
      { id: 'msg-3' },
    );
    expect(actions(t).at(-1)).toBe(`stop ${vm('3')}`);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'stale-event-fail-closed', budget: 'counted' }),
    );
  });

  it('acknowledges, with a CRITICAL line and no action, a held report that has grown too old to vet when fail-open', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { ...BUDGET, staleEventPolicy: 'fail-open' });
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    const later = Date.now() + 2 * 3600_000;
    const outcome = await handleMessage(
      pubsubData(integrityEntry({ instanceId: '3', name: 'vm-3', actual: linuxPcrs('new-kernel') })),
      { ...t.deps, now: () => later },
      { id: 'msg-3' },
    );
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'alert', reason: 'stale-event-fail-open' } }));
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
  });

  it('takes no budget without one', async () => {
    const t = setup();
    for (const id of ['1', '2', '3']) await fail(t, id);
    expect(actions(t)).toHaveLength(3);
    expect(t.logger.lines.every((l) => !('budget' in l))).toBe(true);
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

describe('reports that name a VM of another project', () => {
  it('never lets an entry of one project meet the ledger records of a VM of another with the same id', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    // Written in sandbox-project-7, naming the id of a VM of fleet-prod-1234, with other
    // measurements and the same boot: that id does not exist in sandbox-project-7.
    t.instances.emptyProjects.add('sandbox-project-7');
    await handleMessage(pubsubData(integrityEntry({ projectId: 'sandbox-project-7', actual: linuxPcrs('forged') })), t.deps, { id: 'f-1' });
    expect(t.ledger.records.size).toBe(0);
    // The genuine known-good report of the real VM relearns: no conflict with the forged one.
    await handleMessage(pubsubData(integrityEntry({ actual: linuxPcrs('good') })), t.deps, { id: 'g-1' });
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'relearn', ledger: 'new' }));
  });
});

describe('the action budget and one VM', () => {
  it('takes one slot per VM and window, however many boots are reported for it', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 2, windowSeconds: 3600 } });
    for (const boot of ['20', '21', '22', '23']) {
      await t.run({ actual: linuxPcrs(`forged-${boot}`), bootCounter: boot }, `m-${boot}`);
    }
    expect(t.logger.lines.map((l) => l.budget)).toEqual(['counted', 'already-counted', 'already-counted', 'already-counted']);
    // Another VM still finds the second slot free.
    t.instances.states.set('99', running(new Date(Date.now() - 60_000).toISOString()));
    await handleMessage(
      pubsubData(integrityEntry({ instanceId: '99', name: 'web-99', actual: linuxPcrs('x'), bootCounter: '5' })),
      t.deps,
      {
        id: 'm-99',
      },
    );
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'stop', budget: 'counted', budgetUsed: 2 }));
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
