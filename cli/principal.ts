import { CliError, OptionValues, UsageError, deadlineIn, describeError, localUser, textOption } from './common';
import { checkedCredentials } from './credentials';
import { networkFailure, networkSentence } from './network';

/** Who a change (to a baseline, to the action budget) is recorded as, and how the tool knows. */
export interface Actor {
  /** A principal (`alice@example.com`, a service account's email) or a name given on the command line (`--actor`, `--by`). */
  readonly name: string;
  /**
   * `credentials`: the principal Application Default Credentials belong to; `flag`: the name
   * given on the command line; `local`: the local user and host, on the emulator only (which
   * takes no credentials).
   */
  readonly from: 'credentials' | 'flag' | 'local';
}

/**
 * The principal a change is recorded as: `flag` (the value of `--actor` or `--by`, which
 * {@link nameOnEmulatorOnly} keeps to the emulator) when given; on the emulator, the local
 * user; otherwise the principal of Application Default Credentials (a service account's email
 * from its key, or the email of the user whose token it is, from Google's token-info endpoint).
 * Fails with what to do rather than record an unknown principal; `doing` (`approve a baseline
 * of …`) and `option` (`--actor`) word the failure.
 */
export async function resolveActor(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  o: { readonly doing: string; readonly option: string; readonly seconds: number },
): Promise<Actor> {
  if (flag !== undefined) return { name: flag, from: 'flag' };
  if (env.FIRESTORE_EMULATOR_HOST) return { name: localUser(), from: 'local' };
  // Problems of the credentials themselves (a missing key file, a network down) are said as every
  // command says them; only what is left is about telling the principal.
  const { auth, token } = await checkedCredentials(env, o.doing, deadlineIn(o.seconds));
  try {
    const credentials = await auth.getCredentials();
    if (typeof credentials.client_email === 'string' && credentials.client_email !== '') {
      return { name: credentials.client_email, from: 'credentials' };
    }
    const { OAuth2Client } = await import('google-auth-library');
    const info = await new OAuth2Client().getTokenInfo(token);
    if (typeof info.email === 'string' && info.email !== '') return { name: info.email, from: 'credentials' };
    throw new Error('the access token names no email (log in with the userinfo.email scope)');
  } catch (e) {
    const network = networkFailure(e, env);
    if (network !== undefined) throw new CliError(`could not ${o.doing}: ${networkSentence(network)}`);
    throw new CliError(
      `could not tell which principal your credentials belong to (${describeError(e).replace(/\.$/, '')}); ` +
        `run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS (against Firestore the change is ` +
        `recorded as that principal; ${o.option} names someone on the emulator only)`,
    );
  }
}

/** The lines of a command's help that define `--actor` or `--by`: one rule for both tools. */
export function recordedAsHelp(option: '--actor' | '--by'): string {
  return `  ${`${option} NAME`.padEnd(22)}on the emulator, who to record (default: your user and host name);
                        against Firestore the principal of your credentials is always recorded`;
}

/**
 * The name given with `--actor` or `--by`, on the emulator only: against Firestore the
 * principal of the credentials is recorded, always, since a name typed on the command line
 * would let anyone be recorded as anyone (and one person both propose and approve).
 */
export function nameOnEmulatorOnly(values: OptionValues, option: 'actor' | 'by', env: NodeJS.ProcessEnv): string | undefined {
  const flag = textOption(values, option);
  if (flag !== undefined && !env.FIRESTORE_EMULATOR_HOST) {
    throw new UsageError(
      `--${option} is for the emulator only: against Firestore the principal of your credentials is recorded (gcloud auth application-default login)`,
    );
  }
  return flag;
}
