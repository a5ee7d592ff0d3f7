/**
 * Settles as `work` does, or rejects with `expired()` once `ms` have passed first. The work is
 * not cancelled, only no longer waited for: its late outcome is dropped (the race has subscribed
 * to it, so a late rejection is not an unhandled one).
 */
export async function beforeDeadline<T>(work: Promise<T>, ms: number, expired: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
