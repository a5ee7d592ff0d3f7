import type {
  ContainmentStep,
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  LogLevel,
  ResponseMode,
  StaleEventPolicy,
} from '../../function/contract';
import type { ResponderProviders } from '../providers';

// What a user writes: the props with their documentation, from which the reference is generated.
// How the construct checks and completes them is in validate.ts, rules.ts and scope-rules.ts.

/** Default wait between the IAM grants and the resources that use them: propagation takes about two minutes. */
export const DEFAULT_IAM_PROPAGATION_SECONDS = 120;

/** Cloud Run functions runtimes the bundle is built and tested for. */
export const SUPPORTED_RUNTIMES = ['nodejs22', 'nodejs24'] as const;

/** A supported Node.js runtime id. */
export type NodeRuntime = (typeof SUPPORTED_RUNTIMES)[number];

/**
 * Configuration of an {@link IntegrityResponder}.
 *
 * Props a platform team feeds from Terraform (`projectId`, `region`, `namePrefix`, the id in
 * `scope`, `organizationId`, `excludedProjects`, `notificationChannels`, `labels`,
 * `sourceBucketName`, `forensicsProjectId`, the id in `firewallPolicyParent`,
 * `quarantineFirewallPolicy`) may be tokens, e.g. a `TerraformVariable`'s value. What the construct
 * checks at synth for a written-out value, Terraform then checks at plan: a failed check is a
 * resource precondition whose message names the prop. Props that decide what is created
 * (`responseMode`, `failureAction`, `instanceGroupAction`, `containment`, `releasePrincipals`,
 * the booleans) or that the construct
 * computes with (`memoryMib`, `timeoutSeconds`, the other durations, the action budget and
 * `quarantineRulePriority`) must
 * be written out: a token there fails at synth, naming the prop.
 */
export interface IntegrityResponderProps {
  /**
   * Project where the responder's resources are created (the security project), and whose
   * Shielded VMs are watched unless `scope` names another project, a folder or an organization.
   * A Google Cloud project id; a token works.
   */
  readonly projectId: string;

  /**
   * Region of the function, its trigger, the source bucket and the build repository, such as
   * `us-central1`. A token works.
   * @default 'us-central1'
   */
  readonly region?: string;

  /**
   * Prefix of every resource name; give each responder in a stack its own. A lowercase letter,
   * then lowercase letters, digits and hyphens, not ending with a hyphen, at most 20
   * characters: the longest names derived from it (`<namePrefix>-runtime`, a service account id
   * of at most 30 characters; `<namePrefix>-decisions`, a Firestore database id) fit Google's
   * limits only then. A token works and must satisfy the same rule (checked at plan); the
   * custom role ids, which take no hyphen, are then built by Terraform (`replace()`).
   * @default 'integrity-responder'
   */
  readonly namePrefix?: string;

  /**
   * The Terraform providers the responder's resources use. Each one left out is chosen from the
   * stack at synth, so providers declared after the responder count: `google` is the stack's
   * google provider without an alias (synth fails, naming this prop, when there is none, e.g.
   * where every google provider impersonates someone under an alias); `googleBeta` the stack's
   * google-beta provider with the same alias as that google provider; `time` the stack's time
   * provider without an alias. A missing google-beta or time provider is added once per stack
   * and alias, inside the first responder that needs it (so its construct id cannot collide with
   * the stack's), the google-beta one with the google provider's alias and identity settings
   * (credentials, impersonation, billing project); synth then notes it as an info annotation.
   * @default - chosen from the stack as described
   */
  readonly providers?: ResponderProviders;

  /**
   * What to do about a failed integrity report. `relearn-if-known-good` relearns the policy
   * when the late-boot measurements match a known-good baseline and stops the VM otherwise;
   * `shutdown` stops the VM on any failed early- or late-boot report.
   * @default 'relearn-if-known-good'
   */
  readonly responseMode?: ResponseMode;

  /**
   * Cloud Run functions runtime.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;

  /**
   * Upper bound on concurrently running function instances (1–100).
   * @default 3
   */
  readonly maxInstanceCount?: number;

  /**
   * Memory of each function instance, MiB (128–4096).
   * @default 256
   */
  readonly memoryMib?: number;

  /**
   * Events one function instance handles at once (`max_instance_request_concurrency`), an
   * integer from 1 to 1000. Above 1, `availableCpu` must be at least `'1'`: Cloud Run allows
   * concurrency above 1 only with at least one vCPU.
   * @default 1
   */
  readonly maxInstanceRequestConcurrency?: number;

