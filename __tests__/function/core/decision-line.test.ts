import { LINE_FIELDS } from '../../../function/contract';
import { Line, lineOf } from '../../../function/core/decision-line';
import type { DecisionRecord, EventOutcome } from '../../../function/core/outcome';
import { recordOf, reportOf } from '../../support/handler-setup';
import { DEFAULT_INSTANCE_ID } from '../../../testkit/fixtures';

const CONTEXT = { mode: 'relearn-if-known-good', eventId: 'msg-1' } as const;
const WHO = 'fleet-prod-1234/europe-west1-b/web-1 (boot 7)';
const GROUP = 'projects/fleet-prod-1234/zones/europe-west1-b/instanceGroupManagers/web-mig';

const said = (record: DecisionRecord): Line => lineOf({ kind: 'decided', record }, CONTEXT);

const stopped = (r: Partial<DecisionRecord> = {}) =>
  recordOf({
    decision: { action: 'stop', reason: 'not-known-good' },
    ledger: { note: 'new', requestId: 'req-1', alreadyDone: false },
    operation: { name: 'operation-1', status: 'DONE' },
    ...r,
  });

describe('lineOf a decided report', () => {
  it('writes a relearn as NOTICE, with its fields in the order they are written', () => {
    const line = said(
      recordOf({
        decision: { action: 'relearn', reason: 'known-good', baselineId: 'b-1' },
        ledger: { note: 'new', requestId: 'req-1', alreadyDone: false },
        operation: { name: 'operation-1', status: 'DONE' },
        reads: 2,
        ageSeconds: 12.4,
      }),
    );
    expect(line.severity).toBe('NOTICE');
    expect(line.message).toBe(`Measurements of ${WHO} match a known-good baseline; relearning the integrity policy`);
    expect(Object.entries(line.fields)).toEqual([
      ['mode', 'relearn-if-known-good'],
      ['eventKind', 'lateBoot'],
      ['policyEvaluationPassed', false],
      ['bootCounter', '7'],
      ['projectId', 'fleet-prod-1234'],
      ['zone', 'europe-west1-b'],
      ['instanceName', 'web-1'],
      ['instanceId', DEFAULT_INSTANCE_ID],
      ['decision', 'relearn'],
      ['reason', 'known-good'],
      ['baselineId', 'b-1'],
      ['instanceFound', true],
      ['ledger', 'new'],
      ['alreadyDone', false],
      ['requestId', 'req-1'],
      ['operation', 'operation-1'],
      ['operationStatus', 'DONE'],
      ['firestoreReads', 2],
      ['ageSeconds', 12],
      ['eventId', 'msg-1'],
    ]);
  });

  it('leaves out every field without a value', () => {
    const line = said(recordOf({ decision: { action: 'none', reason: 'policy-passed' } }, { passed: true }));
    expect(Object.values(line.fields)).not.toContain(undefined);
    expect(Object.keys(line.fields)).not.toContain('containment');
    expect(Object.keys(line.fields)).not.toContain('dryRun');
  });

  it('says a stop with its containment, a suspend as suspending', () => {
    expect(said(stopped())).toMatchObject({
      severity: 'WARNING',
      message: `Integrity of ${WHO} not vetted (not-known-good); stopping the instance`,
      fields: { decision: 'stop', containment: 'stop' },
    });
    expect(said(stopped({ containment: 'suspend' }))).toMatchObject({
      message: `Integrity of ${WHO} not vetted (not-known-good); suspending the instance`,
      fields: { containment: 'suspend' },
    });
  });

  it('says what was done with the group first, at CRITICAL for a member contained inside it', () => {
    expect(said(stopped({ group: { path: GROUP, action: 'abandoned' } }))).toMatchObject({
      severity: 'WARNING',
      message: `Integrity of ${WHO} not vetted (not-known-good); abandoned it from its managed instance group ${GROUP}, then stopping the instance`,
      fields: { instanceGroup: GROUP, groupAction: 'abandoned' },
    });
    expect(said(stopped({ group: { path: GROUP, action: 'contain-only' } }))).toMatchObject({
      severity: 'CRITICAL',
      message: expect.stringContaining(`its created-by names managed instance group ${GROUP}, which may recreate it`),
    });
    expect(said(stopped({ group: { path: GROUP, action: 'abandon-timeout', abandonAgeSeconds: 121 } }))).toMatchObject({
      severity: 'CRITICAL',
      message: expect.stringContaining(`${GROUP} still lists it 121 s after it was asked to abandon it`),
    });
    expect(said(stopped({ group: { path: GROUP, action: 'not-a-member', note: 'the group does not list it' } })).message).toContain(
      'but it is no member (the group does not list it); stopping the instance',
    );
  });

  it('says a redelivery of a completed action at INFO, and a relearn refused for an older boot as a decision of its own', () => {
    const repeat = said(stopped({ ledger: { note: 'repeat', requestId: 'req-1', alreadyDone: true } }));
    expect(repeat).toMatchObject({
      severity: 'INFO',
      message: `Already handled: Integrity of ${WHO} not vetted (not-known-good); stopping the instance (operation DONE); nothing done again`,
    });
    const older = said(
      recordOf({
        decision: { action: 'none', reason: 'older-boot' },
        ledger: { note: 'older-boot', requestId: 'req-1', alreadyDone: true },
      }),
    );
    expect(older.severity).toBe('WARNING');
    expect(older.message).not.toMatch(/^Already handled/);
  });

  it('says of a repeat recorded in dry run that nothing was done then', () => {
    const line = said(stopped({ ledger: { note: 'repeat', alreadyDone: true }, operation: { status: 'dry-run' } }));
    expect(line.message).toBe(
      `Already handled: Integrity of ${WHO} not vetted (not-known-good); nothing was done to it then (recorded in dry run) (operation dry-run); nothing done again`,
    );
  });

  it('says what there was nothing to do to a VM that no longer exists', () => {
    const gone = { found: false, unconfirmed: 'web-1' };
    expect(said(recordOf({ decision: { action: 'none', reason: 'instance-not-found', wouldHave: 'suspend' }, vm: gone }))).toMatchObject({
      severity: 'WARNING',
      message: `Instance fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID} (boot 7) no longer exists; nothing to suspend (its log entry's label says 'web-1', which Compute Engine did not confirm)`,
      fields: { instanceFound: false, entryInstanceName: 'web-1', wouldHave: 'suspend' },
    });
    expect(said(recordOf({ decision: { action: 'ignore', reason: 'early-boot-report-in-relearn-mode' }, vm: gone })).message).toMatch(
      /no longer exists; nothing to note /,
    );
  });

  it('says in dry run what would have been done, and that nothing was', () => {
    expect(said(stopped({ dryRun: true, operation: { status: 'dry-run' } }))).toMatchObject({
      severity: 'WARNING',
      message: `Dry run: would stop the instance: Integrity of ${WHO} not vetted (not-known-good); no action taken (dry run)`,
      fields: { dryRun: true, operationStatus: 'dry-run' },
    });
    expect(said(stopped({ dryRun: true, group: { path: GROUP, action: 'would-abandon' } })).message).toMatch(
      new RegExp(`^Dry run: would abandon it from group ${GROUP} and stop the instance: `),
    );
    expect(said(stopped({ dryRun: true, containment: 'suspend', group: { path: GROUP, action: 'contain-only' } }))).toMatchObject({
      severity: 'CRITICAL',
      message: expect.stringMatching(
        new RegExp(
          `^Dry run: would suspend the instance inside its managed instance group ${GROUP} \\(instanceGroupAction contain-only\\): `,
        ),
      ),
    });
  });

  it('raises a line whose entry label names another VM to WARNING at least, and says so', () => {
    const line = said(
      recordOf(
        { decision: { action: 'none', reason: 'policy-passed' }, vm: { found: true, name: 'web-1', relabelled: 'db-3' } },
        { passed: true },
      ),
    );
    expect(line).toMatchObject({
      severity: 'WARNING',
      message: `Integrity policy passed on ${WHO}; no action (the log entry's label names it 'db-3')`,
      fields: { instanceName: 'web-1', entryInstanceName: 'db-3' },
    });
  });

  it.each([
    ['its age', { ageSeconds: 7200.4 }, {}, ' 7200 s old'],
    ['how far in the future it is dated', { ageSeconds: -600 }, {}, ' dated 600 s in the future'],
    ['that its age is unknown', { ageSeconds: undefined }, {}, ' of unknown age'],
  ])('says of a stale report %s', (_what, r, o, age) => {
    const line = said(recordOf({ decision: { action: 'alert', reason: 'stale-event-fail-open' }, ...r }, o));
    expect(line.severity).toBe('CRITICAL');
    expect(line.message).toBe(
      `Failed integrity report of ${WHO} is${age} and cannot be vetted; NOT acting on it (fail-open): check the instance`,
    );
  });

  it('says of a report without a boot counter that it has none', () => {
    const report = { ...reportOf(), bootCounter: undefined };
    const line = said({ ...recordOf({ decision: { action: 'stop', reason: 'stale-event-fail-closed' } }), report });
    expect(line.message).toBe(
      'Failed integrity report of fleet-prod-1234/europe-west1-b/web-1 is without a boot counter and cannot be vetted; stopping the instance (fail-closed)',
    );
    expect(line.fields).not.toHaveProperty('bootCounter');
  });

  it('says an exempt VM is left alone, naming the label and what was not done', () => {
    const line = said(
      recordOf({
        decision: { action: 'none', reason: 'exempt', wouldHave: 'relearn' },
        exemptLabel: 'ops_hold=yes',
        ledger: { note: 'new' },
      }),
    );
    expect(line).toMatchObject({
      severity: 'CRITICAL',
      message: `Instance ${WHO} is exempt (label ops_hold=yes): NOT relearning its integrity policy though its measurements are known good`,
      fields: { reason: 'exempt', wouldHave: 'relearn', exemptLabel: 'ops_hold=yes', ledger: 'new' },
    });
  });

  it('says why a relearn was refused on its last look', () => {
    const relearn = (reason: 'superseded-by-later-boot' | 'relearn-window-passed' | 'unvetted-boot', facts: DecisionRecord['relearn']) =>
      said(recordOf({ decision: { action: 'none', reason }, relearn: facts }));
    expect(relearn('superseded-by-later-boot', { laterBoot: '9' })).toMatchObject({
      message: expect.stringContaining('a later boot of the instance (boot 9) is recorded'),
      fields: { laterBoot: '9' },
    });
    expect(relearn('relearn-window-passed', { relearnMaxAgeSeconds: 900 })).toMatchObject({
      severity: 'NOTICE',
      message: expect.stringContaining('the report is 12 s old, past the relearn bound of 900 s'),
      fields: { relearnMaxAgeSeconds: 900 },
    });
    const lastStop = { bootCounter: '6', state: 'settled', settledAs: 'exempt', recordedAt: '2026-11-20T09:00:00.000Z' } as const;
    expect(relearn('unvetted-boot', { lastStop })).toMatchObject({
      message: expect.stringContaining(
        'a stop was decided for boot 6 of the instance at 2026-11-20T09:00:00.000Z (not performed: the VM was exempt)',
      ),
      fields: { lastStopBoot: '6', lastStopState: 'settled', lastStopSettledAs: 'exempt', lastStopAt: '2026-11-20T09:00:00.000Z' },
    });
  });

  it('says where a counted action took its slot: the shard, its count and its share of the limit, not a window total it did not read', () => {
    const window = {
      id: '3600s-2026-11-20T09:00:00.000Z',
      start: '2026-11-20T09:00:00.000Z',
      end: '2026-11-20T10:00:00.000Z',
      seconds: 3600,
    };
    const budget = { status: 'counted', window, limit: 50, shard: 7, shards: 32, shardUsed: 1, shardCapacity: 2 } as const;
    const line = said(stopped({ ledger: { note: 'new', requestId: 'req-1', alreadyDone: false, budget } }));
    expect(line.fields).toMatchObject({
      budget: 'counted',
      budgetShard: 7,
      budgetShardUsed: 1,
      budgetShardCapacity: 2,
      budgetLimit: 50,
      budgetWindowSeconds: 3600,
      budgetWindow: window.id,
      budgetFreesAt: window.end,
    });
    expect(line.fields).not.toHaveProperty('budgetUsed');
    expect(line.fields).not.toHaveProperty('retry');
  });

  it('says an action held for want of budget, and marks the line for the redelivery', () => {
    const window = {
      id: '3600s-2026-11-20T09:00:00.000Z',
      start: '2026-11-20T09:00:00.000Z',
      end: '2026-11-20T10:00:00.000Z',
      seconds: 3600,
    };
    const budget = { status: 'exhausted', window, limit: 2, used: 2, wouldHave: 'stop', heldReason: 'conflicting-reports' } as const;
    const line = said(
      recordOf({ decision: { action: 'none', reason: 'budget-exhausted', wouldHave: 'stop' }, ledger: { note: 'new', budget } }),
    );
    expect(line.severity).toBe('CRITICAL');
    expect(line.message).toBe(
      'Action budget exhausted (2 of 2 stops and suspends per 3600 s used; the window frees at 2026-11-20T10:00:00.000Z): ' +
        `NOT stopping ${WHO}, reason conflicting-reports: conflicting integrity reports for this boot (possible forged entry), ` +
        'nothing will relearn it; the VM is left running and the event will be redelivered',
    );
    expect(line.fields).toMatchObject({
      budget: 'exhausted',
      budgetUsed: 2,
      budgetLimit: 2,
      budgetWindowSeconds: 3600,
      budgetWindow: window.id,
      budgetFreesAt: window.end,
      heldReason: 'conflicting-reports',
      retry: true,
    });
  });
});

