import { Token } from 'cdktf';
import { DEFAULT_NAME_PREFIX, IntegerSetting, SETTINGS, scopeKindOf } from '../../function/contract';
import { validateNotificationChannels } from '../alerting';
import { IntegrityResponderPropsError, show } from '../errors';
import { MANAGED_BY, MANAGED_BY_VALUE, RESPONDER_LABEL } from '../labels';
import { DEFAULT_IAM_PROPAGATION_SECONDS, IntegrityResponderProps, SUPPORTED_RUNTIMES } from './props';
import type { ResolvedProps } from './resolved';
import { QUARANTINE_RULE_PRIORITY, playbookOf, playbookProps } from './playbook-rules';
import { LABEL_KEY, LABEL_VALUE, check, checkProp, integer, oneOf } from './rules';
import { scopeProps } from './scope-rules';

/**
 * Ranges and defaults of the number props the function never reads (those it reads are its
 * {@link SETTINGS}), in the settings' shape, so that one rule checks both.
 */
const SIZES = {
  maxInstanceCount: { kind: 'integer', min: 1, max: 100, default: 3 },
  memoryMib: { kind: 'integer', min: 128, max: 4096, default: 256 },
  maxInstanceRequestConcurrency: { kind: 'integer', min: 1, max: 1000, default: 1 },
  timeoutSeconds: { kind: 'integer', min: 1, max: 540, default: 60 },
  iamPropagationSeconds: { kind: 'integer', min: 0, max: 600, default: DEFAULT_IAM_PROPAGATION_SECONDS },
  maxDeliveryAttempts: { kind: 'integer', min: 5, max: 100, default: 20 },
} as const satisfies Partial<Record<keyof IntegrityResponderProps, Omit<IntegerSetting, 'env'>>>;

function boolean(name: string, value: unknown): void {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'boolean') throw new IntegrityResponderPropsError(`${name} must be true or false, got ${show(value)}`);
}

const DECIDES_RESOURCES = 'it decides which resources the construct creates';
const COMPUTED_WITH = 'the construct computes other settings from it';
/**
 * Props a token cannot stand for, and why: the construct decides at synth what to create from
 * them, or computes with them (a number token is an opaque placeholder until Terraform runs).
 */
const WRITTEN_OUT: Partial<Record<keyof IntegrityResponderProps, string>> = {
  responseMode: DECIDES_RESOURCES,
  failureAction: "it decides the runtime role's permissions",
  instanceGroupAction: "it decides the runtime role's permissions",
  enableApis: DECIDES_RESOURCES,
  requireBaselineApproval: DECIDES_RESOURCES,
  watchResponderProject: 'it decides which projects the sink and the role binding leave out',
  firestoreDeleteProtection: "it decides the databases' delete protection setting",
  memoryMib: COMPUTED_WITH,
  timeoutSeconds: COMPUTED_WITH,
  maxEventAgeSeconds: COMPUTED_WITH,
  relearnMaxAgeSeconds: COMPUTED_WITH,
  maxActionsPerWindow: COMPUTED_WITH,
  actionWindowSeconds: COMPUTED_WITH,
  iamPropagationSeconds: COMPUTED_WITH,
  containment: DECIDES_RESOURCES,
  raiseFindings: DECIDES_RESOURCES,
  releasePrincipals: 'it decides which grants the construct creates',
  requireReleaseApproval: DECIDES_RESOURCES,
  quarantineRulePriority: COMPUTED_WITH,
};

/**
 * vCPU values Cloud Run functions accepts for `available_cpu`, and the memory range (MiB, within
 * this construct's 128–4096) each allows. Google documents that concurrency above 1 needs at
 * least 1 vCPU ("If you use less than 1 CPU … Maximum concurrency must be set to 1",
 * https://cloud.google.com/run/docs/configuring/services/cpu) and recommends starting
 * concurrency at 8 (https://cloud.google.com/functions/docs/configuring/concurrency); the
 * memory-to-CPU tiers (128 MiB .083, 256 MiB .167, 512 MiB .333, 1 GiB .583, 2 GiB 1 vCPU; 1 vCPU
 * up to 4 GiB; 4 vCPU from 2 GiB; 6 and 8 vCPU from 4 GiB) are from
 * https://cloud.google.com/functions/docs/configuring/memory and
 * https://cloud.google.com/run/docs/configuring/services/memory-limits.
 */