  /**
   * vCPUs of each function instance (`available_cpu`): one of `'0.083'`, `'0.167'`, `'0.333'`,
   * `'0.583'`, `'1'`, `'2'`, `'4'`, `'6'`, `'8'`. Required, and at least `'1'`, when
   * `maxInstanceRequestConcurrency` is above 1. Each value allows a memory range (e.g. `'0.583'`
   * up to 1024 MiB, `'4'` from 2048 MiB, `'6'` and `'8'` only 4096 MiB).
   * @default - not set: the platform derives the CPU from `memoryMib` (0.167 vCPU for 256 MiB)
   */
  readonly availableCpu?: string;

  /**
   * Time one event may take before the platform retries it, seconds (1–540).
   * @default 60
   */
  readonly timeoutSeconds?: number;

  /**
   * Existing Firestore database holding the baselines, e.g. `(default)` for a project set up
   * by the original tutorial. When set, no database is created.
   * @default - a dedicated Native-mode database named `<namePrefix>-baselines` is created (none in the `shutdown` mode, which reads no baselines)
   */
  readonly firestoreDatabaseId?: string;

  /**
   * Location of the dedicated database (a region such as `us-central1` or a multi-region
   * such as `nam5`). Ignored when `firestoreDatabaseId` is set.
   * @default - the value of `region`
   */
  readonly firestoreLocationId?: string;

  /**
   * Whether the dedicated database refuses deletion. Ignored when `firestoreDatabaseId` is set.
   * @default true
   */
  readonly firestoreDeleteProtection?: boolean;

  /**
   * Collection holding the known-good baselines.
   * @default 'known_good_measurements'
   */
  readonly baselineCollection?: string;

  /**
   * The two-person rule for baselines: a baseline matches only once a principal other than the
   * one who recorded it has approved it (`integrity-baselines approve`). The baseline tool then
   * records new baselines as `proposed`, told by a policy document the construct writes into the
   * baseline database (`integrity_responder_policies/<namePrefix>`); the function enforces the
   * rule itself (`BASELINE_APPROVAL=two-person`), and tutorial-format documents, which name no
   * creator or approver, match nothing until imported and approved. Relearn mode only.
   * @default false
   */
  readonly requireBaselineApproval?: boolean;

  /**
   * Name of the bucket holding the function source (globally unique, 3–63 characters). Give it
   * when the default is not a valid bucket name, as for a domain-scoped project id
   * (`example.com:project`); with a token `projectId` or `namePrefix`, the default is checked at
   * plan.
   * @default - `<projectId>-<namePrefix>-src`
   */
  readonly sourceBucketName?: string;

  /**
   * Lowest severity the function logs; `debug` also records every ignored entry. `warning` and
   * `error` are refused: they would drop the decision lines the alert policies count.
   * @default 'debug'
   */
  readonly logLevel?: LogLevel;

  /**
   * Failed reports older than this (by their log timestamp) are no longer vetted against the
   * baselines: `staleEventPolicy` decides. Seconds, 60–604800.
   * @default 3600
   */
  readonly maxEventAgeSeconds?: number;

  /**
   * What to do with a failed report older than `maxEventAgeSeconds`: `fail-closed` stops the
   * VM, `fail-open` only writes a CRITICAL log line. Both log at CRITICAL.
   * @default 'fail-closed'
   */
  readonly staleEventPolicy?: StaleEventPolicy;

  /**
   * A known-good report older than this (by its log timestamp and the time Cloud Logging
   * received it) never relearns: the line says the next boot's report decides. It bounds how
   * long a guest has to reboot into something else before a relearn adopts that boot (ADR 0020).
   * Seconds, 60–3600, at most `maxEventAgeSeconds`.
   * @default - 300, or `maxEventAgeSeconds` where that is lower
   */
  readonly relearnMaxAgeSeconds?: number;

  /**
   * How a VM is contained wherever the responder decides to stop it: `stop` shuts it down;
   * `suspend` (`instances.suspend`) keeps its memory, for forensics. The runtime's custom role
   * holds only the permission of the chosen action.
   * @default 'stop'
   */
  readonly failureAction?: FailureAction;

