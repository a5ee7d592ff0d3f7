import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { FirestoreDocument } from '@cdktf/provider-google/lib/firestore-document';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { GoogleProjectServiceIdentity } from '@cdktf/provider-google-beta/lib/google-project-service-identity';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { Sleep } from '@cdktf/provider-time/lib/sleep';
import { Annotations, Aspects, AssetType, ITerraformDependable, TerraformAsset, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import {
  computeTimeoutFor,
  dedicatedDatabaseId,
  dedicatedLedgerDatabaseId,
  functionEnvironment,
  scopeKindOf,
  BASELINE_POLICY_COLLECTION,
} from '../function/contract';
import { ResponderAlerting } from './alerting';
import { Delivery, deliver } from './delivery';
import { loadFunctionBundle } from './function-bundle';
import { responderLabels } from './labels';
import { customRoleId } from './tokens';
import { ProviderAssignment, providersProblem } from './providers';
import {
  InstanceRole,
  IntegritySink,
  excludedProjectsSetting,
  exclusionPreconditions,
  exclusionsOf,
  exportScope,
  grantScope,
} from './scope';
import {
  IntegrityResponderProps,
  IntegrityResponderPropsError,
  LogLevel,
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  ResolvedProps,
  ResponseMode,
  planChecks,
  resolveProps,
} from './props';

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
 * groups alike; nothing waits on the group's operation (see ADR 0010).
 */
export function computePermissionsFor(
  mode: ResponseMode,
  action: FailureAction = 'stop',
  groupAction: InstanceGroupAction = 'abandon',
): string[] {
  const contain = [`compute.instances.${action}`, 'compute.instances.get', 'compute.zoneOperations.get'];
  if (groupAction === 'abandon') contain.push('compute.instanceGroupManagers.get', 'compute.instanceGroupManagers.update');
  return mode === 'relearn-if-known-good' ? [...contain, 'compute.instances.setShieldedInstanceIntegrityPolicy'].sort() : contain.sort();
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

/**
 * Firestore permissions of the decision ledger: read documents, create and update them (one
 * atomic commit of conditional writes per decision, ADR 0016). No `datastore.entities.delete`: the function cannot erase
 * its own audit trail.
 */
const LEDGER_PERMISSIONS: readonly string[] = [
  'datastore.databases.get',
  'datastore.entities.create',
  'datastore.entities.get',
  'datastore.entities.update',
];

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

  constructor(scope: Construct, id: string, props: IntegrityResponderProps) {
    super(scope, id);
    const p: ResolvedProps = this.resolve(props);
    this.claimPrefix(p.namePrefix);
    const providerProblem = providersProblem(props.providers, TerraformStack.of(this));
    if (providerProblem !== undefined) throw new IntegrityResponderPropsError(providerProblem, this.node.path);
    Aspects.of(this).add(new ProviderAssignment(this, props.providers ?? {}));
    const bundle = loadFunctionBundle();
    const project = p.projectId;
    this.responseMode = p.responseMode;
    this.logLevel = p.logLevel;
    this.failureAction = p.failureAction;
    this.enforcement = p.enforcement;
    this.exemptLabel = p.exemptLabel;
    this.instanceGroupAction = p.instanceGroupAction;
    this.baselineCollection = p.baselineCollection;
    this.scope = p.scope;

    const apis: ITerraformDependable[] = p.enableApis
      ? REQUIRED_APIS.map(
          (api) =>
            new ProjectService(this, `Api${pascal(api.split('.')[0]!)}`, {
              project,
              service: api,
              disableOnDestroy: false,
            }),
        )
      : [];
    const dependsOn = apis.length > 0 ? apis : undefined;
    const labels = responderLabels(p.labels, p.namePrefix);
    // Props given as Terraform values are checked by Terraform, before anything is planned.
    const checks = planChecks(p, this.node.path);

    this.topic = new PubsubTopic(this, 'Topic', {
      project,
      name: `${p.namePrefix}-events`,
      labels,
      // Kept while the function cannot take them (Pub/Sub's maximum): nothing expires in a long outage.
      messageRetentionDuration: '604800s',
      dependsOn,
      ...(checks.length > 0 && { lifecycle: { precondition: checks } }),
    });

    // Identities: one per job, none of them the default compute service account.
    const account = (cid: string, suffix: string, displayName: string) =>
      new ServiceAccount(this, cid, {
        project,
        accountId: `${p.namePrefix}-${suffix}`,
        displayName,
        description: `Integrity responder '${p.namePrefix}': ${displayName}`,
        dependsOn,
      });
    this.runtimeServiceAccount = account('RuntimeServiceAccount', 'runtime', 'Runtime identity of the function');
    this.triggerServiceAccount = account('TriggerServiceAccount', 'trigger', 'Pub/Sub push identity invoking the function');

    // The runtime's Compute role where the VMs live. The sink that feeds the topic comes last.
    const runtime = `serviceAccount:${this.runtimeServiceAccount.email}`;
    const abandonNote =
      p.instanceGroupAction === 'abandon' ? ' Remove it from its managed instance group first (list the members, abandon it).' : '';
    // In a folder or organization scope the responder's own project is left out unless asked for:
    // its build identity can write log entries there (docs/adr/0023).
    const aggregated = scopeKindOf(p.scope)!.kind !== 'project';
    const unwatchedProject = aggregated && !p.watchResponderProject ? project : undefined;
    const exclusions = exclusionsOf(p, unwatchedProject);
    const access = grantScope(this, {
      props: p,
      exclusions,
      preconditions: exclusionPreconditions(exclusions, p, this.node.path),
      runtimeMember: runtime,
      description:
        p.responseMode === 'relearn-if-known-good'
          ? `${p.failureAction === 'suspend' ? 'Suspend' : 'Stop'} a Shielded VM or make it relearn its integrity policy, by instance id; read it before acting (exemption label, relearn check); wait for the operation.${abandonNote}`
          : `${p.failureAction === 'suspend' ? 'Suspend' : 'Stop'} a Shielded VM by instance id; read it before acting (exemption label); wait for the operation.${abandonNote}`,
      permissions: computePermissionsFor(p.responseMode, p.failureAction, p.instanceGroupAction),
      dependsOn,
    });
    this.instanceRole = access.instanceRole;
    this.buildServiceAccount = account('BuildServiceAccount', 'build', 'Cloud Build identity building the function');

    // Baselines, read by the function in the relearn mode only: the shutdown mode has none.
    if (p.responseMode === 'relearn-if-known-good' && p.firestoreDatabaseId === undefined) {
      this.database = new FirestoreDatabase(this, 'BaselineDatabase', {
        project,
        name: dedicatedDatabaseId(p.namePrefix),
        locationId: p.firestoreLocationId,
        type: 'FIRESTORE_NATIVE',
        deleteProtectionState: p.firestoreDeleteProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
        // Baselines are security data: `terraform destroy` leaves the database in place.
        deletionPolicy: 'ABANDON',
        dependsOn,
      });
      // The literal id (not a reference) keeps the plan readable: reviewers see which
      // database the IAM condition and the function's configuration name.
      this.databaseId = dedicatedDatabaseId(p.namePrefix);
    } else {
      // In the shutdown mode the function is told the database but never reads it.
      this.databaseId = p.firestoreDatabaseId ?? dedicatedDatabaseId(p.namePrefix);
    }
    if (p.requireBaselineApproval) {
      // Read by the baseline tool (never by the function, which enforces BASELINE_APPROVAL):
      // new baselines of this collection start `proposed`. One document per responder, so
      // responders sharing a database keep their own policies.
      this.baselinePolicy = new FirestoreDocument(this, 'BaselinePolicy', {
        project,
        database: this.databaseId,
        collection: BASELINE_POLICY_COLLECTION,
        documentId: p.namePrefix,
        fields: JSON.stringify({
          baselineCollection: { stringValue: p.baselineCollection },
          requireApproval: { booleanValue: true },
        }),
        dependsOn: [...apis, ...(this.database ? [this.database] : [])],
      });
    }
    // The decision ledger: the only data the function writes, in a database of its own, so
    // that its write access can never reach the baselines.
    this.ledgerDatabaseId = dedicatedLedgerDatabaseId(p.namePrefix);
    this.ledgerDatabase = new FirestoreDatabase(this, 'LedgerDatabase', {
      project,
      name: this.ledgerDatabaseId,
      locationId: p.firestoreLocationId,
      type: 'FIRESTORE_NATIVE',
      deleteProtectionState: p.firestoreDeleteProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
      // The ledger is the audit trail of every action taken: kept on `terraform destroy`.
      deletionPolicy: 'ABANDON',
      dependsOn,
    });

    // Runtime permissions.
    const grants: ITerraformDependable[] = [access.instanceGrant];
    if (p.responseMode === 'relearn-if-known-good') {
      grants.push(
        new ProjectIamMember(this, 'RuntimeReadsBaselines', {
          project,
          role: 'roles/datastore.viewer',
          member: runtime,
          condition: {
            title: `${p.namePrefix} baselines only`,
            description: 'Read access limited to the database holding the known-good baselines',
            expression: `resource.name == "projects/${project}/databases/${this.databaseId}"`,
          },
        }),
      );
    }
    // The ledger is an audit trail: the function may read, create and update its records
    // (in atomic commits of conditional writes), never delete them. Permissions per method:
    // cloud.google.com/firestore/docs/security/iam.
    this.ledgerRole = new ProjectIamCustomRole(this, 'LedgerRole', {
      project,
      roleId: customRoleId(p.namePrefix, 'ledger'),
      title: `Integrity responder ${p.namePrefix}: write the decision ledger`,
      description: 'Read, create and update decision-ledger documents (atomic commits of conditional writes); no delete.',
      permissions: [...LEDGER_PERMISSIONS],
      stage: 'GA',
      dependsOn,
    });
    grants.push(
      new ProjectIamMember(this, 'RuntimeWritesLedger', {
        project,
        role: this.ledgerRole.name,
        member: runtime,
        condition: {
          title: `${p.namePrefix} decision ledger only`,
          description: 'Access limited to the database holding the decision ledger',
          expression: `resource.name == "projects/${project}/databases/${this.ledgerDatabaseId}"`,
        },
      }),
    );

    // Source and build.
    this.sourceBucket = new StorageBucket(this, 'SourceBucket', {
      project,
      name: p.sourceBucketName,
      location: p.region,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: false,
      labels,
      dependsOn,
    });
    const archive = new TerraformAsset(this, 'SourceArchive', {
      path: bundle.zipPath,
      type: AssetType.FILE,
      assetHash: bundle.zipSha256,
    });
    this.sourceObject = new StorageBucketObject(this, 'SourceObject', {
      bucket: this.sourceBucket.name,
      name: `${p.namePrefix}/function-${bundle.zipSha256}.zip`,
      source: archive.path,
      contentType: 'application/zip',
    });
    this.buildRepository = new ArtifactRegistryRepository(this, 'BuildRepository', {
      project,
      location: p.region,
      repositoryId: `${p.namePrefix}-builds`,
      format: 'DOCKER',
      description: `Container images of the integrity responder '${p.namePrefix}'`,
      labels,
      dependsOn,
    });
    const build = `serviceAccount:${this.buildServiceAccount.email}`;
    grants.push(
      new ArtifactRegistryRepositoryIamMember(this, 'BuildPushesImages', {
        project,
        location: p.region,
        repository: this.buildRepository.name,
        role: 'roles/artifactregistry.writer',
        member: build,
      }),
      new ProjectIamMember(this, 'BuildWritesLogs', {
        project,
        role: 'roles/logging.logWriter',
        member: build,
      }),
    );
    if (p.scope === `projects/${p.projectId}`) {
      // The build needs the grant; only a project of the responder's own keeps it out of what is watched (ADR 0023).
      Annotations.of(this).addWarning(
        "the function's build identity holds roles/logging.logWriter in the project this responder watches (scope is its own project): " +
          'whatever runs in the build could write entries that read as integrity reports about its VMs. To keep it out, deploy the ' +
          "responder in a project of its own and set scope to the fleet's project, folder or organization (ADR 0023)",
      );
    }
    // Cloud Functions copies the uploaded source to `gcf-v2-sources-<number>-<region>/<function>/`
    // and Cloud Build reads it from there (the provider's flattener for build_config.source
    // reports that bucket and object). The grant covers this function's objects and no others.
    const functionName = `${p.namePrefix}-handler`;
    // Read after the APIs are enabled (with enableApis), so a fresh project can be planned.
    const projectInfo = new DataGoogleProject(this, 'Project', { projectId: project, dependsOn });
    grants.push(
      new ProjectIamMember(this, 'BuildReadsStagedSource', {
        project,
        role: 'roles/storage.objectViewer',
        member: build,
        condition: {
          title: `${functionName} staged source only`,
          description: 'Read the source Cloud Functions staged for this function',
          expression: `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${projectInfo.number}-${p.region}/objects/${functionName}/")`,
        },
      }),
    );

    // The Pub/Sub service agent mints the OIDC tokens of the push identity (required in projects
    // whose agent predates 2021-04-08, harmless elsewhere) and moves dead letters; it is created
    // here, before anything relies on it.
    // Its google-beta provider, like every resource's provider, is set at synth (ProviderAssignment).
    const pubsubAgent = new GoogleProjectServiceIdentity(this, 'PubsubServiceAgent', {
      project,
      service: 'pubsub.googleapis.com',
      dependsOn,
    });
    grants.push(
      pubsubAgent,
      new ServiceAccountIamMember(this, 'PubsubAgentMintsTriggerTokens', {
        serviceAccountId: this.triggerServiceAccount.name,
        role: 'roles/iam.serviceAccountTokenCreator',
        member: pubsubAgent.member,
      }),
    );
    // IAM changes take effect after about two minutes, sometimes longer; a build or a trigger
    // started before then fails (see docs/adr/0008). Everything that uses a grant waits here.
    this.iamPropagation = new Sleep(this, 'IamPropagation', {
      createDuration: `${p.iamPropagationSeconds}s`,
      dependsOn: grants,
    });

    // The function.
    this.function = new Cloudfunctions2Function(this, 'Function', {
      project,
      location: p.region,
      name: functionName,
      description: 'Responds to Shielded VM integrity failures: relearn known-good measurements, stop the rest',
      labels,
      buildConfig: {
        runtime: p.runtime,
        entryPoint: bundle.entryPoint,
        serviceAccount: this.buildServiceAccount.id,
        dockerRepository: this.buildRepository.id,
        // Pinned to the uploaded generation: the build uses exactly the object Terraform wrote.
        source: {
          storageSource: { bucket: this.sourceBucket.name, object: this.sourceObject.name, generation: this.sourceObject.generation },
        },
      },
      serviceConfig: {
        serviceAccountEmail: this.runtimeServiceAccount.email,
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        allTrafficOnLatestRevision: true,
        minInstanceCount: 0,
        maxInstanceCount: p.maxInstanceCount,
        availableMemory: `${p.memoryMib}Mi`,
        // Set together, and only when availableCpu is given: the default plan stays as it was
        // (concurrency 1 and a CPU derived from the memory). See AVAILABLE_CPUS in props.ts.
        ...(p.availableCpu !== undefined && {
          availableCpu: p.availableCpu,
          maxInstanceRequestConcurrency: p.maxInstanceRequestConcurrency,
        }),
        timeoutSeconds: p.timeoutSeconds,
        environmentVariables: functionEnvironment({
          responseMode: p.responseMode,
          firestoreDatabase: this.databaseId,
          baselineCollection: p.baselineCollection,
          baselineApproval: p.requireBaselineApproval ? 'two-person' : 'none',
          ledgerDatabase: this.ledgerDatabaseId,
          projectId: project,
          logLevel: p.logLevel,
          maxEventAgeSeconds: p.maxEventAgeSeconds,
          relearnMaxAgeSeconds: p.relearnMaxAgeSeconds,
          staleEventPolicy: p.staleEventPolicy,
          computeTimeoutSeconds: computeTimeoutFor(p.timeoutSeconds),
          failureAction: p.failureAction,
          enforcement: p.enforcement,
          exemptLabel: p.exemptLabel,
          scope: p.scope,
          excludedProjects: excludedProjectsSetting(exclusions),
          instanceGroupAction: p.instanceGroupAction,
          maxActionsPerWindow: p.maxActionsPerWindow,
          actionWindowSeconds: p.actionWindowSeconds,
        }),
      },
      // After the wait for every grant and service agent, and once the databases exist.
      dependsOn: [...apis, this.iamPropagation, this.ledgerDatabase, ...(this.database ? [this.database] : [])],
    });
    const invoker = new CloudRunV2ServiceIamMember(this, 'TriggerInvokesFunction', {
      project,
      location: p.region,
      name: this.function.serviceConfig.service,
      role: 'roles/run.invoker',
      member: `serviceAccount:${this.triggerServiceAccount.email}`,
    });
    // Deliveries refused while the invoker grant propagates are retried with backoff.
    this.delivery = deliver(this, {
      project,
      namePrefix: p.namePrefix,
      labels,
      topic: this.topic,
      endpoint: this.function.serviceConfig.uri,
      pushServiceAccountEmail: this.triggerServiceAccount.email,
      pubsubAgentMember: pubsubAgent.member,
      ackDeadlineSeconds: Math.max(10, p.timeoutSeconds),
      maxDeliveryAttempts: p.maxDeliveryAttempts,
      dependsOn,
      subscriptionDependsOn: [invoker],
    });
    // The sink starts exporting only once the push subscription exists: Pub/Sub drops what is
    // published to a topic without subscriptions, so a sink created earlier would lose the
    // reports of the first deploy (docs/adr/0023). Its writer identity exists only with it, so
    // its publisher grant follows it.
    this.sink = exportScope(this, {
      props: p,
      destination: `pubsub.googleapis.com/${this.topic.id}`,
      exclusions,
      dependsOn: [...apis, this.delivery.subscription],
    });
    new PubsubTopicIamMember(this, 'SinkPublishesToTopic', {
      project,
      topic: this.topic.name,
      role: 'roles/pubsub.publisher',
      member: this.sink.writerIdentity,
    });
    this.alerting = new ResponderAlerting(this, 'Alerting', {
      project,
      namePrefix: p.namePrefix,
      functionName,
      deadLetterSubscription: this.delivery.deadLetterSubscription.name,
      notificationChannels: p.notificationChannels,
      labels: p.labels,
      dependsOn,
    });
  }

  private resolve(props: IntegrityResponderProps): ResolvedProps {
    try {
      return resolveProps(props);
    } catch (e) {
      if (e instanceof IntegrityResponderPropsError) throw new IntegrityResponderPropsError(e.detail, this.node.path);
      throw e;
    }
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
