import type { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import type { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import type { FirestoreDocument } from '@cdktf/provider-google/lib/firestore-document';
import type { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import type { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import type { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import type { Sleep } from '@cdktf/provider-time/lib/sleep';
import { Aspects, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import type { ComputeFirewallPolicy } from '@cdktf/provider-google/lib/compute-firewall-policy';
import type { ComputeFirewallPolicyRule } from '@cdktf/provider-google/lib/compute-firewall-policy-rule';
import type { SccV2OrganizationSource } from '@cdktf/provider-google/lib/scc-v2-organization-source';
import type { TagsTagValue } from '@cdktf/provider-google/lib/tags-tag-value';
import type { ContainmentStep, EvidenceStep } from '../function/contract';
import { ResponderAlerting } from './alerting';
import { deployFunction, functionNameOf, stageSource } from './cloud-function';
import { createDatabases } from './databases';
import { Delivery, deliver, eventTopic } from './delivery';
import { IntegrityResponderPropsError } from './errors';
import { loadFunctionBundle } from './function-bundle';
import { awaitPropagation, createIdentities, createPubsubAgent } from './identities';
import { responderLabels } from './labels';
import type {
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  IntegrityResponderProps,
  LogLevel,
  ResponseMode,
  ResolvedProps,
} from './props';
import { EVIDENCE_SCOPE_PERMISSIONS, createPlaybook } from './playbook';
import { evidenceStepsOf } from './props/playbook-rules';
import { planChecks } from './props/rules';
import { resolveProps } from './props';
import { ProviderAssignment, ResponderProviders, providersProblem } from './providers';
import { InstanceRole, IntegritySink, excludedProjectsSetting, exclusionsOf, exportScope, grantScope } from './scope';

/**
 * Compute Engine permissions the handler uses in each mode, and nothing else: every call
 * names the instance by its numeric id, so no `list` is needed; `zoneOperations.get` lets it
 * wait for the operation it started. The containment permission is that of the chosen
 * `failureAction` only (`instances.stop` or `instances.suspend`). Every mode reads an instance
 * (`instances.get`) before acting on it, for its exemption label (and, before a relearn, to
 * confirm it); only the relearn mode changes its integrity policy. A dry-run responder holds
 * the same permissions, so that enforcing is one change of its `ENFORCEMENT` variable.
 * With `instanceGroupAction` `abandon`, a member of a managed instance group is removed from it
 * before it is contained: `instanceGroupManagers.get` for `listManagedInstances` (the proof of
 * membership) and `instanceGroupManagers.update` for `abandonInstances`, zonal and regional
 * groups alike; nothing waits on the group's operation (see ADR 0010). The evidence steps of a
 * containment playbook add theirs ({@link EVIDENCE_SCOPE_PERMISSIONS}, ADR 0031).
 */
export function computePermissionsFor(
  mode: ResponseMode,
  action: FailureAction = 'stop',
  groupAction: InstanceGroupAction = 'abandon',
  evidence: readonly EvidenceStep[] = [],
): string[] {
  const contain = [`compute.instances.${action}`, 'compute.instances.get', 'compute.zoneOperations.get'];
  if (groupAction === 'abandon') contain.push('compute.instanceGroupManagers.get', 'compute.instanceGroupManagers.update');
  for (const step of evidence) contain.push(...EVIDENCE_SCOPE_PERMISSIONS[step]);
  return mode === 'relearn-if-known-good' ? [...contain, 'compute.instances.setShieldedInstanceIntegrityPolicy'].sort() : contain.sort();
}

/** Description of the runtime's Compute role: what {@link computePermissionsFor} allows, in words. */
function instanceRoleDescription(p: ResolvedProps): string {
  const contain = p.failureAction === 'suspend' ? 'Suspend' : 'Stop';
  const abandonNote =
    p.instanceGroupAction === 'abandon' ? ' Remove it from its managed instance group first (list the members, abandon it).' : '';
  const steps = evidenceStepsOf(p.containment);
  const playbookNote =
    steps.length === 0
      ? ''
      : ` Before that, ${steps.map((s) => (s === 'snapshot' ? 'snapshot its disks into the forensics project' : 'bind the quarantine tag')).join(', then ')}.`;
  return p.responseMode === 'relearn-if-known-good'
    ? `${contain} a Shielded VM or make it relearn its integrity policy, by instance id; read it before acting (exemption label, relearn check); wait for the operation.${abandonNote}${playbookNote}`
    : `${contain} a Shielded VM by instance id; read it before acting (exemption label); wait for the operation.${abandonNote}${playbookNote}`;
}

/** APIs the deployment needs; enabled by the construct only when `enableApis` is set. */
export const REQUIRED_APIS: readonly string[] = [
  'artifactregistry.googleapis.com',
  'cloudbuild.googleapis.com',
  'cloudfunctions.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'compute.googleapis.com',
  'firestore.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
  'monitoring.googleapis.com',
  'pubsub.googleapis.com',
  'run.googleapis.com',
  'storage.googleapis.com',
];

/** The API findings are raised through; enabled with `enableApis` when `raiseFindings` is set. */
export const FINDINGS_API = 'securitycenter.googleapis.com';

const prefixesByStack = new WeakMap<TerraformStack, Set<string>>();

/**
 * Makes a project's Shielded VMs respond to their own integrity-monitoring failures.
 *
 * A log sink (of a project, or aggregated over a folder or organization) exports
 * `shielded_vm_integrity` entries to a Pub/Sub topic; a push subscription with retry backoff and
 * a dead-letter topic delivers each to a Gen2 Cloud Run function that relearns the integrity policy when the late-boot
 * measurements match a known-good baseline in Firestore, and stops the VM otherwise.
 *
 * Its resources use the providers given in `providers`, or else those of the stack it is in,
 * chosen when the stack is synthesized: the stack's `google` provider without an alias (synth
 * fails, naming `providers.google`, when there is none), and its `google-beta` and `time`
 * providers. A missing `google-beta` or `time` provider is added, once per stack (and alias),
 * the `google-beta` one with the identity settings of the `google` provider in use; synth notes
 * it as an info annotation. See {@link IntegrityResponderProps.providers}.
 */
export class IntegrityResponder extends Construct {
  /** Topic the sink publishes integrity log entries to. */
  public readonly topic: PubsubTopic;
  /** Log sink exporting the integrity entries of the scope: a project, folder or organization sink. */
  public readonly sink: IntegritySink;
  /** The push subscription delivering events to the function, its dead-letter topic and that topic's subscription. */
  public readonly delivery: Delivery;
  /** Log-based metrics of the decision lines, the alert policies and the dashboard. */
  public readonly alerting: ResponderAlerting;
  /** `projects/<id>`, `folders/<number>` or `organizations/<number>`: where the watched VMs live. */
  public readonly scope: string;
  /** Bucket holding the function source. */
  public readonly sourceBucket: StorageBucket;
  /** The uploaded function source (named after its content hash). */
  public readonly sourceObject: StorageBucketObject;
  /** Artifact Registry repository the function's container image is built into. */
  public readonly buildRepository: ArtifactRegistryRepository;
  /** The Gen2 Cloud Run function. */
  public readonly function: Cloudfunctions2Function;
  /** Identity the function runs as. */
  public readonly runtimeServiceAccount: ServiceAccount;
  /** Identity whose OIDC token Pub/Sub presents when it pushes an event to the function. */
  public readonly triggerServiceAccount: ServiceAccount;
  /** Identity the function's Cloud Build runs as. */
  public readonly buildServiceAccount: ServiceAccount;
  /**
   * Custom role holding exactly the Compute permissions of the response mode ({@link computePermissionsFor}):
   * a project role for a project scope, an organization role for a folder or organization scope.
   */
  public readonly instanceRole: InstanceRole;
  /**
   * With `requireBaselineApproval`, the policy document telling the baseline tool that new
   * baselines start `proposed`; undefined otherwise.
   */
  public readonly baselinePolicy?: FirestoreDocument;
  /** The dedicated baseline database; undefined when `firestoreDatabaseId` names an existing one, and in the shutdown mode. */
  public readonly database?: FirestoreDatabase;
  /** Id of the Firestore database the function reads baselines from. */
  public readonly databaseId: string;
  /** The decision ledger: every acted-on report, written before the action. */
  public readonly ledgerDatabase: FirestoreDatabase;
  /** Id of {@link IntegrityResponder.ledgerDatabase}. */
  public readonly ledgerDatabaseId: string;
  /** Custom role of the ledger: read, create and update documents; no delete. */
  public readonly ledgerRole: ProjectIamCustomRole;
  /** The wait between the grants (and service agents) and the function that relies on them. */
  public readonly iamPropagation: Sleep;
  /** Collection holding the known-good baselines. */
  public readonly baselineCollection: string;
  /** Response mode the function runs in. */
  public readonly responseMode: ResponseMode;
  /** Log level of the function. */
  public readonly logLevel: LogLevel;
  /** How a VM the function decides to stop is contained: `stop` or `suspend`. */
  public readonly failureAction: FailureAction;
  /** `enforce`, or `dry-run` (decisions recorded and logged, no Compute mutation). */
  public readonly enforcement: Enforcement;
  /** `key=value` of the label that exempts a VM from every action. */
  public readonly exemptLabel: string;
  /** `abandon` (a managed instance group's member leaves it before containment) or `contain-only`. */
  public readonly instanceGroupAction: InstanceGroupAction;
  /** The containment playbook: the evidence steps, then {@link failureAction}. */
  public readonly containment: readonly ContainmentStep[];
  /** With the `snapshot` step, the custom role the runtime holds in the forensics project. */
  public readonly evidenceRole?: ProjectIamCustomRole;
  /** With the `quarantine` step, the secure tag value bound to a contained VM. */
  public readonly quarantineTagValue?: TagsTagValue;
  /**
   * With the `quarantine` step, the hierarchical firewall policy created for its rules;
   * undefined with `quarantineFirewallPolicy`, whose existing policy takes them.
   */
  public readonly quarantinePolicy?: ComputeFirewallPolicy;
  /** With the `quarantine` step, the four rules denying the tagged VMs all traffic; empty otherwise. */
  public readonly quarantineRules: readonly ComputeFirewallPolicyRule[];
  /** With `raiseFindings`, the Security Command Center source the findings are raised in. */
  public readonly findingsSource?: SccV2OrganizationSource;
  /** With `requireReleaseApproval`, the release policy document in the decision ledger. */
  public readonly releasePolicy?: FirestoreDocument;
  /**
   * With `releasePrincipals`, the custom role each release principal holds on the decision
   * ledger's database alone: read, query and update its documents, never create or delete one.
   */
  public readonly releaseRole?: ProjectIamCustomRole;

  constructor(scope: Construct, id: string, props: IntegrityResponderProps) {
    super(scope, id);
    const p: ResolvedProps = this.resolve(props);
    this.claimPrefix(p.namePrefix);
    this.useProviders(props.providers);
    const bundle = loadFunctionBundle();
    const project = p.projectId;
    this.responseMode = p.responseMode;
    this.logLevel = p.logLevel;
    this.failureAction = p.failureAction;
    this.enforcement = p.enforcement;
    this.exemptLabel = p.exemptLabel;
    this.instanceGroupAction = p.instanceGroupAction;
    this.containment = p.containment;
    this.baselineCollection = p.baselineCollection;
    this.scope = p.scope;

    const apis = this.enableApis(p);
    const dependsOn = apis.length > 0 ? apis : undefined;
    const labels = responderLabels(p.labels, p.namePrefix);
    // Props given as Terraform values are checked by Terraform, before anything is planned.
    const preconditions = planChecks(p, this.node.path);
    this.topic = eventTopic(this, { project, namePrefix: p.namePrefix, labels, dependsOn, preconditions });

    const identities = createIdentities(this, project, p.namePrefix, dependsOn);
    this.runtimeServiceAccount = identities.runtime;
    this.triggerServiceAccount = identities.trigger;
    this.buildServiceAccount = identities.build;
    const runtimeMember = `serviceAccount:${identities.runtime.email}`;

    // The runtime's Compute role where the VMs live. The sink that feeds the topic comes last.
    const exclusions = exclusionsOf(p);
    const access = grantScope(this, {
      props: p,
      exclusions,
      runtimeMember,
      description: instanceRoleDescription(p),
      permissions: computePermissionsFor(p.responseMode, p.failureAction, p.instanceGroupAction, evidenceStepsOf(p.containment)),
      dependsOn,
    });
    this.instanceRole = access.instanceRole;

    const databases = createDatabases(this, { props: p, runtimeMember, apis, dependsOn });
    this.database = databases.baselineDatabase;
    this.databaseId = databases.baselineDatabaseId;
    this.baselinePolicy = databases.baselinePolicy;
    this.ledgerDatabase = databases.ledgerDatabase;
    this.ledgerDatabaseId = databases.ledgerDatabaseId;
    this.ledgerRole = databases.ledgerRole;

    const playbook = createPlaybook(this, {
      props: p,
      runtimeMember,
      ledgerDatabaseId: databases.ledgerDatabaseId,
      ledgerDatabase: databases.ledgerDatabase,
      dependsOn,
    });
    this.evidenceRole = playbook.evidenceRole;
    this.quarantineTagValue = playbook.quarantineTagValue;
    this.quarantinePolicy = playbook.quarantinePolicy;
    this.quarantineRules = playbook.quarantineRules;
    this.findingsSource = playbook.findingsSource;
    this.releasePolicy = playbook.releasePolicy;
    this.releaseRole = playbook.releaseRole;

    const source = stageSource(this, { props: p, bundle, buildServiceAccount: identities.build, labels, dependsOn });
    this.sourceBucket = source.bucket;
    this.sourceObject = source.object;
    this.buildRepository = source.repository;

    const pubsubAgent = createPubsubAgent(this, project, identities.trigger, dependsOn);
    // Everything that uses a grant or a service agent waits for them here.
    this.iamPropagation = awaitPropagation(this, p.iamPropagationSeconds, [
      access.instanceGrant,
      ...databases.grants,
      ...source.grants,
      ...pubsubAgent.grants,
      ...playbook.grants,
    ]);

    const deployed = deployFunction(this, {
      props: p,
      bundle,
      source,
      identities,
      labels,
      baselineDatabaseId: this.databaseId,
      ledgerDatabaseId: this.ledgerDatabaseId,
      excludedProjects: excludedProjectsSetting(exclusions),
      playbook: playbook.settings,
      // After the wait for every grant and service agent, and once the databases exist.
      dependsOn: [...apis, this.iamPropagation, this.ledgerDatabase, ...(this.database ? [this.database] : [])],
    });
    this.function = deployed.function;
    // Deliveries refused while the invoker grant propagates are retried with backoff.
    this.delivery = deliver(this, {
      project,
      namePrefix: p.namePrefix,
      labels,
      topic: this.topic,
      endpoint: this.function.serviceConfig.uri,
      pushServiceAccountEmail: identities.trigger.email,
      pubsubAgentMember: pubsubAgent.member,
      ackDeadlineSeconds: Math.max(10, p.timeoutSeconds),
      maxDeliveryAttempts: p.maxDeliveryAttempts,
      dependsOn,
      subscriptionDependsOn: [deployed.invoker],
    });
    // The sink starts exporting only once the push subscription exists: Pub/Sub drops what is
    // published to a topic without subscriptions, so a sink created earlier would lose the
    // reports of the first deploy (docs/adr/0023).
    this.sink = exportScope(this, { props: p, topic: this.topic, exclusions, dependsOn: [...apis, this.delivery.subscription] });
    this.alerting = new ResponderAlerting(this, 'Alerting', {
      project,
      namePrefix: p.namePrefix,
      functionName: functionNameOf(p.namePrefix),
      deadLetterSubscription: this.delivery.deadLetterSubscription.name,
      notificationChannels: p.notificationChannels,
      labels: p.labels,
      containment: p.containment,
      raiseFindings: p.raiseFindings,
      dependsOn,
    });
  }

  /** With `enableApis`, the APIs the deployment needs, enabled and never disabled on destroy; none otherwise. */
  private enableApis(p: ResolvedProps): ProjectService[] {
    if (!p.enableApis) return [];
    // Findings are raised through the Security Command Center API, called from the responder's project.
    const apis = p.raiseFindings ? [...REQUIRED_APIS, FINDINGS_API] : REQUIRED_APIS;
    return apis.map(
      (api) =>
        new ProjectService(this, `Api${pascal(api.split('.')[0]!)}`, { project: p.projectId, service: api, disableOnDestroy: false }),
    );
  }

  private resolve(props: IntegrityResponderProps): ResolvedProps {
    try {
      return resolveProps(props);
    } catch (e) {
      if (e instanceof IntegrityResponderPropsError) throw new IntegrityResponderPropsError(e.detail, this.node.path);
      throw e;
    }
  }

  /** Checks the `providers` prop now; the providers themselves are assigned at synth, when the stack has them all. */
  private useProviders(providers: ResponderProviders | undefined): void {
    const problem = providersProblem(providers, TerraformStack.of(this));
    if (problem !== undefined) throw new IntegrityResponderPropsError(problem, this.node.path);
    Aspects.of(this).add(new ProviderAssignment(this, providers ?? {}));
  }

  private claimPrefix(prefix: string): void {
    const stack = TerraformStack.of(this);
    const used = prefixesByStack.get(stack) ?? new Set<string>();
    if (used.has(prefix)) {
      throw new IntegrityResponderPropsError(
        `namePrefix '${prefix}' is already used by another IntegrityResponder in this stack; give each instance its own namePrefix`,
        this.node.path,
      );
    }
    used.add(prefix);
    prefixesByStack.set(stack, used);
  }
}

function pascal(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
