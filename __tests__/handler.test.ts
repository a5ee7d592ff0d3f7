import { baselineDocument } from '../function/baseline';
import type { ResponseMode } from '../function/decide';
import { HandlerDeps, handleMessage, requestIdFor } from '../function/handler';
import { parseMeasurements } from '../function/parse';
import { CapturingLogger, MemoryBaselines, RecordingInstances } from './support/fakes';
import {
  DEFAULT_INSTANCE_ID,
  EntryOptions,
  integrityEntry,
  linuxPcrs,
  otherIntegrityEntry,
  pubsubData,
  tutorialDocument,
  windowsPcrs,
} from '../testkit/fixtures';

function setup(mode: ResponseMode = 'relearn-if-known-good') {
  const baselines = new MemoryBaselines();
  const instances = new RecordingInstances();
  const logger = new CapturingLogger();
  const deps: HandlerDeps = { mode, baselines, instances, logger, maxEventAgeSeconds: 3600, staleEventPolicy: 'fail-closed' };
  const run = (o: EntryOptions | Record<string, unknown>, id = 'msg-1') =>
    handleMessage('jsonPayload' in o ? pubsubData(o) : pubsubData(integrityEntry(o as EntryOptions)), deps, { id });
  return { baselines, instances, logger, deps, run };
}

const RELEARNED_WEB_1 = ['get fleet-prod-1234/europe-west1-b/web-1', 'relearn fleet-prod-1234/europe-west1-b/web-1'];

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
    expect(t.instances.calls).toEqual(RELEARNED_WEB_1);
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
    expect(t.instances.calls).toEqual(RELEARNED_WEB_1);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ baselineId: 'baseline1' }));
  });

  it('relearns on a Windows baseline of six PCRs in the tutorial format', async () => {
    const t = setup();
    t.baselines.add('windows-2025-11', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED_WEB_1);
  });

  it('matches whatever the order of the measurements', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good').reverse() });
    expect(t.instances.calls).toEqual(RELEARNED_WEB_1);
  });

  it('stops the VM when the measurements are not known good', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'stop', reason: 'not-known-good' })]);
  });

  it('stops the VM when one PCR value differs', async () => {
    const t = setup();
    const good = windowsPcrs('good');
    t.baselines.add('baseline1', tutorialDocument(good));
    await t.run({ actual: good.map((p) => (p.pcrNum === 'PCR_13' ? { ...p, value: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } : p)) });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
  });

  it('never relearns on a baseline holding a subset of the measured PCRs', async () => {
    const t = setup();
    // The three Linux PCRs of a Windows VM are known good; the other three are not vetted.
    t.baselines.add('linux-only', tutorialDocument(windowsPcrs('good').slice(0, 3)));
    await t.run({ actual: windowsPcrs('good') });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
  });

  it('never relearns on a baseline holding a superset of the measured PCRs', async () => {
    const t = setup();
    t.baselines.add('windows', tutorialDocument(windowsPcrs('good')));
    await t.run({ actual: windowsPcrs('good').slice(0, 3) });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
  });

  it('never relearns when the hash algorithms differ for the same values', async () => {
    const t = setup();
    t.baselines.add('sha256', tutorialDocument(linuxPcrs('good').map((p) => ({ ...p, hashAlgo: 'SHA256' }))));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
  });

  it('ignores a failed early-boot report: only the late-boot report may relearn', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ kind: 'earlyBootReportEvent', actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual([]);
    expect(t.baselines.lookups).toBe(0);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'DEBUG', decision: 'ignore', eventKind: 'earlyBoot' })]);
  });
});

describe('relearning only the boot that was vetted', () => {
  it('does not relearn when the instance has started again since the report', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set('web-1', { id: DEFAULT_INSTANCE_ID, lastStartTimestamp: new Date(Date.now() + 60_000).toISOString() });
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(['get fleet-prod-1234/europe-west1-b/web-1']);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'superseded-by-later-boot' }),
    ]);
  });

  it('does not relearn when the name now belongs to another instance', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set('web-1', { id: '999', lastStartTimestamp: '2026-11-20T09:00:00.000Z' });
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(['get fleet-prod-1234/europe-west1-b/web-1']);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'instance-replaced' })]);
  });
});

describe('failed reports too old to vet', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

  it('stops the VM with a CRITICAL line, without a lookup, when fail-closed (the default)', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good'), timestamp: hoursAgo(2) });
    expect(t.baselines.lookups).toBe(0);
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
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
    t.instances.states.set('web-1', { id: DEFAULT_INSTANCE_ID, lastStartTimestamp: hoursAgo(1) });
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
    expect(t.instances.calls).toEqual([]);
  });

  it('uses the configured maximum age', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set('web-1', { id: DEFAULT_INSTANCE_ID, lastStartTimestamp: hoursAgo(3) });
    const deps = { ...t.deps, maxEventAgeSeconds: 86400 };
    await handleMessage(pubsubData(integrityEntry({ actual: linuxPcrs('good'), timestamp: hoursAgo(2) })), deps, { id: 'm' });
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ decision: 'relearn' }));
  });
});

describe('handleMessage in shutdown mode', () => {
  it('stops the VM on a failed early-boot report', async () => {
    const t = setup('shutdown');
    await t.run({ kind: 'earlyBootReportEvent' });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ mode: 'shutdown', decision: 'stop', reason: 'policy-failed', eventKind: 'earlyBoot' }),
    ]);
  });

  it('stops the VM on a failed late-boot report even when its measurements are known good', async () => {
    const t = setup('shutdown');
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/web-1']);
    expect(t.baselines.lookups).toBe(0);
  });

  it('does nothing when the policy evaluation passed', async () => {
    const t = setup('shutdown');
    await t.run({ kind: 'earlyBootReportEvent', passed: true });
    expect(t.instances.calls).toEqual([]);
  });
});

describe('finding the instance', () => {
  it('uses the name the log entry carries: one Compute call', async () => {
    const t = setup();
    await t.run({ name: 'db-3' });
    expect(t.instances.calls).toEqual(['stop fleet-prod-1234/europe-west1-b/db-3']);
  });

  it('looks the name up by numeric id when the entry carries none', async () => {
    const t = setup();
    t.instances.names.set('4617930134256183721', 'api-7');
    await t.run({ name: null });
    expect(t.instances.calls).toEqual(['list id=4617930134256183721', 'stop fleet-prod-1234/europe-west1-b/api-7']);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ instanceName: 'api-7', instanceId: '4617930134256183721' }));
  });

  it('acknowledges with a warning when the instance no longer exists', async () => {
    const t = setup();
    const outcome = await t.run({ name: null });
    expect(outcome).toEqual(expect.objectContaining({ status: 'decided', instanceFound: false }));
    expect(t.instances.calls).toEqual(['list id=4617930134256183721']);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', instanceFound: false, decision: 'stop' })]);
  });

  it('acknowledges with a warning when the instance disappears before the action', async () => {
    const t = setup();
    await t.run({ name: 'gone' });
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', instanceFound: false })]);
  });
});

describe('failures and bad input', () => {
  it('rejects an entry about another project than the one it watches', async () => {
    const t = setup();
    const deps = { ...t.deps, projectId: 'other-project-42' };
    expect(await handleMessage(pubsubData(integrityEntry({})), deps, { id: 'm' })).toEqual({ status: 'rejected' });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'ERROR', rejection: 'foreign-project' })]);
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
        operation: expect.stringMatching(/^operation-relearn-/),
        firestoreReads: 2,
        ageSeconds: expect.any(Number),
        eventId: 'msg-77',
      },
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
  });
});