  /**
   * The containment playbook: the steps taken, in this order, wherever the responder decides to
   * contain a VM (ADR 0031). `snapshot` snapshots every persistent disk of the VM into
   * `forensicsProjectId` before anything changes it; `quarantine` binds a secure tag value that a
   * hierarchical firewall policy denies all traffic to and from; the last step is the stop or
   * suspend of `failureAction`, which the list must end with (a quarantined VM still reaches its
   * metadata server and keeps its established connections). Each step is listed at most once,
   * in that order. The runtime is granted what the listed steps need, and nothing for the others.
   * When `failureAction` is given too, it must be the last step.
   * @default - `[failureAction]`: the stop or suspend alone
   */
  readonly containment?: readonly ContainmentStep[];

  /**
   * Project the `snapshot` step creates the evidence snapshots in, a Google Cloud project id;
   * required with that step, refused without it. The runtime gets a custom role there that
   * creates snapshots, labels them and waits for their operations, and cannot read, list or
   * delete them (`compute.snapshots.useReadOnly` would let it restore the evidence anywhere).
   *
   * Keep it outside the watched scope: a watched project's admins could read or delete the
   * evidence of their own VMs, whoever writes logs there can make the responder act, and the
   * runtime could contain the forensics project's own VMs. The construct refuses the project a
   * project scope watches, and the responder's own project when `watchResponderProject` puts it
   * in a folder or organization scope (checked at plan when either is a token). It cannot see
   * which projects a folder or organization holds: for such a scope, put the forensics project
   * outside it, or list it in `excludedProjects` (the responder's own project is left out
   * already unless `watchResponderProject` is set). A token works.
   * @default - none: required when `containment` lists `snapshot`
   */
  readonly forensicsProjectId?: string;

  /**
   * Days an evidence snapshot is kept: its `integrity-retain-until` label says from which day an
   * operator may delete it (a snapshot has no expiry of its own). 1–3650; `snapshot` step only.
   * @default 90
   */
  readonly snapshotRetentionDays?: number;

  /**
   * Where the hierarchical firewall policy the construct creates for the `quarantine` step is
   * created and associated: `folders/<number>` or `organizations/<number>`, a node above the
   * watched VMs. A project scope has no node of its own (and a policy in the project itself is
   * one its `compute.securityAdmin` edits). For a folder scope, `organizations/<organizationId>`
   * is the place to choose: Google evaluates the organization's policy before any folder's, and
   * an `allow` rule there that matches a quarantined VM ends the evaluation before a folder's
   * deny is reached (cloud.google.com/firewall/docs/firewall-policies-rule-eval-order). An
   * organization scope uses the scope; this prop is refused there, without `quarantine`, and
   * with `quarantineFirewallPolicy`. The id after the slash may be a token.
   *
   * A folder or organization is associated with one hierarchical firewall policy at most
   * (cloud.google.com/firewall/docs/using-firewall-policies): where the node has one already, the
   * association fails at apply. Put the rules into that policy with `quarantineFirewallPolicy`.
   * @default - the scope's folder or organization; `organizations/<organizationId>` for a project scope
   */
  readonly firewallPolicyParent?: string;

  /**
   * An existing hierarchical firewall policy that the `quarantine` step's deny rules go into,
   * such as the one the organization already has associated: its numeric id, or
   * `locations/global/firewallPolicies/<id>`. The construct then creates no policy and no
   * association, only the four rules (deny all ingress and egress, IPv4 and IPv6, to VMs
   * carrying the quarantine tag value), at `quarantineRulePriority` and the three priorities
   * after it. The policy must be associated with the scope's node or a node above it; for a
   * folder scope, choose the organization's policy, which Google evaluates before any folder's.
   * Whoever applies the stack needs to edit that policy's rules
   * (`roles/compute.orgFirewallPolicyAdmin` on it). Refused without `quarantine` and with
   * `firewallPolicyParent`. A token works.
   * @default - none: the construct creates a policy of its own and associates it (`firewallPolicyParent`)
   */
  readonly quarantineFirewallPolicy?: string;

  /**
   * The first of the four consecutive priorities the quarantine's deny rules take in their
   * policy (0 is the highest). In an existing policy (`quarantineFirewallPolicy`) they must be
   * free, and higher than every rule of that policy that could match a quarantined VM's traffic:
   * within a policy only the matching rule of the highest priority applies, so an `allow` above
   * them would let the traffic through. An integer from 0 to 2147483544: Google takes rule
   * priorities up to 2147483547 (cloud.google.com/firewall/docs/firewall-policies-rule-details),
   * and the fourth rule must fit. `quarantine` step only; must be written out.
   * @default 0
   */
  readonly quarantineRulePriority?: number;

