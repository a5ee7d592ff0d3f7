import { CliError, authDetail, localUser } from '../common';

/** Who a change to a baseline is recorded as, and how the tool knows. */
export interface Actor {
  /** A principal (`alice@example.com`, a service account's email) or a name given with `--actor`. */
  readonly name: string;
  /**
   * `credentials`: the principal Application Default Credentials belong to; `flag`: `--actor`;
   * `local`: the local user and host, on the emulator only (which takes no credentials).
   */
  readonly from: 'credentials' | 'flag' | 'local';
}

/**
 * The principal a baseline change is recorded as: `--actor` when given; on the emulator, the
 * local user; otherwise the principal of Application Default Credentials (a service account's
 * email from its key, or the email of the user whose token it is, from Google's token-info
 * endpoint). Fails with what to do rather than record an unknown principal.
 */
export async function resolveActor(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<Actor> {
  if (flag !== undefined) return { name: flag, from: 'flag' };
  if (env.FIRESTORE_EMULATOR_HOST) return { name: localUser(), from: 'local' };
  try {
    const { GoogleAuth, OAuth2Client } = await import('google-auth-library');
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const credentials = await auth.getCredentials();
    if (typeof credentials.client_email === 'string' && credentials.client_email !== '') {
      return { name: credentials.client_email, from: 'credentials' };
    }
    const client = await auth.getClient();
    const { token } = await client.getAccessToken();
    if (typeof token !== 'string') throw new Error('the credentials gave no access token');
    const info = await new OAuth2Client().getTokenInfo(token);
    if (typeof info.email === 'string' && info.email !== '') return { name: info.email, from: 'credentials' };
    throw new Error('the access token names no email (log in with the userinfo.email scope)');
  } catch (e) {
    throw new CliError(
      `could not tell which principal your credentials belong to (${authDetail(e)}); ` +
        `run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS (against Firestore the change is recorded as that principal; --actor names someone on the emulator only)`,
    );
  }
}
