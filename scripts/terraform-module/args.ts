import { UNLIMITED } from '../../function/contract';
import { FIXED, FixedProp } from './spec';

/** What scripts/terraform-module.ts was asked to do. */
export interface CliOptions {
  /** The module's folder, as given. */
  readonly out: string;
  readonly check: boolean;
  readonly zip: boolean;
  /** Values of the fixed props, by prop, from `--set`. */
  readonly fixed: Partial<Record<FixedProp, number | typeof UNLIMITED>>;
  /** Each `--set` as given, by prop (the last one of a prop wins). */
  readonly sets: Partial<Record<FixedProp, string>>;
}

/** The arguments, or the first one not understood with the rule it breaks. */
export function parseArgs(args: readonly string[]): { readonly options: CliOptions } | { readonly error: string } {
  let out = 'terraform';
  let check = false;
  let zip = false;
  const fixed: Partial<Record<FixedProp, number | typeof UNLIMITED>> = {};
  const sets: Partial<Record<FixedProp, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--check') check = true;
    else if (arg === '--with-zip') zip = true;
    else if (arg === '--out') {
      const dir = args[++i];
      if (dir === undefined || dir.startsWith('--')) return { error: '--out needs a directory' };
      out = dir;
    } else if (arg === '--set') {
      const given = args[++i];
      if (given === undefined || given.startsWith('--')) return { error: `--set needs PROP=VALUE, PROP one of ${FIXED.join(', ')}` };
      const said = `--set ${given}`;
      const m = /^([^=]*)=(.*)$/.exec(given);
      if (!m) return { error: `${said}: expected PROP=VALUE` };
      const [, prop, value] = m as unknown as [string, string, string];
      if (!(FIXED as readonly string[]).includes(prop)) {
        return { error: `${said}: ${prop === '' ? 'no prop' : `'${prop}' is not a prop the module fixes`}; one of ${FIXED.join(', ')}` };
      }
      const unlimited = prop === 'maxActionsPerWindow';
      if (unlimited && value === UNLIMITED) fixed[prop] = UNLIMITED;
      else if (/^\d+$/.test(value)) fixed[prop as FixedProp] = Number(value);
      else return { error: `${said}: ${prop} takes a whole number${unlimited ? ` or '${UNLIMITED}'` : ''}, got '${value}'` };
      sets[prop as FixedProp] = said;
    } else return { error: `unknown argument '${arg}'` };
  }
  return { options: { out, check, zip, fixed, sets } };
}

/**
 * What to say when the construct refuses the props the module is generated with (`detail`, its
 * sentence): the `--set` arguments it names, or all of them when it names none; the module's
 * own defaults only when nothing was set (which the tests would have caught).
 */
export function refusalMessage(detail: string, sets: CliOptions['sets']): string {
  const given = Object.entries(sets) as [FixedProp, string][];
  if (given.length === 0) return `the construct refuses the module's defaults: ${detail}`;
  const named = given.filter(([prop]) => new RegExp(`\\b${prop}\\b`).test(detail));
  const blamed = (named.length > 0 ? named : given).map(([, said]) => said);
  return `${blamed.join(' ')}: the construct refuses ${blamed.length === 1 ? 'this value' : 'these values'}: ${detail}`;
}
