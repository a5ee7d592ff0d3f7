import { Server, request } from 'node:http';

/** Minimal HTTP client on node:http (Jest's sandboxed fetch cannot always read bodies). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${options.timeoutMs} ms`)),
      );
    }
    req.end(options.body);
  });
}

type FirestoreValue =
  { stringValue: string } | { integerValue: string } | { booleanValue: boolean } | { mapValue: { fields: Record<string, FirestoreValue> } };

function toValue(v: unknown): FirestoreValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { integerValue: String(v) };
  if (typeof v === 'boolean') return { booleanValue: v };
  if (v && typeof v === 'object') return { mapValue: { fields: toFields(v as Record<string, unknown>) } };
  throw new Error(`unsupported Firestore test value ${String(v)}`);
}

function toFields(o: Record<string, unknown>): Record<string, FirestoreValue> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, toValue(v)]),
  );
}

/** Writes a document straight into the Firestore emulator over its REST API, as an admin. */
export async function putEmulatorDocument(
  host: string,
  project: string,
  database: string,
  collection: string,
  id: string,
  data: Record<string, unknown>,
): Promise<void> {
  return putEmulatorFields(host, project, database, collection, id, toFields(data));
}

/** The same, with `fields` already in the REST API's value format (as a `google_firestore_document` holds them). */
export async function putEmulatorFields(
  host: string,
  project: string,
  database: string,
  collection: string,
  id: string,
  fields: Record<string, unknown>,
): Promise<void> {
  const url = `http://${host}/v1/projects/${project}/databases/${database}/documents/${collection}/${encodeURIComponent(id)}`;
  const res = await httpRequest(url, {
    method: 'PATCH',
    headers: { authorization: 'Bearer owner', 'content-type': 'application/json' },
    body: JSON.stringify({ fields }),
  });
  if (res.status !== 200) throw new Error(`emulator write failed: ${res.status} ${res.body}`);
}

/** Deletes every document of one database of the Firestore emulator (an emulator-only endpoint). */
export async function clearEmulatorDatabase(host: string, project: string, database: string): Promise<void> {
  const res = await httpRequest(`http://${host}/emulator/v1/projects/${project}/databases/${database}/documents`, { method: 'DELETE' });
  if (res.status !== 200) throw new Error(`emulator clear of ${project}/${database} failed: ${res.status} ${res.body}`);
}

/** Starts `server` on a free loopback port; resolves to the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Closes `server`, cutting the connections it still holds (keep-alive clients), and waits for it. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
