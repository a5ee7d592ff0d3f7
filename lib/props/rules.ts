import { Fn, Op, Precondition, Token } from 'cdktf';
import { COLLECTION_ID_PARTS, IntegerSetting, LimitSetting, SETTINGS, UNLIMITED, settingProblem } from '../../function/contract';
import { CHANNEL_NAME } from '../alerting';
import { IntegrityResponderPropsError, show } from '../errors';
import { MANAGED_BY, RESPONDER_LABEL } from '../labels';
import { allMatch, matches, matchesNone } from '../tokens';
import { lists, watchedForensics } from './playbook-rules';
import { SUPPORTED_RUNTIMES } from './props';
import type { ResolvedProps } from './resolved';

/*
 * The rules a prop's value is checked by, each written once: at synth for a written-out value,
 * and, for the props that may be tokens, as preconditions Terraform evaluates at plan.
 */

const ORGANIZATION_ID = /^[1-9][0-9]{0,19}$/;
const REGION = /^[a-z]+-[a-z]+[0-9]{1,2}$/;
const NAME_PREFIX = /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/;
const NAME_PREFIX_HINT = 'a lowercase letter, then lowercase letters, digits or hyphens, not ending with a hyphen, at most 20 characters';
const LOCATION_ID = /^[a-z][a-z0-9-]{1,40}[a-z0-9]$/;
const LOCATION_ID_HINT = "a Firestore location such as 'us-central1', 'nam5' or 'eur3'";
const BUCKET_NAME = /^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/;
const BUCKET_NAME_HINT = 'a bucket name; set sourceBucketName if the default is too long';
/**
 * A hierarchical firewall policy as the provider's rule resource takes it: the numeric id Google
 * gives the policy, alone or as `locations/global/firewallPolicies/<id>`.
 */
export const FIREWALL_POLICY = /^(?:locations\/global\/firewallPolicies\/)?[1-9][0-9]{0,19}$/;
const FIREWALL_POLICY_HINT = "a hierarchical firewall policy's numeric id, or 'locations/global/firewallPolicies/<id>'";
/** A label key as Google allows it. */
export const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
/** A label value as Google allows it. */
export const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/**
 * The message of a precondition Terraform evaluates at plan: what {@link IntegrityResponderPropsError}
 * says at synth for the construct at `constructPath`, as one sentence.
 */
export function planErrorMessage(detail: string, constructPath: string): string {
  return `${new IntegrityResponderPropsError(detail, constructPath).message}.`;
}

/** What a value of `name` must match, in the words of both the synth error and the plan precondition. */
function mustMatch(name: string, pattern: RegExp, hint?: string): string {
  return `${name} must match ${pattern}${hint ? ` (${hint})` : ''}`;
}

/** Checks a written-out string against a pattern; a token is left to Terraform. */
export function check(name: string, value: string, pattern: RegExp, hint?: string): void {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new IntegrityResponderPropsError(`${mustMatch(name, pattern, hint)}, got ${show(value)}`);
  }
}

/**
 * The props that may be tokens and must match a pattern: checked by {@link checkProp} when
 * written out, by Terraform at plan ({@link planChecks}) when a token.
 */
const PATTERN_PROPS = {
  projectId: { pattern: SETTINGS.projectId.pattern, hint: SETTINGS.projectId.hint },
  region: { pattern: REGION, hint: "a region such as 'us-central1'" },
  namePrefix: { pattern: NAME_PREFIX, hint: NAME_PREFIX_HINT },
  firestoreLocationId: { pattern: LOCATION_ID, hint: LOCATION_ID_HINT },
  sourceBucketName: { pattern: BUCKET_NAME, hint: BUCKET_NAME_HINT },
  scope: { pattern: SETTINGS.scope.pattern, hint: SETTINGS.scope.hint },
  organizationId: { pattern: ORGANIZATION_ID, hint: 'an organization number' },
  forensicsProjectId: { pattern: SETTINGS.projectId.pattern, hint: SETTINGS.projectId.hint },
  quarantineFirewallPolicy: { pattern: FIREWALL_POLICY, hint: FIREWALL_POLICY_HINT },
} as const satisfies Partial<Record<keyof ResolvedProps, { readonly pattern: RegExp; readonly hint: string }>>;

/** Checks a written-out prop of {@link PATTERN_PROPS}; one left out is not checked. */
export function checkProp(r: ResolvedProps, name: keyof typeof PATTERN_PROPS): void {
  const value = r[name];
  if (value !== undefined) check(name, value, PATTERN_PROPS[name].pattern, PATTERN_PROPS[name].hint);
}

/** Checks that a written-out value is one of a list. */
export function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (Token.isUnresolved(value)) return;
  if (!allowed.includes(value)) {
    throw new IntegrityResponderPropsError(`${name} must be one of ${allowed.map(show).join(', ')}, got ${show(value)}`);
  }
}

/** The range of a number prop: a function setting's, or one in the same shape for a prop the function never reads. */
type NumberRange = Omit<IntegerSetting, 'env'> | Omit<LimitSetting, 'env'>;

/**
 * The text of a number prop as the function's variable would hold it (`String`, as the construct
 * writes it), and the word `unlimited` as it is. Any other value has none and is judged as an
 * empty variable, which no integer rule accepts: the text '5' is not the number 5.
 */
