/*
 * The words the construct, the function and the tools share for each enumerated setting: the
 * type, and the list the construct validates props against and the function validates its
 * environment against.
 */

/** How the responder treats failed reports. */
export type ResponseMode = 'relearn-if-known-good' | 'shutdown';

/** Every mode the handler implements; the construct validates against the same list. */
export const RESPONSE_MODES: readonly ResponseMode[] = ['relearn-if-known-good', 'shutdown'];

/** What to do with a failed report too old to be vetted: stop the VM, or only raise the alarm. */
export type StaleEventPolicy = 'fail-closed' | 'fail-open';

/** Every stale-event policy; the construct validates against the same list. */
export const STALE_EVENT_POLICIES: readonly StaleEventPolicy[] = ['fail-closed', 'fail-open'];

/**
 * How a VM is contained where the decision is `stop`: `stop` shuts it down; `suspend` keeps
 * its memory (and so what ran in it) for forensics.
 */
export type FailureAction = 'stop' | 'suspend';

/** Every containment action; the construct validates against the same list. */
export const FAILURE_ACTIONS: readonly FailureAction[] = ['stop', 'suspend'];

/** Whether the responder acts (`enforce`) or only logs and records what it would do (`dry-run`). */
export type Enforcement = 'enforce' | 'dry-run';

/** Every enforcement; the construct validates against the same list. */
export const ENFORCEMENTS: readonly Enforcement[] = ['enforce', 'dry-run'];

/**
 * What is done to a VM's managed instance group before it is contained: `abandon` removes it
 * from the group first (so the group cannot recreate it); `contain-only` leaves the group alone.
 */
export type InstanceGroupAction = 'abandon' | 'contain-only';

/** Every instance-group action; the construct validates against the same list. */
export const INSTANCE_GROUP_ACTIONS: readonly InstanceGroupAction[] = ['abandon', 'contain-only'];

/**
 * Who must vouch for a baseline before it matches: `none` (an active baseline matches), or
 * `two-person` (it must also carry an approval by a principal other than its creator). The
 * construct's `requireBaselineApproval` sets `two-person`.
 */
export const BASELINE_APPROVALS = ['none', 'two-person'] as const;
export type BaselineApproval = (typeof BASELINE_APPROVALS)[number];

/** Lowest severity written; parsed from `LOG_LEVEL`. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** Levels accepted in `LOG_LEVEL`. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warning', 'error'];
