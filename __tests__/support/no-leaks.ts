// Every test file leaves its worker as it found it: no socket, server, child process or timer of
// its own still keeping the event loop alive once its last hook has run. A leaked handle keeps a
// Jest worker from exiting ("A worker process has failed to exit gracefully") and hides which test
// forgot to close something; here the file that leaked fails and names what it left behind.

type WithResources = NodeJS.Process & { getActiveResourcesInfo(): string[] };

const counts = (): Map<string, number> => {
  const m = new Map<string, number>();
  for (const kind of (process as WithResources).getActiveResourcesInfo()) m.set(kind, (m.get(kind) ?? 0) + 1);
  return m;
};

/** What is held now beyond what was held at `before`, as `Kind ×n`. */
function leftSince(before: Map<string, number>): string[] {
  const left: string[] = [];
  for (const [kind, n] of counts()) {
    const extra = n - (before.get(kind) ?? 0);
    if (extra > 0) left.push(`${kind} ×${extra}`);
  }
  return left;
}

let before: Map<string, number>;

beforeAll(() => {
  before = counts();
});

afterAll(async () => {
  // Closing a socket or a server completes on a later turn of the event loop: give it a moment.
  const deadline = Date.now() + 2000;
  let left = leftSince(before);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50).unref());
    left = leftSince(before);
  }
  if (left.length > 0) {
    throw new Error(
      `this test file left ${left.join(', ')} keeping the Jest worker alive: close every server, socket, client, child process and timer it opens`,
    );
  }
});