function asVariable(value: unknown): string {
  return typeof value === 'number' || value === UNLIMITED ? String(value) : '';
}

/**
 * Checks a written-out number prop by the rule the function checks its settings with
 * ({@link settingProblem}): an integer within the range, or `unlimited` where the range is a limit.
 */
export function integer(name: string, value: unknown, range: NumberRange): void {
  if (Token.isUnresolved(value)) return;
  // settingProblem judges by the kind and the bounds alone; the prop stands for the variable.
  const problem = settingProblem({ ...range, env: name }, asVariable(value));
  if (problem !== undefined) throw new IntegrityResponderPropsError(`${name} ${problem}, got ${show(value)}`);
}

/**
 * The checks the synth-time rules make of written-out values, for the props given as tokens:
 * preconditions Terraform evaluates at plan, each message naming the construct and the prop.
 * Empty when no checked prop is a token.
 */
export function planChecks(r: ResolvedProps, constructPath: string): Precondition[] {
  const message = (detail: string) => planErrorMessage(detail, constructPath);
  const checks: Precondition[] = [];
  const pattern = (name: string, value: string | undefined, re: RegExp, hint: string) => {
    if (value === undefined || !Token.isUnresolved(value)) return;
    checks.push({ condition: matches(re, value), errorMessage: message(mustMatch(name, re, hint)) });
  };
  for (const name of Object.keys(PATTERN_PROPS) as (keyof typeof PATTERN_PROPS)[]) {
    pattern(name, r[name], PATTERN_PROPS[name].pattern, PATTERN_PROPS[name].hint);
  }
  pattern('firestoreDatabaseId', r.firestoreDatabaseId, SETTINGS.firestoreDatabase.pattern, SETTINGS.firestoreDatabase.hint);
  pattern('exemptLabel', r.exemptLabel, SETTINGS.exemptLabel.pattern, SETTINGS.exemptLabel.hint);
  if (Token.isUnresolved(r.baselineCollection)) {
    // The collection id's pattern needs lookahead and 1500 repetitions, which Terraform's regex() lacks: its parts, one by one.
    const { characters, maxLength, reserved } = COLLECTION_ID_PARTS;
    checks.push({
      condition: Op.and(
        Op.and(matches(characters, r.baselineCollection), Op.lte(Fn.lengthOf(r.baselineCollection), maxLength)),
        matchesNone(reserved, r.baselineCollection),
      ),
      errorMessage: message(mustMatch('baselineCollection', SETTINGS.baselineCollection.pattern, SETTINGS.baselineCollection.hint)),
    });
  }
  const enumerated = (name: string, value: string, allowed: readonly string[]) => {
    if (!Token.isUnresolved(value)) return;
    checks.push({
      condition: Fn.contains([...allowed], value),
      errorMessage: message(`${name} must be one of ${allowed.map(show).join(', ')}`),
    });
  };
  enumerated('runtime', r.runtime, SUPPORTED_RUNTIMES);
  // 'warning' and 'error' would drop the decision lines the alert policies count (validate.ts).
  enumerated(
    'logLevel',
    r.logLevel,
    SETTINGS.logLevel.values.filter((l) => l !== 'warning' && l !== 'error'),
  );
  enumerated('staleEventPolicy', r.staleEventPolicy, SETTINGS.staleEventPolicy.values);
  enumerated('enforcement', r.enforcement, SETTINGS.enforcement.values);
  if (Token.isUnresolved(r.notificationChannels)) {
    const channels = [...r.notificationChannels];
    checks.push({
      condition: Op.and(allMatch(CHANNEL_NAME, channels), Op.eq(Fn.lengthOf(Fn.distinct(channels)), Fn.lengthOf(channels))),
      errorMessage: message(`notificationChannels must hold full notification channel names matching ${CHANNEL_NAME}, each once`),
    });
  }
  const forensics = r.forensicsProjectId;
  const watched = lists(r, 'snapshot') && forensics !== undefined ? watchedForensics(r) : undefined;
  if (watched !== undefined && (Token.isUnresolved(forensics) || Token.isUnresolved(watched.project))) {
    checks.push({
      condition: Op.neq(forensics, watched.project),
      errorMessage: message(`forensicsProjectId ${watched.why}`),
    });
  }
  if (Token.isUnresolved(r.labels)) {
    const keys = Token.asList(Fn.keys(r.labels));
    checks.push(
      {
        condition: Op.and(allMatch(LABEL_KEY, keys), allMatch(LABEL_VALUE, Token.asList(Fn.values(r.labels)))),
        errorMessage: message(`labels must have keys matching ${LABEL_KEY} and values matching ${LABEL_VALUE}`),
      },
      {
        condition: Op.not(Op.or(Fn.contains(keys, MANAGED_BY), Fn.contains(keys, RESPONDER_LABEL))),
        errorMessage: message(`labels must not set '${MANAGED_BY}' or '${RESPONDER_LABEL}': the construct sets both on every resource`),
      },
    );
  } else {
    for (const [key, value] of Object.entries(r.labels)) pattern(`labels['${key}']`, value, LABEL_VALUE, 'a label value');
  }
  return checks;
}
