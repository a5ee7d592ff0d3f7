import { handleMessage } from '../../../../function/core/handler';
import { setup } from '../../../support/handler-setup';
import { integrityEntry, otherIntegrityEntry } from '../../../../testkit/fixtures';

// Failures that are redelivered, and input that is acknowledged with one line.

describe('failures and bad input', () => {
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
