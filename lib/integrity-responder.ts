import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { LoggingProjectSink } from '@cdktf/provider-google/lib/logging-project-sink';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { AssetType, ITerraformDependable, TerraformAsset, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { computeTimeoutFor, dedicatedDatabaseId, functionEnvironment } from '../function/contract';
import { loadFunctionBundle } from './function-bundle';
import { IntegrityResponderProps, IntegrityResponderPropsError, LogLevel, ResolvedProps, ResponseMode, resolveProps } from './props';

/** Compute Engine permissions the handler uses, and nothing else. */
export const RESPONDER_COMPUTE_PERMISSIONS: readonly string[] = [
  'compute.instances.get',
  'compute.instances.list',
  'compute.instances.setShieldedInstanceIntegrityPolicy',
  'compute.instances.stop',
];

/**
 * The only roles the construct grants at project level, and whether each grant carries an
 * IAM condition. `custom` is the responder's own role ({@link RESPONDER_COMPUTE_PERMISSIONS}).
 */
export const PROJECT_LEVEL_GRANTS: readonly { readonly role: string; readonly conditioned: boolean; readonly why: string }[] = [
  { role: 'custom', conditioned: false, why: 'runtime: act on any VM of the project that reports' },
  { role: 'roles/datastore.viewer', conditioned: true, why: 'runtime: read baselines, in the baseline database only' },
  { role: 'roles/logging.logWriter', conditioned: false, why: 'build: write build logs' },
  {
    role: 'roles/storage.objectViewer',
    conditioned: true,
    why: "build: read the source staged in Cloud Functions' gcf-v2-sources-* buckets",
  },
];

/** APIs the deployment needs; enabled by the construct only when `enableApis` is set. */
export const REQUIRED_APIS: readonly string[] = [
  'artifactregistry.googleapis.com',
  'cloudbuild.googleapis.com',
  'cloudfunctions.googleapis.com',
  'cloudresourcemanager.googleapis.com',
  'compute.googleapis.com',
  'eventarc.googleapis.com',
  'firestore.googleapis.com',
  'iam.googleapis.com',
  'logging.googleapis.com',
  'pubsub.googleapis.com',
  'run.googleapis.com',
  'storage.googleapis.com',
];

/** Event type Eventarc delivers for a Pub/Sub publication. */
export const PUBSUB_EVENT_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';

const prefixesByStack = new WeakMap<TerraformStack, Set<string>>();

/**
 * Makes a project's Shielded VMs respond to their own integrity-monitoring failures.
 *
 * A log sink exports `shielded_vm_integrity` entries to a Pub/Sub topic; Eventarc delivers
 * each to a Gen2 Cloud Run function that relearns the integrity policy when the late-boot
 * measurements match a known-good baseline in Firestore, and stops the VM otherwise.
 *
 * The construct creates no provider: configure `google` in the stack that embeds it.
 */
export class IntegrityResponder extends Construct {
  /** Topic the sink publishes integrity log entries to. */
  public readonly topic: PubsubTopic;
  /** Log sink exporting the integrity entries of `projectId`. */
  public readonly sink: LoggingProjectSink;
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
  /** Identity Eventarc uses to invoke the function. */
  public readonly triggerServiceAccount: ServiceAccount;
  /** Identity the function's Cloud Build runs as. */
  public readonly buildServiceAccount: ServiceAccount;
  /** Custom role holding exactly {@link RESPONDER_COMPUTE_PERMISSIONS}. */
  public readonly instanceRole: ProjectIamCustomRole;
  /** The dedicated baseline database, or undefined when `firestoreDatabaseId` names an existing one. */
  public readonly database?: FirestoreDatabase;
  /** Id of the Firestore database the function reads baselines from. */
  public readonly databaseId: string;
  /** Collection holding the known-good baselines. */
  public readonly baselineCollection: string;
  /** Response mode the function runs in. */
  public readonly responseMode: ResponseMode;
  /** Log level of the function. */
  public readonly logLevel: LogLevel;

  constructor(scope: Construct, id: string, props: IntegrityResponderProps) {
    super(scope, id);
    const p: ResolvedProps = this.resolve(props);
    this.claimPrefix(p.namePrefix);
    const bundle = loadFunctionBundle();
    const project = p.projectId;
    this.responseMode = p.responseMode;
    this.logLevel = p.logLevel;
    this.baselineCollection = p.baselineCollection;

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
    const labels = { ...p.labels, 'managed-by': 'shielded-vm-integrity-responder' };

    // Delivery: log sink -> topic.
    this.topic = new PubsubTopic(this, 'Topic', { project, name: `${p.namePrefix}-events`, labels, dependsOn });
    this.sink = new LoggingProjectSink(this, 'Sink', {
      project,
      name: `${p.namePrefix}-integrity`,
      description: 'Shielded VM integrity reports for the integrity responder',
      filter: `resource.type="gce_instance" AND logName="projects/${project}/logs/compute.googleapis.com%2Fshielded_vm_integrity"`,
      destination: `pubsub.googleapis.com/${this.topic.id}`,
      uniqueWriterIdentity: true,
      dependsOn,
    });
    new PubsubTopicIamMember(this, 'SinkPublishesToTopic', {
      project,
      topic: this.topic.name,
      role: 'roles/pubsub.publisher',
      member: this.sink.writerIdentity,
    });

    // Identities: one per job, none of them the default compute service account.
    const account = (cid: string, suffix: string, displayName: string) =>
      new ServiceAccount(this, cid, {
        project,
        accountId: `${p.namePrefix}-${suffix}`,
        displayName,
        description: `Integrity responder '${p.namePrefix}': ${displayName.toLowerCase()}`,
        dependsOn,
      });
    this.runtimeServiceAccount = account('RuntimeServiceAccount', 'runtime', 'Runtime identity of the function');
    this.triggerServiceAccount = account('TriggerServiceAccount', 'trigger', 'Eventarc identity invoking the function');
    this.buildServiceAccount = account('BuildServiceAccount', 'build', 'Cloud Build identity building the function');

    // Baselines.
    if (p.firestoreDatabaseId === undefined) {
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
      this.databaseId = p.firestoreDatabaseId;
    }

    // Runtime permissions.
    this.instanceRole = new ProjectIamCustomRole(this, 'InstanceRole', {
      project,
      roleId: `${p.namePrefix.replace(/-/g, '_')}_instances`,
      title: `Integrity responder ${p.namePrefix}: act on instances`,
      description: 'Stop a Shielded VM or make it relearn its integrity policy; find an instance by id and check it before relearning.',
      permissions: [...RESPONDER_COMPUTE_PERMISSIONS],
      stage: 'GA',
      dependsOn,
    });
    const runtime = `serviceAccount:${this.runtimeServiceAccount.email}`;
    new ProjectIamMember(this, 'RuntimeActsOnInstances', {
      project,
      role: this.instanceRole.name,
      member: runtime,
    });
    new ProjectIamMember(this, 'RuntimeReadsBaselines', {
      project,
      role: 'roles/datastore.viewer',
      member: runtime,
      condition: {
        title: `${p.namePrefix} baselines only`,
        description: 'Read access limited to the database holding the known-good baselines',
        expression: `resource.name == "projects/${project}/databases/${this.databaseId}"`,
      },
    });

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
    new ArtifactRegistryRepositoryIamMember(this, 'BuildPushesImages', {
      project,
      location: p.region,
      repository: this.buildRepository.name,
      role: 'roles/artifactregistry.writer',
      member: build,
    });
    const buildWritesLogs = new ProjectIamMember(this, 'BuildWritesLogs', {
      project,
      role: 'roles/logging.logWriter',
      member: build,
    });
    // Cloud Functions copies the uploaded source into its own staging buckets and Cloud Build
    // reads it from there; the grant covers those buckets and no others.
    const buildReadsSource = new ProjectIamMember(this, 'BuildReadsStagedSource', {
      project,
      role: 'roles/storage.objectViewer',
      member: build,
      condition: {
        title: 'Cloud Functions staging buckets only',
        description: 'Read the function source staged by Cloud Functions',
        expression: 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")',
      },
    });

    // The function.
    this.function = new Cloudfunctions2Function(this, 'Function', {
      project,
      location: p.region,
      name: `${p.namePrefix}-handler`,
      description: 'Responds to Shielded VM integrity failures: relearn known-good measurements, stop the rest',
      labels,
      buildConfig: {
        runtime: p.runtime,
        entryPoint: bundle.entryPoint,
        serviceAccount: this.buildServiceAccount.id,
        dockerRepository: this.buildRepository.id,
        source: { storageSource: { bucket: this.sourceBucket.name, object: this.sourceObject.name } },
      },
      serviceConfig: {
        serviceAccountEmail: this.runtimeServiceAccount.email,
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        allTrafficOnLatestRevision: true,
        minInstanceCount: 0,
        maxInstanceCount: p.maxInstanceCount,
        availableMemory: `${p.memoryMib}Mi`,
        timeoutSeconds: p.timeoutSeconds,
        environmentVariables: functionEnvironment({
          responseMode: p.responseMode,
          firestoreDatabase: this.databaseId,
          baselineCollection: p.baselineCollection,
          projectId: project,
          logLevel: p.logLevel,
          maxEventAgeSeconds: p.maxEventAgeSeconds,
          staleEventPolicy: p.staleEventPolicy,
          computeTimeoutSeconds: computeTimeoutFor(p.timeoutSeconds),
        }),
      },
      eventTrigger: {
        triggerRegion: p.region,
        eventType: PUBSUB_EVENT_TYPE,
        pubsubTopic: this.topic.id,
        serviceAccountEmail: this.triggerServiceAccount.email,
        retryPolicy: 'RETRY_POLICY_RETRY',
      },
      // The build must be able to write logs and read the staged source before it starts,
      // and the baselines must exist before the first event arrives.
      dependsOn: [...apis, buildWritesLogs, buildReadsSource, ...(this.database ? [this.database] : [])],
    });
    new CloudRunV2ServiceIamMember(this, 'TriggerInvokesFunction', {
      project,
      location: p.region,
      name: this.function.serviceConfig.service,
      role: 'roles/run.invoker',
      member: `serviceAccount:${this.triggerServiceAccount.email}`,
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
