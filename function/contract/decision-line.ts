/*
 * The lines the function writes, one JSON object per event: `severity` and `message`, which Cloud
 * Logging takes for the entry's own, and the fields below, which it keeps as `jsonPayload`. The
 * function writes its lines with these names and values, and the construct builds its metric
 * filters and label extractors from the same ones, so that the two cannot drift apart.
 */

/**
 * Every field of the function's lines, by name. A decision line carries most of them (those that
 * do not apply are left out); a rejected entry carries `rejection` and `detail`, and a failure
 * left to be redelivered carries `retry: true` and `error`.
 */
export const LINE_FIELDS = {
  /** The response mode (`relearn-if-known-good` or `shutdown`). */
  mode: 'mode',
  /** Which report: `earlyBoot` or `lateBoot`. */
  eventKind: 'eventKind',
  /** Whether the report says the policy evaluation passed (for a launch attestation: its integrity evaluation). */
  policyEvaluationPassed: 'policyEvaluationPassed',
  /** The SEV policy bits a Confidential VM's launch-attestation report carries, as written. */
  sevPolicy: 'sevPolicy',
  /** The report's boot counter, canonical. */
  bootCounter: 'bootCounter',
  /** The boot counter as the entry wrote it, where it differs from the canonical one. */
  bootCounterAsWritten: 'bootCounterAsWritten',
  /** Project of the VM the report is about. */
  projectId: 'projectId',
  zone: 'zone',
  /** The VM's name, as Compute Engine answers for its id. */
  instanceName: 'instanceName',
  /** The name the entry's label gives, where Compute Engine did not confirm it. */
  entryInstanceName: 'entryInstanceName',
  /** Numeric id of the VM, decimal. */
  instanceId: 'instanceId',
  /** What was decided: one of {@link DECISIONS}. */
  decision: 'decision',
  /** How a `stop` decision contains the VM: `stop` or `suspend`. */
  containment: 'containment',
  /** `true` in dry-run; absent when enforcing. */
  dryRun: 'dryRun',
  /** Why: one of {@link REASONS}. */
  reason: 'reason',
  /** What would have been done, where nothing was (`stop`, `suspend` or `relearn`). */
  wouldHave: 'wouldHave',
  /** The later boot recorded for the VM, where it superseded a relearn. */
  laterBoot: 'laterBoot',
  /** The boot of the stop decided earlier for the VM, where it refused a relearn. */
  lastStopBoot: 'lastStopBoot',
  lastStopState: 'lastStopState',
  lastStopSettledAs: 'lastStopSettledAs',
  lastStopAt: 'lastStopAt',
  /** The freshness bound a relearn was refused by, seconds. */
  relearnMaxAgeSeconds: 'relearnMaxAgeSeconds',
  /** What the action budget made of a stop or suspend: `counted`, `already-counted` or `exhausted`. */
  budget: 'budget',
  /** On a held action: the window's count, summed over its shards. */
  budgetUsed: 'budgetUsed',
  budgetLimit: 'budgetLimit',
  /** On a counted action: the shard of the window it took its slot in, that shard's count with it, and its share of the limit. */
  budgetShard: 'budgetShard',
  budgetShardUsed: 'budgetShardUsed',
  budgetShardCapacity: 'budgetShardCapacity',
  budgetWindowSeconds: 'budgetWindowSeconds',
  budgetWindow: 'budgetWindow',
  budgetFreesAt: 'budgetFreesAt',
  /** The reason of a decision the action budget held. */
  heldReason: 'heldReason',
  /** `true` on a line after which the event is failed, so that it is redelivered. */
  retry: 'retry',
  /** The exemption label the VM carries, `key=value`. */
  exemptLabel: 'exemptLabel',
  /** Path of the managed instance group the VM's `created-by` names. */
  instanceGroup: 'instanceGroup',
  /** What was done with that group: one of {@link GROUP_ACTIONS}. */
  groupAction: 'groupAction',
  /** The known-good baseline a relearn matched; on the baseline store's own lines, the document they are about. */
  baselineId: 'baselineId',
  /** On the baseline store's line about a document that holds the measurements: why it does not vouch for them. */
  baselineRefused: 'baselineRefused',
  /** Whether Compute Engine answered for the VM's id. */
  instanceFound: 'instanceFound',
  /** How the report relates to the ledger: one of {@link LEDGER_NOTES}. */
  ledger: 'ledger',
  /** The recorded action had already completed: nothing was done again. */
  alreadyDone: 'alreadyDone',
  /** Compute request id of the action. */
  requestId: 'requestId',
  /** Name of the Compute operation. */
  operation: 'operation',
  /** How the action ended: one of {@link OPERATION_STATUSES}. */
  operationStatus: 'operationStatus',
  /**
   * What the containment's playbook did on this delivery, step by step (ADR 0031): a list of
   * `{ step, status, name?, snapshots?, skipped? }`, `step` one of {@link PLAYBOOK_STEPS} and
   * `status` one of {@link STEP_STATUSES}.
   */
  steps: 'steps',
  /** The evidence snapshots of the VM's disks, `projects/<forensics project>/global/snapshots/<name>`. */
  snapshots: 'snapshots',
  /** Name of the finding in Security Command Center raised (or set inactive) for the VM. */
  finding: 'finding',
  /** Firestore reads the baseline lookup took. */
  firestoreReads: 'firestoreReads',
  /** Age of the report when it was handled, seconds. */
  ageSeconds: 'ageSeconds',
  /** The CloudEvent id (the Pub/Sub message id). */
  eventId: 'eventId',
  /** Why an entry was rejected, a code. */
  rejection: 'rejection',
  /** What was wrong with a rejected entry in words; on the baseline store's lines, what went wrong, a code or words. */
  detail: 'detail',
  /** What failed, on a line after which the event is redelivered. */
  error: 'error',
} as const;

