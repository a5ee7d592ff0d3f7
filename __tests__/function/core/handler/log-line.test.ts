import { requestIdFor } from '../../../../function/core/request-id';
import { setup } from '../../../support/handler-setup';
import { linuxPcrs, tutorialDocument } from '../../../../testkit/fixtures';

// The decision line the handler writes, field by field.

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