  /**
   * Raise a finding in Security Command Center for every VM contained: the construct creates an
   * organization-level source (`<namePrefix>`'s own) and lets the runtime edit findings in it
   * (`roles/securitycenter.findingsEditor` on that source only). The organization is the scope's,
   * or `organizationId` for a folder or project scope.
   * @default false
   */
  readonly raiseFindings?: boolean;

  /**
   * IAM members who list, show and release contained VMs (`integrity-containment list`, `show`
   * and `release`), such as `group:incident-response@example.com`. Requires `quarantine` or
   * `raiseFindings`. Each once, written out. Each gets exactly:
   * - `roles/resourcemanager.tagUser` on the quarantine tag value (with `quarantine`);
   * - `roles/securitycenter.findingsEditor` on the findings source (with `raiseFindings`);
   * - in the responder's project, a custom role (`<namePrefix>_release`) under an IAM condition
   *   naming the decision ledger's database (`<namePrefix>-decisions`), as the runtime's ledger
   *   grant is: `datastore.databases.get`, `datastore.entities.get`, `datastore.entities.list`
   *   and `datastore.entities.update`, to read and query the ledger's documents and update
   *   existing ones to record a release (cloud.google.com/firestore/docs/security/iam). Never
   *   `create` or `delete`, and nothing in the baseline database.
   *
   * With `quarantine` they still need, on the watched projects and from a role of their own,
   * `compute.instances.listTagBindings`, `compute.instances.deleteTagBinding` and
   * `resourcemanager.projects.get`, to find and remove a VM's quarantine binding: the construct
   * grants none of them, since `deleteTagBinding` beside `tagUser` lifts quarantines and where
   * it reaches is yours to choose. The ledger grant covers every document of that database (an
   * IAM condition names a database, not a document), the release policy among them: the
   * two-person rule of `requireReleaseApproval` is kept by the tool, not by IAM.
   *
   * A tag user of the value can lift any quarantine, so each member is someone named or a group
   * of them: `user:`, `group:`, `serviceAccount:` (an automation that runs the release tool),
   * one federated identity (`principal://…`), or a workforce pool's group
   * (`principalSet://iam.googleapis.com/locations/global/workforcePools/<pool>/group/<group>`).
   * `domain:`, every other principal set (a whole pool, an attribute value, every service account
   * of a project or organization), `allUsers` and `allAuthenticatedUsers` are refused: they can
   * hold the watched projects' admins. Name the group of your responders.
   * @default []
   */
  readonly releasePrincipals?: readonly string[];

  /**
   * The two-person rule for releases: a release takes effect only when a principal other than
   * the one who requested it runs it too. The construct writes the policy document the
   * containment tool reads (`integrity_responder_policies/release` in the decision ledger).
   * @default false
   */
  readonly requireReleaseApproval?: boolean;

  /**
   * `enforce` acts on VMs; `dry-run` decides, records in the ledger and logs exactly as
   * `enforce` would (`dryRun: true`, "Dry run: would stop …"), and makes no Compute mutation.
   * The custom role keeps the action permissions in dry-run, so enforcing is one change of the
   * `ENFORCEMENT` variable.
   * @default 'enforce'
   */
  readonly enforcement?: Enforcement;

  /**
   * A GCE label as `key=value`: a VM carrying it is never stopped, suspended or relearned. Its
   * failed reports still log a CRITICAL decision line (reason `exempt`, `wouldHave` the action
   * spared). The function reads every VM (`instances.get`) before acting on it, to see its labels.
   * @default 'integrity-response=exempt'
   */
  readonly exemptLabel?: string;

  /**
   * Where the watched VMs live: `projects/<id>`, `folders/<number>` or `organizations/<number>`.
   * A folder or organization scope covers every project under it, now and later: the log sink
   * is aggregated (`include_children`) and the runtime's Compute role is an organization custom
   * role bound at the folder or organization. The responder's own resources (function,
   * databases, topics) stay in `projectId`, the security project. See docs/adr/0009.
   * The kind must be written out, since it decides which resources are created; the id after
   * the slash may be a token (`folders/${folderId.stringValue}`).
   * @default - `projects/<projectId>`
   */
  readonly scope?: string;

  /**
   * Organization number holding the custom role of a `folders/<number>` scope (IAM has no folder
   * roles), and the quarantine's tag key and the findings source of a folder or project scope.
   * Required for a folder scope, and for a project scope that lists `quarantine` or sets
   * `raiseFindings` (refused for a project scope otherwise); for an organization scope it is the
   * scope's number. A token works.
   * @default - none: required for a folder scope, and for a project scope with `quarantine` or `raiseFindings`; the scope's own number for an organization scope
   */
  readonly organizationId?: string;