/** The name of a field of the function's lines. */
export type LineField = (typeof LINE_FIELDS)[keyof typeof LINE_FIELDS];

/** The values of the `decision` field: what was decided for a report. */
export const DECISIONS = {
  /** Stop or suspend the VM (`containment` says which). */
  stop: 'stop',
  /** Make the VM relearn its integrity policy. */
  relearn: 'relearn',
  /** Nothing is done (`reason` says why). */
  none: 'none',
  /** The report is left to another (an early-boot report in relearn mode). */
  ignore: 'ignore',
  /** Nothing is done, and the line is the alarm (a stale report under `fail-open`). */
  alert: 'alert',
} as const;

/** The values of the `reason` field: why a decision was made. */
export const REASONS = {
  policyPassed: 'policy-passed',
  earlyBootReportInRelearnMode: 'early-boot-report-in-relearn-mode',
  knownGood: 'known-good',
  notKnownGood: 'not-known-good',
  policyFailed: 'policy-failed',
  staleEventFailClosed: 'stale-event-fail-closed',
  staleEventFailOpen: 'stale-event-fail-open',
  conflictingReports: 'conflicting-reports',
  launchAttestationFailed: 'launch-attestation-failed',
  supersededByLaterBoot: 'superseded-by-later-boot',
  relearnWindowPassed: 'relearn-window-passed',
  containmentPending: 'containment-pending',
  unvettedBoot: 'unvetted-boot',
  instanceNotFound: 'instance-not-found',
  instanceReplaced: 'instance-replaced',
  instanceNotRunning: 'instance-not-running',
  olderBoot: 'older-boot',
  exempt: 'exempt',
  budgetExhausted: 'budget-exhausted',
  withdrawnAfterConflict: 'withdrawn-after-conflict',
} as const;

/**
 * The values of the `operationStatus` field: `DONE` when the Compute operation finished, or why
 * nothing was done. A redelivery of a settled action repeats the status it settled with.
 */
export const OPERATION_STATUSES = {
  /** The operation finished without error. */
  done: 'DONE',
  /** Decided and recorded in dry-run: nothing was done to the VM. */
  dryRun: 'dry-run',
  /** Compute Engine has no VM of that id. */
  instanceNotFound: 'instance-not-found',
  /** The VM carries the exemption label. */
  exempt: 'exempt',
  /** The decision became one that does nothing (a relearn refused on a last look). */
  notActed: 'not-acted',
} as const;

/** The values of `step` in the `steps` field: the playbook's steps and what follows them. */
export const PLAYBOOK_STEPS = {
  snapshot: 'snapshot',
  quarantine: 'quarantine',
  /** The finding raised in Security Command Center once the VM is contained. */
  finding: 'finding',
  /** The finding set INACTIVE after the VM was vetted and relearned. */
  findingInactive: 'finding-inactive',
} as const;

/** The values of `status` in the `steps` field. */
export const STEP_STATUSES = {
  /** Done on this delivery. */
  done: 'done',
  /** Recorded done by an earlier delivery: not repeated. */
  alreadyDone: 'already-done',
  /** Dry run: what enforce would do; nothing was called. */
  would: 'would',
  /** Recorded with the decision but no longer configured: the containment went on without it. */
  skipped: 'skipped',
} as const;

/** The values of the `groupAction` field: what was done with the VM's managed instance group. */
export const GROUP_ACTIONS = {
  /** Removed from the group, then contained. */
  abandoned: 'abandoned',
  /** Asked to abandon it, and the group still lists it: the event is redelivered. */
  abandonPending: 'abandon-pending',
  /** Still listed long after the abandon: contained inside the group anyway. */
  abandonTimeout: 'abandon-timeout',
  /** `created-by` names a group that does not list the VM (or lies in another project). */
  notAMember: 'not-a-member',
  /** `instanceGroupAction` is `contain-only`: contained inside the group. */
  containOnly: 'contain-only',
  /** Dry run: a member, which enforce would abandon. */
  wouldAbandon: 'would-abandon',
} as const;

/** The values of the `ledger` field: how a report relates to what the ledger already holds. */
export const LEDGER_NOTES = {
  /** First report about its key. */
  new: 'new',
  /** The same report again (a redelivery, or a copy). */
  repeat: 'repeat',
  /** Another report about the same boot with other measurements. */
  conflict: 'conflict',
  /** A report about an older boot than one already recorded for the VM. */
  olderBoot: 'older-boot',
} as const;
