import type { Firestore } from '@google-cloud/firestore';
import { Code, errorCode } from '../function/api-errors';
import { beforeDeadline } from '../function/deadline';
import { CliError, Io, authDetail, credentialsHint, describeError, probeTcp, withDeadline } from './common';

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
  const found = await probeTcp(m[1]!.replace(/^\[|\]$/g, ''), port);
  if (found === 'refused') {
    throw new CliError(
      `nothing listens at ${host}, where FIRESTORE_EMULATOR_HOST points, so the tool cannot ${doing}; start the Firestore ` +
        `emulator there, or unset FIRESTORE_EMULATOR_HOST to use Firestore itself`,
    );
  }
  if (found === 'unresolved') {
    throw new CliError(`cannot resolve the host of FIRESTORE_EMULATOR_HOST (${host}); fix it, or unset it to use Firestore itself`);
  }
}

/**
 * Finds Application Default Credentials inside the awaited call, where a failure is caught: the
 * Firestore client looks them up in the background, and fails there, outside any call.
 */
async function checkCredentials(doing: string, seconds: number): Promise<void> {
  const { GoogleAuth } = await import('google-auth-library');
  const lookup = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/datastore'] }).getClient();
  try {
    await beforeDeadline(lookup, seconds * 1000, () => new CliError(`no Application Default Credentials were found within ${seconds} s`));
  } catch (e) {
    throw new CliError(
      `found no usable Application Default Credentials to ${doing} (${authDetail(e)}); run 'gcloud auth application-default login' ` +
        `or set GOOGLE_APPLICATION_CREDENTIALS, or point FIRESTORE_EMULATOR_HOST at an emulator`,
    );
  }
}

/** What to do about a Firestore error, beyond what it says itself. */
function hint(e: unknown, t: FirestoreTarget, access: 'read' | 'write'): string {
  switch (errorCode(e)) {
    case Code.NOT_FOUND:
      return `; check --project and --database: database ${t.database} must exist in project ${t.project}`;
    case Code.PERMISSION_DENIED:
      return `; the principal of your credentials needs ${access === 'read' ? 'roles/datastore.viewer' : 'roles/datastore.user'} on project ${t.project}`;
    default:
      return credentialsHint(e);
  }
}

/**
 * Runs `work` against a Firestore database within the target's deadline, and closes the client.
 * `doing` says what the work is (`list the baselines of … in project P`), for messages: a
 * refused emulator, missing credentials, an error of Firestore (with what to do about it) or
 * no answer in time each become one sentence. `access` names the role a refusal asks for.
 */
export async function withFirestore<T>(
  io: Io,
  t: FirestoreTarget,
  doing: string,
  access: 'read' | 'write',
  work: (db: Firestore) => Promise<T>,
): Promise<T> {
  if (t.emulator !== undefined) await checkEmulator(t.emulator, doing);
  else if (io.openFirestore === undefined) await checkCredentials(doing, t.seconds);
  const config = { firestoreDatabase: t.database, projectId: t.project };
  const db = io.openFirestore ? await io.openFirestore(config) : await (await import('../function/clients.js')).createFirestore(config);
  try {
    return await withDeadline(work(db), t.seconds, `when asked to ${doing}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`could not ${doing}: ${describeError(e).replace(/\.$/, '')}${hint(e, t, access)}`);
  } finally {
    // Closing may fail for the same reason the work did; the work's error is the one to report.
    await Promise.race([db.terminate().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
}