describe('lineOf an event not decided', () => {
  it('says a malformed entry and an entry outside the scope at ERROR, with the rejection code', () => {
    expect(lineOf({ kind: 'malformed', code: 'invalid-json', detail: 'not JSON' }, CONTEXT)).toEqual({
      severity: 'ERROR',
      message: 'Rejected malformed integrity log entry: not JSON',
      fields: { mode: 'relearn-if-known-good', rejection: 'invalid-json', detail: 'not JSON', eventId: 'msg-1' },
    });
    expect(lineOf({ kind: 'outside-scope', code: 'foreign-project', detail: 'elsewhere' }, CONTEXT)).toMatchObject({
      severity: 'ERROR',
      message: 'Rejected integrity log entry: elsewhere',
      fields: { rejection: 'foreign-project' },
    });
  });

  it('says an ignored entry at DEBUG', () => {
    expect(lineOf({ kind: 'ignored', reason: 'not a report' }, CONTEXT)).toEqual({
      severity: 'DEBUG',
      message: 'Ignored log entry: not a report',
      fields: { mode: 'relearn-if-known-good', reason: 'not a report', eventId: 'msg-1' },
    });
  });

  it('marks a failure for redelivery, naming the group that still lists the VM', () => {
    expect(lineOf({ kind: 'failed', report: reportOf(), error: '503', pendingGroup: GROUP, cause: new Error('503') }, CONTEXT)).toEqual({
      severity: 'ERROR',
      message: `Could not complete the response for fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID}; the event will be redelivered: 503`,
      fields: {
        mode: 'relearn-if-known-good',
        eventKind: 'lateBoot',
        instanceId: DEFAULT_INSTANCE_ID,
        entryInstanceName: 'web-1',
        retry: true,
        error: '503',
        instanceGroup: GROUP,
        groupAction: 'abandon-pending',
        eventId: 'msg-1',
      },
    });
  });
});

