import { createHash, randomUUID } from 'node:crypto';

/**
 * Compute request ids make a repeated call a no-op for a while. Deriving them from the
 * message id means a redelivered message repeats the same request, not the action.
 */
export function requestIdFor(eventId: string | undefined, action: string): string {
  if (eventId === undefined || eventId === '') return randomUUID();
  const h = createHash('sha256').update(`${action}\0${eventId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
