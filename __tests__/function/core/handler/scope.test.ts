import { HandlerDeps, handleMessage } from '../../../../function/core/handler';
import { setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, pubsubData } from '../../../../testkit/fixtures';

// Entries about projects inside and outside the responder's scope.

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
});