  /**
   * Projects of a folder or organization scope the responder never acts on: excluded from the
   * sink, from the runtime's role binding (an IAM condition) and refused by the function. At most
   * {@link MAX_EXCLUDED_PROJECTS} in all, the responder's own project included while it is left
   * out (`watchResponderProject` false, the default): one place fewer then. Project ids, each
   * once, never the responder's own. A list token (e.g. a `list(string)` variable's
   * `listValue`) works: the count, the ids and duplicates are then checked at plan by
   * preconditions on the runtime's role binding, not at synth.
   * @default []
   */
  readonly excludedProjects?: readonly string[];

  /**
   * Whether a folder or organization scope also watches the responder's own project
   * (`projectId`). The function's build identity holds `roles/logging.logWriter` there (Cloud
   * Build writes the build's logs with it), which lets whatever runs in the build write entries
   * that read as integrity reports; so by default that project's integrity log is excluded from
   * the sink, its VMs from the runtime's role binding, and the function refuses its entries. Set
   * it only when the security project holds VMs that nothing else watches, and accept that log
   * writer in the watched scope (docs/adr/0023). A project scope watches the project it names.
   * @default false
   */
  readonly watchResponderProject?: boolean;

  /**
   * Cloud Monitoring notification channels every alert policy notifies, as full names
   * `projects/<project>/notificationChannels/<id>`, each once. Without any, the policies, metrics
   * and dashboard are still created: incidents open in the console and notify nobody. A list
   * token works (its names are then checked at plan), as do tokens among written-out names (a
   * `google_monitoring_notification_channel`'s `id`).
   * @default []
   */
  readonly notificationChannels?: readonly string[];

  /**
   * Deliveries of one event before Pub/Sub gives up and moves it to the dead-letter topic
   * (5–100). With the retry backoff of 10 s doubling to 10 minutes, the default 20 keeps an event
   * retried for about two and a half hours.
   * @default 20
   */
  readonly maxDeliveryAttempts?: number;

  /**
   * What is done with a VM's managed instance group (the group its `created-by` metadata names,
   * confirmed by the group's `listManagedInstances`) before the VM is stopped or suspended.
   * `abandon` removes it from the group first (`abandonInstances`, which lowers the group's
   * target size), so the group cannot recreate it; the runtime role then holds
   * `compute.instanceGroupManagers.get` and `.update`, which also allows changing any group's
   * template or size. `contain-only` stops or suspends the VM inside its group at CRITICAL,
   * naming the group: a group that repairs failed VMs recreates it. See ADR 0010.
   * @default - 'abandon' for a project scope; 'contain-only' for a folder or organization scope, where the group permissions would reach every project below
   */
  readonly instanceGroupAction?: InstanceGroupAction;

  /**
   * Blast-radius limit: at most this many stops or suspends per `actionWindowSeconds`, across
   * the whole responder (counted in the decision ledger, not per function instance). Beyond it a
   * failed VM is left running, its event logs a CRITICAL "action budget exhausted" line and is
   * redelivered until the window frees or an operator resets the budget
   * (`integrity-budget reset`). Relearns and exempt VMs never count. An integer from 1 to
   * 100000, or `'unlimited'` to turn the limit off.
   * @default 50
   */
  readonly maxActionsPerWindow?: number | 'unlimited';

  /**
   * Length of the fixed windows `maxActionsPerWindow` is counted in, seconds (60–604800).
   * @default 3600
   */
  readonly actionWindowSeconds?: number;

  /**
   * Enable the APIs the deployment needs (`google_project_service`, never disabled on
   * destroy). Leave off where a platform team manages APIs centrally.
   * @default false
   */
  readonly enableApis?: boolean;

  /**
   * Seconds to wait after creating the IAM grants and service agents before creating the
   * function and its trigger (a `time_sleep`): Google documents that IAM changes usually take
   * effect within two minutes. 0–600.
   * @default 120
   */
  readonly iamPropagationSeconds?: number;

  /**
   * Labels added to every resource that takes labels (the function, topics, subscriptions,
   * source bucket, build repository; `user_labels` of the alert policies). The construct adds
   * `managed-by=shielded-vm-integrity-responder` and `responder=<namePrefix>` to each, and
   * refuses those keys here. Keys and values as Google allows (lowercase letters, digits, `_`,
   * `-`; a key starts with a letter). A map token works (`Token.asStringMap(variable.value)`):
   * Terraform merges it under the construct's two labels and checks the keys and values at plan.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}
