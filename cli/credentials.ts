import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthClient, GoogleAuth } from 'google-auth-library';
import { CliError, Deadline, authDetail, describeError, withDeadline } from './common';
import { networkFailure, networkReason, networkSentence } from './network';

/*
 * Application Default Credentials, checked once per run before any Google client uses them:
 * the key file is read, and a token is fetched. A Google client would find the same problems
 * only inside its calls, and retry them for many seconds before saying, in its own words, what
 * went wrong (a decoder error for a bad key, a DNS error for a network down). Checked here, each
 * is said at once, in one sentence: a key file that is missing or unusable (named, with why), a
 * network that fails (the host, and what to check, never a login), or no credentials at all.
 */

/** What a run's credentials are, once checked. */
interface CheckedCredentials {
  readonly auth: GoogleAuth;
  /**
   * The client that gave the token, for the run's Google clients: it keeps the token, so the
   * run asks for one once.
   */
  readonly authClient: AuthClient;
  /** An access token they gave, for calls the tools make themselves (token info). */
  readonly token: string;
}

/** A credentials problem worded for an operator; `detail` is the sentence without `could not <do this>: `. */
export class CredentialsProblem extends CliError {
  constructor(
    doing: string,
    readonly detail: string,
    /** A short reason, for lines that list what could not be checked. */
    readonly reason: string,
  ) {
    super(`could not ${doing}: ${detail}`);
    this.name = 'CredentialsProblem';
  }
}

/** The key file the credentials come from: named by GOOGLE_APPLICATION_CREDENTIALS, or the one gcloud writes. */
interface KeyFile {
  readonly path: string;
  readonly from: 'variable' | 'gcloud';
}

/** Google's token endpoint for service-account and user credentials; external accounts name their own. */
const TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Key file types the auth library reads, besides the two an operator usually has. */
const OTHER_TYPES = new Set([
  'external_account',
  'external_account_authorized_user',
  'impersonated_service_account',
  'gdch_service_account',
]);

/** The file `gcloud auth application-default login` writes, where the auth library looks for it. */
function gcloudFile(env: NodeJS.ProcessEnv): string | undefined {
  const dir =
    env.CLOUDSDK_CONFIG ||
    (process.platform === 'win32' ? env.APPDATA && join(env.APPDATA, 'gcloud') : env.HOME && join(env.HOME, '.config', 'gcloud'));
  return dir ? join(dir, 'application_default_credentials.json') : undefined;
}

function keyFileOf(env: NodeJS.ProcessEnv): KeyFile | undefined {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return { path: env.GOOGLE_APPLICATION_CREDENTIALS, from: 'variable' };
  const path = gcloudFile(env);
  try {
    return path !== undefined && statSync(path).isFile() ? { path, from: 'gcloud' } : undefined;
  } catch {
    return undefined;
  }
}

/** The key file, how an operator knows it, and what to do about it when it cannot be used. */
function unusable(file: KeyFile, why: string): string {
  return file.from === 'variable'
    ? `the credentials file named by GOOGLE_APPLICATION_CREDENTIALS (${file.path}) could not be used: ${why}; point ` +
        `GOOGLE_APPLICATION_CREDENTIALS at a service-account or authorized-user JSON key, or unset it to use 'gcloud auth application-default login'`
    : `the Application Default Credentials file ${file.path} could not be used: ${why}; run 'gcloud auth application-default login' again`;
}

/** Why a key file cannot be used, from its content, before any request; undefined when it looks usable. */
function keyFileProblem(file: KeyFile): string | undefined {
  let text: string;
  try {
    if (statSync(file.path).isDirectory()) return unusable(file, 'it is a directory');
    text = readFileSync(file.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && file.from === 'variable') {
      return (
        `GOOGLE_APPLICATION_CREDENTIALS names ${file.path}, which does not exist; point it at a service-account or ` +
        `authorized-user JSON key, or unset it to use 'gcloud auth application-default login'`
      );
    }
    return unusable(file, code === 'EACCES' ? 'it is not readable (permission denied)' : describeError(e));
  }
  let key: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    key = parsed as Record<string, unknown>;
  } catch (e) {
    return unusable(file, `it is not a service-account or authorized-user JSON key (${describeError(e).replace(/\.$/, '')})`);
  }
  const missing = (fields: string[]) => fields.filter((f) => typeof key[f] !== 'string' || key[f] === '');
  switch (key.type) {
    case 'service_account': {
      const absent = missing(['client_email', 'private_key']);
      if (absent.length > 0) return unusable(file, `the service-account key has no ${absent.join(' and no ')}`);
      try {
        createPrivateKey(key.private_key as string);
      } catch (e) {
        return unusable(file, `its private_key is not a readable PEM private key (${describeError(e)})`);
      }
      return undefined;
    }
    case 'authorized_user': {
      const absent = missing(['client_id', 'client_secret', 'refresh_token']);
      return absent.length > 0 ? unusable(file, `the authorized-user key has no ${absent.join(', no ')}`) : undefined;
    }
    default:
      return typeof key.type === 'string' && OTHER_TYPES.has(key.type)
        ? undefined
        : unusable(file, `it is not a service-account or authorized-user JSON key (its type is ${JSON.stringify(key.type ?? null)})`);
  }
}