const AVAILABLE_CPUS: Readonly<Record<string, { readonly minMemoryMib: number; readonly maxMemoryMib: number }>> = {
  '0.083': { minMemoryMib: 128, maxMemoryMib: 128 },
  '0.167': { minMemoryMib: 128, maxMemoryMib: 256 },
  '0.333': { minMemoryMib: 128, maxMemoryMib: 512 },
  '0.583': { minMemoryMib: 128, maxMemoryMib: 1024 },
  '1': { minMemoryMib: 128, maxMemoryMib: 4096 },
  '2': { minMemoryMib: 128, maxMemoryMib: 4096 },
  '4': { minMemoryMib: 2048, maxMemoryMib: 4096 },
  '6': { minMemoryMib: 4096, maxMemoryMib: 4096 },
  '8': { minMemoryMib: 4096, maxMemoryMib: 4096 },
};

/** Checks concurrency, vCPUs and memory together: each vCPU value allows a memory range, and concurrency above 1 needs a whole vCPU. */
function sizing(r: ResolvedProps): void {
  integer('maxInstanceRequestConcurrency', r.maxInstanceRequestConcurrency, SIZES.maxInstanceRequestConcurrency);
  const cpu = r.availableCpu;
  if (cpu !== undefined && !Token.isUnresolved(cpu)) {
    // Listed by size: a Record puts the integer-like keys ('1', '2', …) first.
    oneOf(
      'availableCpu',
      cpu,
      Object.keys(AVAILABLE_CPUS).sort((a, b) => Number(a) - Number(b)),
    );
    const { minMemoryMib, maxMemoryMib } = AVAILABLE_CPUS[cpu]!;
    if (!Token.isUnresolved(r.memoryMib) && (r.memoryMib < minMemoryMib || r.memoryMib > maxMemoryMib)) {
      throw new IntegrityResponderPropsError(
        `availableCpu ${show(cpu)} allows memoryMib from ${minMemoryMib} to ${maxMemoryMib}, got ${show(r.memoryMib)}`,
      );
    }
  }
  if (Token.isUnresolved(r.maxInstanceRequestConcurrency) || r.maxInstanceRequestConcurrency <= 1) return;
  if (cpu === undefined || (!Token.isUnresolved(cpu) && Number(cpu) < 1)) {
    throw new IntegrityResponderPropsError(
      `maxInstanceRequestConcurrency ${r.maxInstanceRequestConcurrency} needs availableCpu of at least '1' ` +
        `(Cloud Run allows concurrency above 1 only with 1 vCPU or more), got ${cpu === undefined ? 'none' : show(cpu)}`,
    );
  }
}

