import { create } from 'node:domain';
import { leaveRequestDomain } from '../function/request-domain';

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
});