/** Where the token comes from, for the sentence a deadline turns into. */
function tokenUrlOf(file: KeyFile | undefined): string {
  if (file === undefined) return TOKEN_URL;
  try {
    const key = JSON.parse(readFileSync(file.path, 'utf8')) as { token_url?: unknown };
    return typeof key.token_url === 'string' ? key.token_url : TOKEN_URL;
  } catch {
    return TOKEN_URL;
  }
}

const NO_CREDENTIALS = /Could not load the default credentials/i;
const REFUSED = /invalid_grant|invalid_client|unauthorized_client|invalid_rapt|reauth/i;
/** Errors of the auth library about the content of a key file (the checks above find most before it does). */
const ABOUT_THE_FILE =
  /Unable to read the credential file|credential_source|private key|PEM|DECODER|JSON|client_email|refresh_token|type field/i;

/** The credentials problem an error of the auth library stands for, as a sentence after `could not <do this>: `. */
function problemOf(e: unknown, file: KeyFile | undefined, env: NodeJS.ProcessEnv): Problem {
  const network = networkFailure(e, env);
  if (network !== undefined) return { detail: networkSentence(network), reason: networkReason(network) };
  const text = authDetail(e);
  const status = (e as { response?: { status?: unknown } }).response?.status;
  if (typeof status === 'number' && !REFUSED.test(text)) {
    return {
      detail: `Google's token endpoint answered ${status} (${text}); try again, or run 'gcloud auth application-default login' if it persists`,
      reason: `the token endpoint answered ${status}`,
    };
  }
  if (file !== undefined && ABOUT_THE_FILE.test(text)) {
    return {
      detail: unusable(file, text.replace(/^Unable to read the credential file specified by [^:]+: /, '')),
      reason: 'unusable credentials',
    };
  }
  if (REFUSED.test(text)) {
    return {
      detail:
        `Google refused the credentials${file ? ` of ${file.path}` : ''} (${text}); run 'gcloud auth application-default login' again` +
        `${file?.from === 'variable' ? ', or point GOOGLE_APPLICATION_CREDENTIALS at a valid key' : ''}`,
      reason: 'credentials refused',
    };
  }
  if (NO_CREDENTIALS.test(text)) {
    return {
      detail: `found no usable Application Default Credentials (${text}); run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS`,
      reason: 'no usable Application Default Credentials',
      none: true,
    };
  }
  // Neither the file, nor a refusal, nor none at all (a TLS error, say): said as it is.
  return { detail: `the credentials${file ? ` of ${file.path}` : ''} gave no access token (${text})`, reason: 'no access token' };
}

/** What is wrong with the credentials: `detail` after `could not <do this>: `, `none` when there are none at all. */
interface Problem {
  readonly detail: string;
  readonly reason: string;
  readonly none?: boolean;
}

const checked = new WeakMap<NodeJS.ProcessEnv, Promise<CheckedCredentials | { problem: Problem }>>();

/**
 * The run's Application Default Credentials, checked: their key file read, a token fetched
 * before `deadline`, the command's own (the check is part of the command's time). Rejects with a {@link CredentialsProblem} saying, after `could not <doing>`,
 * what is wrong and what to do; `alternative` ends the advice when there are no credentials
 * (`, or point FIRESTORE_EMULATOR_HOST at an emulator`). Checked once per `env` (one run): every
 * command asks before its first call to Google, and only the first asks Google.
 */
export async function checkedCredentials(
  env: NodeJS.ProcessEnv,
  doing: string,
  deadline: Deadline,
  alternative = '',
): Promise<CheckedCredentials> {
  let pending = checked.get(env);
  if (pending === undefined) {
    pending = check(env, deadline);
    checked.set(env, pending);
  }
  const outcome = await pending;
  if ('problem' in outcome) {
    const { detail, reason, none } = outcome.problem;
    throw new CredentialsProblem(doing, none ? `${detail}${alternative}` : detail, reason);
  }
  return outcome;
}

/** The problem a deadline that passed during the check stands for. */
class TooLate extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

async function check(env: NodeJS.ProcessEnv, deadline: Deadline): Promise<CheckedCredentials | { problem: Problem }> {
  const file = keyFileOf(env);
  const wrong = file === undefined ? undefined : keyFileProblem(file);
  if (wrong !== undefined) return { problem: { detail: wrong, reason: 'unusable credentials' } };
  // Where the token was to come from, and where Google's APIs are (through the proxy, if any).
  const url = tokenUrlOf(file);
  const { seconds } = deadline;
  const late = `the credentials gave no access token within ${seconds} s`;
  const work = (async () => {
    const { GoogleAuth } = await import('google-auth-library');
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const authClient = await auth.getClient();
    const { token } = await authClient.getAccessToken();
    if (typeof token !== 'string' || token === '') throw new Error('the credentials gave no access token');
    return { auth, authClient, token };
  })();
  try {
    return await withDeadline(
      work,
      {
        ...deadline,
        url: [url, TOKEN_URL],
        late: (network) =>
          new TooLate(
            network === undefined
              ? {
                  detail: `${late} (from ${new URL(url).host}); check the network connection, any proxy (HTTPS_PROXY) and DNS, or allow more time (--timeout)`,
                  reason: `no access token within ${seconds} s`,
                }
              : { detail: `${late}: ${networkSentence(network)}`, reason: networkReason(network) },
          ),
      },
      env,
    );
  } catch (e) {
    return { problem: e instanceof TooLate ? e.problem : problemOf(e, file, env) };
  }
}