/** Applies the defaults documented on {@link IntegrityResponderProps} and validates the result. */
export function resolveProps(props: IntegrityResponderProps): ResolvedProps {
  if (props.projectId === undefined || props.projectId === '') {
    throw new IntegrityResponderPropsError(
      'projectId is required: the project whose Shielded VMs are watched and where the responder is created',
    );
  }
  for (const [name, why] of Object.entries(WRITTEN_OUT) as [keyof IntegrityResponderProps, string][]) {
    if (Token.isUnresolved(props[name])) {
      throw new IntegrityResponderPropsError(`${name} must be written out, not a Terraform value: ${why}`);
    }
  }
  // Checked before the defaults: `??` would turn a null into the default silently.
  for (const name of [
    'enableApis',
    'firestoreDeleteProtection',
    'requireBaselineApproval',
    'watchResponderProject',
    'raiseFindings',
    'requireReleaseApproval',
  ] as const) {
    if (props[name] !== undefined) boolean(name, props[name]);
  }
  if (props.labels !== undefined && (typeof props.labels !== 'object' || props.labels === null || Array.isArray(props.labels))) {
    throw new IntegrityResponderPropsError(`labels must be a map of label keys to values, got ${show(props.labels)}`);
  }
  // The playbook decides the failure action when it is given: checked first, so that a wrong action is named as such.
  if (props.failureAction !== undefined) oneOf('failureAction', props.failureAction, SETTINGS.failureAction.values);
  const playbook = playbookOf(props.containment, props.failureAction, SETTINGS.failureAction.default);
  const steps = playbook.containment.map((s) => `'${s}'`).join(', ');
  if (props.snapshotRetentionDays !== undefined && !playbook.containment.includes('snapshot')) {
    throw new IntegrityResponderPropsError(`snapshotRetentionDays applies to the 'snapshot' step only; containment is [${steps}]`);
  }
  if (props.quarantineRulePriority !== undefined && !playbook.containment.includes('quarantine')) {
    throw new IntegrityResponderPropsError(`quarantineRulePriority applies to the 'quarantine' step only; containment is [${steps}]`);
  }
  const region = props.region ?? 'us-central1';
  const namePrefix = props.namePrefix ?? DEFAULT_NAME_PREFIX;
  const r: ResolvedProps = {
    projectId: props.projectId,
    region,
    namePrefix,
    responseMode: props.responseMode ?? SETTINGS.responseMode.default,
    runtime: props.runtime ?? 'nodejs24',
    maxInstanceCount: props.maxInstanceCount ?? SIZES.maxInstanceCount.default,
    memoryMib: props.memoryMib ?? SIZES.memoryMib.default,
    maxInstanceRequestConcurrency: props.maxInstanceRequestConcurrency ?? SIZES.maxInstanceRequestConcurrency.default,
    ...(props.availableCpu !== undefined && { availableCpu: props.availableCpu }),
    timeoutSeconds: props.timeoutSeconds ?? SIZES.timeoutSeconds.default,
    ...(props.firestoreDatabaseId !== undefined && { firestoreDatabaseId: props.firestoreDatabaseId }),
    firestoreLocationId: props.firestoreLocationId ?? region,
    firestoreDeleteProtection: props.firestoreDeleteProtection ?? true,
    baselineCollection: props.baselineCollection ?? SETTINGS.baselineCollection.default!,
    requireBaselineApproval: props.requireBaselineApproval ?? false,
    sourceBucketName: props.sourceBucketName ?? `${props.projectId}-${namePrefix}-src`,
    logLevel: props.logLevel ?? SETTINGS.logLevel.default,
    maxEventAgeSeconds: props.maxEventAgeSeconds ?? SETTINGS.maxEventAgeSeconds.default,
    staleEventPolicy: props.staleEventPolicy ?? SETTINGS.staleEventPolicy.default,
    relearnMaxAgeSeconds:
      props.relearnMaxAgeSeconds ??
      (props.maxEventAgeSeconds === undefined || Token.isUnresolved(props.maxEventAgeSeconds)
        ? SETTINGS.relearnMaxAgeSeconds.default
        : Math.min(SETTINGS.relearnMaxAgeSeconds.default, props.maxEventAgeSeconds)),
    failureAction: playbook.failureAction,
    containment: playbook.containment,
    ...(props.forensicsProjectId !== undefined && { forensicsProjectId: props.forensicsProjectId }),
    snapshotRetentionDays: props.snapshotRetentionDays ?? SETTINGS.snapshotRetentionDays.default,
    ...(props.firewallPolicyParent !== undefined && { firewallPolicyParent: props.firewallPolicyParent }),
    ...(props.quarantineFirewallPolicy !== undefined && { quarantineFirewallPolicy: props.quarantineFirewallPolicy }),
    quarantineRulePriority: props.quarantineRulePriority ?? QUARANTINE_RULE_PRIORITY.default,
    raiseFindings: props.raiseFindings ?? false,
    releasePrincipals: props.releasePrincipals ?? [],
    requireReleaseApproval: props.requireReleaseApproval ?? false,
    enforcement: props.enforcement ?? SETTINGS.enforcement.default,
    exemptLabel: props.exemptLabel ?? SETTINGS.exemptLabel.default!,
    scope: props.scope ?? `projects/${props.projectId}`,
    ...(props.organizationId !== undefined && { organizationId: props.organizationId }),
    excludedProjects: props.excludedProjects ?? [],
    watchResponderProject: props.watchResponderProject ?? false,
    maxDeliveryAttempts: props.maxDeliveryAttempts ?? SIZES.maxDeliveryAttempts.default,
    notificationChannels: props.notificationChannels ?? [],
    // Abandoning needs `compute.instanceGroupManagers.update`, which also allows retemplating or
    // resizing a group: across a folder or organization that is opt-in (ADR 0010).
    instanceGroupAction:
      props.instanceGroupAction ??
      (scopeKindOf(props.scope ?? 'projects/')?.kind === 'project' ? SETTINGS.instanceGroupAction.default : 'contain-only'),
    maxActionsPerWindow: props.maxActionsPerWindow ?? SETTINGS.maxActionsPerWindow.default,
    actionWindowSeconds: props.actionWindowSeconds ?? SETTINGS.actionWindowSeconds.default,
    enableApis: props.enableApis ?? false,
    iamPropagationSeconds: props.iamPropagationSeconds ?? SIZES.iamPropagationSeconds.default,
    labels: props.labels ?? {},
  };
  checkProp(r, 'projectId');
  checkProp(r, 'region');
  checkProp(r, 'namePrefix');
  oneOf('responseMode', r.responseMode, SETTINGS.responseMode.values);
  oneOf('runtime', r.runtime, SUPPORTED_RUNTIMES);
  integer('maxInstanceCount', r.maxInstanceCount, SIZES.maxInstanceCount);
  integer('memoryMib', r.memoryMib, SIZES.memoryMib);
  sizing(r);
  integer('timeoutSeconds', r.timeoutSeconds, SIZES.timeoutSeconds);
  if (r.firestoreDatabaseId !== undefined) {
    check('firestoreDatabaseId', r.firestoreDatabaseId, SETTINGS.firestoreDatabase.pattern, SETTINGS.firestoreDatabase.hint);
  }
  checkProp(r, 'firestoreLocationId');
  if (MANAGED_BY in r.labels) {
    throw new IntegrityResponderPropsError(
      `labels must not set '${MANAGED_BY}': the construct sets it to '${MANAGED_BY_VALUE}' on every resource`,
    );
  }
  if (RESPONDER_LABEL in r.labels) {
    throw new IntegrityResponderPropsError(
      `labels must not set '${RESPONDER_LABEL}': the construct sets it to the namePrefix on every resource, which tells two responders apart`,
    );
  }
  check('baselineCollection', r.baselineCollection, SETTINGS.baselineCollection.pattern, SETTINGS.baselineCollection.hint);
  if (r.requireBaselineApproval && r.responseMode !== 'relearn-if-known-good') {
    throw new IntegrityResponderPropsError(
      `requireBaselineApproval applies to responseMode 'relearn-if-known-good' only: the '${r.responseMode}' mode reads no baselines`,
    );
  }
  checkProp(r, 'sourceBucketName');
  oneOf('logLevel', r.logLevel, SETTINGS.logLevel.values);
  integer('maxEventAgeSeconds', r.maxEventAgeSeconds, SETTINGS.maxEventAgeSeconds);
  oneOf('staleEventPolicy', r.staleEventPolicy, SETTINGS.staleEventPolicy.values);
  integer('relearnMaxAgeSeconds', r.relearnMaxAgeSeconds, SETTINGS.relearnMaxAgeSeconds);
  if (
    !Token.isUnresolved(r.relearnMaxAgeSeconds) &&
    !Token.isUnresolved(r.maxEventAgeSeconds) &&
    r.relearnMaxAgeSeconds > r.maxEventAgeSeconds
  ) {
    throw new IntegrityResponderPropsError(
      `relearnMaxAgeSeconds must be at most maxEventAgeSeconds (${r.maxEventAgeSeconds}), got ${r.relearnMaxAgeSeconds}: a report too old to be vetted cannot be fresh enough to relearn`,
    );
  }
  oneOf('failureAction', r.failureAction, SETTINGS.failureAction.values);
  oneOf('enforcement', r.enforcement, SETTINGS.enforcement.values);
  check('exemptLabel', r.exemptLabel, SETTINGS.exemptLabel.pattern, SETTINGS.exemptLabel.hint);
  oneOf('instanceGroupAction', r.instanceGroupAction, SETTINGS.instanceGroupAction.values);
  integer('maxActionsPerWindow', r.maxActionsPerWindow, SETTINGS.maxActionsPerWindow);
  integer('actionWindowSeconds', r.actionWindowSeconds, SETTINGS.actionWindowSeconds);
  integer('iamPropagationSeconds', r.iamPropagationSeconds, SIZES.iamPropagationSeconds);
  scopeProps(r);
  checkProp(r, 'forensicsProjectId');
  checkProp(r, 'quarantineFirewallPolicy');
  integer('snapshotRetentionDays', r.snapshotRetentionDays, SETTINGS.snapshotRetentionDays);
  integer('quarantineRulePriority', r.quarantineRulePriority, QUARANTINE_RULE_PRIORITY);
  playbookProps(r);
  integer('maxDeliveryAttempts', r.maxDeliveryAttempts, SIZES.maxDeliveryAttempts);
  const channels = validateNotificationChannels(r.notificationChannels);
  if (channels !== undefined) throw new IntegrityResponderPropsError(channels);
  if (!Token.isUnresolved(r.logLevel) && (r.logLevel === 'warning' || r.logLevel === 'error')) {
    throw new IntegrityResponderPropsError(
      `logLevel '${r.logLevel}' would drop the decision lines the alert policies count (relearns are NOTICE, stops WARNING); use 'notice' or lower`,
    );
  }
  // A map token has one made-up key: Terraform checks the real ones (planChecks).
  if (!Token.isUnresolved(r.labels)) {
    for (const [key, value] of Object.entries(r.labels)) {
      check(`labels key`, key, LABEL_KEY);
      check(`labels['${key}']`, value, LABEL_VALUE);
    }
  }
  return r;
}
