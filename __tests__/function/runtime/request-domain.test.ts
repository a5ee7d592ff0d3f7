import { create } from 'node:domain';
import type { AddressInfo } from 'node:net';
import { CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { leaveRequestDomain } from '../../../function/runtime/request-domain';

// The Functions Framework runs each request as `d.run(() => process.nextTick(() => handler()))`
// with a fresh domain `d`: the same shape here, on Node's own domain module.
const active = () => (process as { domain?: unknown }).domain;

function inRequestDomain<T>(work: () => Promise<T>): Promise<T> {
  const d = create();
  return new Promise<T>((resolve, reject) => d.run(() => process.nextTick(() => work().then(resolve, reject))));
}

describe('leaveRequestDomain', () => {
  it("makes what the handler does next outside the framework's per-request domain", async () => {
    const seen = await inRequestDomain(async () => {
      const before = active();
      leaveRequestDomain();
      await Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { before: before !== undefined, after: active() };
    });
    expect(seen).toEqual({ before: true, after: undefined });
  });

  it('keeps the domain active across awaits when left alone: the contrast the test above relies on', async () => {
    const seen = await inRequestDomain(async () => {
      await Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { after: active() !== undefined };
    });
    expect(seen).toEqual({ after: true });
  });

  it('does nothing outside a domain', () => {
    expect(active()).toBeUndefined();
    expect(() => leaveRequestDomain()).not.toThrow();
    expect(active()).toBeUndefined();
  });

  it('answers every request for itself when the framework serves many at once, rejections included', async () => {
    // The real framework: each request in its own domain, the handler left to run outside it.
    const seen: Record<string, unknown> = {};
    type Data = { readonly fail?: boolean; readonly waitMs: number };
    cloudEvent<Data>('leave-request-domain-test', async (event: CloudEvent<Data>) => {
      leaveRequestDomain();
      await new Promise((resolve) => setTimeout(resolve, event.data!.waitMs));
      seen[event.id] = active();
      if (event.data!.fail) throw new Error(`event ${event.id} failed`);
    });
    const server = getTestServer('leave-request-domain-test');
    // The framework writes the failing event's error to stderr: expected here, kept out of the output.
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const send = async (id: string, data: { fail?: boolean; waitMs: number }) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-id': id,
            'ce-specversion': '1.0',
            'ce-source': '//pubsub.googleapis.com/projects/p/topics/t',
            'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
          },
          body: JSON.stringify(data),
        });
        return `${id} ${res.status}`;
      };
      // Later requests finish first: each answer must still be its own request's.
      const answers = await Promise.all([
        send('slow-ok', { waitMs: 120 }),
        send('failing', { fail: true, waitMs: 60 }),
        send('fast-ok', { waitMs: 1 }),
      ]);
      expect(answers).toEqual(['slow-ok 204', 'failing 500', 'fast-ok 204']);
      expect(seen).toEqual({ 'slow-ok': undefined, failing: undefined, 'fast-ok': undefined });
      expect(logged.mock.calls.flat().join(' ')).toContain('event failing failed');
    } finally {
      logged.mockRestore();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
