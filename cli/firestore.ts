import type { Firestore } from '@google-cloud/firestore';
import { Code, errorCode } from '../function/core/api-errors';
import { DATABASE_ID, DEFAULT_NAME_PREFIX, PROJECT_ID, dedicatedLedgerDatabaseId } from '../function/contract';
import { CliError, Io, OptionValues, UsageError, deadlineIn, explainFailure, str, timeoutSeconds, withDeadline } from './common';
import { listenerProblem } from './baselines/endpoints';
import { checkedCredentials } from './credentials';

/*
 * How the operator commands reach Firestore: the emulator FIRESTORE_EMULATOR_HOST names, or
 * Firestore itself with Application Default Credentials. Whatever goes wrong before or during
 * the work becomes one sentence that says what to do.
 */

/** A Firestore database a command works on, and how long each of its calls may take. */
export interface FirestoreTarget {
  readonly project: string;
  readonly database: string;
  readonly seconds: number;
  /** Emulator host, when FIRESTORE_EMULATOR_HOST is set: named in messages. */
  readonly emulator?: string;
}

/** ` on the emulator at H` when the target is the emulator, else nothing: how messages end a place. */
export function onEmulator(t: Pick<FirestoreTarget, 'emulator'>): string {
  return t.emulator ? ` on the emulator at ${t.emulator}` : '';
}

/** The decision-ledger database the construct creates for the default namePrefix: what `--database` defaults to for the ledger. */
export const DEFAULT_LEDGER_DATABASE = dedicatedLedgerDatabaseId(DEFAULT_NAME_PREFIX);

/**
 * The decision ledger a command works on, from `--project` (or GOOGLE_CLOUD_PROJECT),
 * `--database` and `--timeout`, and FIRESTORE_EMULATOR_HOST: a {@link UsageError} for a missing
 * or malformed one.
 */
export function ledgerTarget(values: OptionValues, env: NodeJS.ProcessEnv): FirestoreTarget {
  const project = str(values.project) ?? (env.GOOGLE_CLOUD_PROJECT || undefined);
  if (project === undefined) {
    throw new UsageError('--project is required (or set GOOGLE_CLOUD_PROJECT): the project of the decision ledger');
  }
  if (!PROJECT_ID.test(project)) throw new UsageError(`--project must be a Google Cloud project id, got '${project}'`);
  const database = str(values.database) ?? DEFAULT_LEDGER_DATABASE;
  if (!DATABASE_ID.test(database)) {
    throw new UsageError(`--database must be a database id like '${DEFAULT_LEDGER_DATABASE}', got '${database}'`);
  }
  const emulator = env.FIRESTORE_EMULATOR_HOST || undefined;
  return { project, database, seconds: timeoutSeconds(values.timeout), ...(emulator !== undefined && { emulator }) };
}

/** `host:port` of an emulator, as FIRESTORE_EMULATOR_HOST holds it. */
const EMULATOR_HOST = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/**
 * Checks FIRESTORE_EMULATOR_HOST before any client is made: its form, and that something
 * listens there. A refused connection is named at once; the Firestore client would retry it
 * until the deadline and then say only that Firestore did not answer.
 */
async function checkEmulator(host: string, doing: string): Promise<void> {
  const m = EMULATOR_HOST.exec(host);
  const port = Number(m?.[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new CliError(
      `FIRESTORE_EMULATOR_HOST must be host:port, like 127.0.0.1:8080, got '${host}'; fix it, or unset it to use Firestore itself`,
    );
  }
  const problem = await listenerProblem({
    variable: 'FIRESTORE_EMULATOR_HOST',
    value: host,
    host: m[1]!,
    port,
    standIn: 'the Firestore emulator',
    instead: 'Firestore itself',
    doing,
  });
  if (problem !== undefined) throw new CliError(problem);
}

/** Where the Firestore client sends its calls, unless an emulator takes them. */
const FIRESTORE_URL = 'https://firestore.googleapis.com';

/** A Firestore error as the end of `could not <do this>: …`, with what to do about it. */
function explain(e: unknown, t: FirestoreTarget, access: 'read' | 'write', env: NodeJS.ProcessEnv): string {
  const detail = explainFailure(e, env);
  switch (errorCode(e)) {
    case Code.NOT_FOUND:
      return `${detail}; check --project and --database: database ${t.database} must exist in project ${t.project}`;
    case Code.PERMISSION_DENIED:
      return `${detail}; the principal of your credentials needs ${access === 'read' ? 'roles/datastore.viewer' : 'roles/datastore.user'} on project ${t.project}`;
    default:
      return detail;
  }
}

/**
 * Runs `work` against a Firestore database within the target's deadline, and closes the client.
 * `doing` says what the work is (`list the baselines of … in project P`), for messages: a
 * refused emulator, unusable credentials, a network that fails, an error of Firestore (with
 * what to do about it) or no answer in time (with its cause, when a connection finds one) each
 * become one sentence. `access` names the role a refusal asks for.
 */
export async function withFirestore<T>(
  io: Io,
  t: FirestoreTarget,
  doing: string,
  access: 'read' | 'write',
  work: (db: Firestore) => Promise<T>,
): Promise<T> {
  // One deadline for all of it: the credentials' check, the client, the work.
  const deadline = deadlineIn(t.seconds);
  // The client would find a bad key or a network down only inside its calls, and retry them.
  if (t.emulator !== undefined) await checkEmulator(t.emulator, doing);
  const checked =
    t.emulator === undefined && io.openFirestore === undefined
      ? await checkedCredentials(io.env, doing, deadline, ', or point FIRESTORE_EMULATOR_HOST at an emulator')
      : undefined;
  const config = { firestoreDatabase: t.database, projectId: t.project };
  const db = io.openFirestore
    ? await io.openFirestore(config)
    : await (await import('./clients.js')).openFirestore(config, checked?.authClient);
  try {
    return await withDeadline(
      work(db),
      {
        ...deadline,
        service: 'Firestore',
        what: `when asked to ${doing}`,
        advice: 'check the network, FIRESTORE_EMULATOR_HOST and your credentials',
        ...(t.emulator === undefined && io.openFirestore === undefined && { url: FIRESTORE_URL }),
      },
      io.env,
    );
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`could not ${doing}: ${explain(e, t, access, io.env)}`);
  } finally {
    // Closing may fail for the same reason the work did; the work's error is the one to report.
    await Promise.race([db.terminate().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
}