it('writes only fields LINE_FIELDS names', () => {
  const outcomes: EventOutcome[] = [
    { kind: 'malformed', code: 'invalid-json', detail: 'x' },
    { kind: 'ignored', reason: 'x' },
    { kind: 'failed', report: reportOf(), error: 'x', pendingGroup: GROUP, cause: new Error('x') },
    { kind: 'decided', record: stopped({ group: { path: GROUP, action: 'abandoned' }, dryRun: true, reads: 2 }) },
    {
      kind: 'decided',
      record: recordOf({
        decision: { action: 'none', reason: 'unvetted-boot' },
        relearn: { laterBoot: '9', relearnMaxAgeSeconds: 900, lastStop: { bootCounter: '6', state: 'held', recordedAt: 'x' } },
        vm: { found: true, name: 'web-1', relabelled: 'db-3' },
        exemptLabel: 'a=b',
        ledger: { note: 'new', budget: { status: 'already-counted', windowId: 'w' } },
      }),
    },
  ];
  const written = new Set(outcomes.flatMap((o) => Object.keys(lineOf(o, CONTEXT).fields)));
  const named = new Set<string>(Object.values(LINE_FIELDS));
  expect([...written].filter((f) => !named.has(f))).toEqual([]);
  expect(written.size).toBeGreaterThan(30);
});
