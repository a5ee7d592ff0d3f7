import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { Annotations, AssetType, ITerraformDependable, TerraformAsset } from 'cdktf';
import type { Construct } from 'constructs';
import { FunctionSettings, computeTimeoutFor, functionEnvironment } from '../function/contract';
import type { FunctionBundle } from './function-bundle';
import type { Identities } from './identities';
import { PlaybookSettings, withoutUnusedPlaybook } from './playbook';
import type { ResolvedProps } from './props';

/** Name of a responder's function: the staged-source grant, the function and the alert filters use it. */
export function functionNameOf(namePrefix: string): string {
  return `${namePrefix}-handler`;
}

/** Where the function's source is uploaded and its image built, and the build identity's grants. */
interface FunctionSource {
  readonly bucket: StorageBucket;
  /** The uploaded zip, named after its content hash. */
  readonly object: StorageBucketObject;
  /** Artifact Registry repository the container image is built into. */
  readonly repository: ArtifactRegistryRepository;
  /** The build identity's grants: push images, write build logs, read the staged source. */
  readonly grants: ITerraformDependable[];
}

interface SourceInputs {
  readonly props: ResolvedProps;
  readonly bundle: FunctionBundle;
  /** Identity the function's Cloud Build runs as. */
  readonly buildServiceAccount: ServiceAccount;
  readonly labels: Record<string, string>;
  /** What the bucket, the repository and the project lookup wait for: the APIs, when there are any. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Uploads the function's source to a bucket of its own and creates the repository its image is
 * built into, with the grants the build identity needs for both, and no more.
 */
export function stageSource(c: Construct, inputs: SourceInputs): FunctionSource {
  const { props: p, bundle, labels, dependsOn } = inputs;
  const project = p.projectId;
  const bucket = new StorageBucket(c, 'SourceBucket', {
    project,
    name: p.sourceBucketName,
    location: p.region,
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    forceDestroy: false,
    labels,
    dependsOn,
  });
  const archive = new TerraformAsset(c, 'SourceArchive', {
    path: bundle.zipPath,
    type: AssetType.FILE,
    assetHash: bundle.zipSha256,
  });
  const object = new StorageBucketObject(c, 'SourceObject', {
    bucket: bucket.name,
    name: `${p.namePrefix}/function-${bundle.zipSha256}.zip`,
    source: archive.path,
    contentType: 'application/zip',
  });
  const repository = new ArtifactRegistryRepository(c, 'BuildRepository', {
    project,
    location: p.region,
    repositoryId: `${p.namePrefix}-builds`,
    format: 'DOCKER',
    description: `Container images of the integrity responder '${p.namePrefix}'`,
    labels,
    dependsOn,
  });
  const build = `serviceAccount:${inputs.buildServiceAccount.email}`;
  const grants: ITerraformDependable[] = [
    new ArtifactRegistryRepositoryIamMember(c, 'BuildPushesImages', {
      project,
      location: p.region,
      repository: repository.name,
      role: 'roles/artifactregistry.writer',
      member: build,
    }),
    new ProjectIamMember(c, 'BuildWritesLogs', {
      project,
      role: 'roles/logging.logWriter',
      member: build,
    }),
  ];
  if (p.scope === `projects/${p.projectId}`) {
    // The build needs the grant; only a project of the responder's own keeps it out of what is watched (ADR 0023).
    Annotations.of(c).addWarning(
      "the function's build identity holds roles/logging.logWriter in the project this responder watches (scope is its own project): " +
        'whatever runs in the build could write entries that read as integrity reports about its VMs. To keep it out, deploy the ' +
        "responder in a project of its own and set scope to the fleet's project, folder or organization (ADR 0023)",
    );
  }
  // Cloud Functions copies the uploaded source to `gcf-v2-sources-<number>-<region>/<function>/`
  // and Cloud Build reads it from there (the provider's flattener for build_config.source
  // reports that bucket and object). The grant covers this function's objects and no others.
  const functionName = functionNameOf(p.namePrefix);
  // Read after the APIs are enabled (with enableApis), so a fresh project can be planned.
  const projectInfo = new DataGoogleProject(c, 'Project', { projectId: project, dependsOn });
  grants.push(
    new ProjectIamMember(c, 'BuildReadsStagedSource', {
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
  return { bucket, object, repository, grants };
}

interface FunctionInputs {
  readonly props: ResolvedProps;
  readonly bundle: FunctionBundle;
  readonly source: FunctionSource;
  readonly identities: Identities;
  readonly labels: Record<string, string>;
  /** Id of the database the function reads baselines from. */
  readonly baselineDatabaseId: string;
  readonly ledgerDatabaseId: string;
  /** The function's `EXCLUDED_PROJECTS`. */
  readonly excludedProjects: string;
  /** The containment playbook's settings (`none` and defaults without a playbook). */
  readonly playbook: PlaybookSettings;
  /** What the function waits for: the grants' propagation and the databases. */
  readonly dependsOn: ITerraformDependable[];
}

/** The function and the trigger identity's grant to invoke it. */
interface DeployedFunction {
  readonly function: Cloudfunctions2Function;
  readonly invoker: CloudRunV2ServiceIamMember;
}

/**
 * Creates the Gen2 Cloud Run function, built from the staged source by the build identity and
 * run as the runtime identity, internal ingress only, configured by the settings of the
 * contract; and the trigger identity's grant to invoke it.
 */
export function deployFunction(c: Construct, inputs: FunctionInputs): DeployedFunction {
  const { props: p, bundle, source, identities, labels } = inputs;
  const project = p.projectId;
  const fn = new Cloudfunctions2Function(c, 'Function', {
    project,
    location: p.region,
    name: functionNameOf(p.namePrefix),
    description: 'Responds to Shielded VM integrity failures: relearn known-good measurements, stop the rest',
    labels,
    buildConfig: {
      runtime: p.runtime,
      entryPoint: bundle.entryPoint,
      serviceAccount: identities.build.id,
      dockerRepository: source.repository.id,
      // Pinned to the uploaded generation: the build uses exactly the object Terraform wrote.
      source: {
        storageSource: { bucket: source.bucket.name, object: source.object.name, generation: source.object.generation },
      },
    },
    serviceConfig: {
      serviceAccountEmail: identities.runtime.email,
      ingressSettings: 'ALLOW_INTERNAL_ONLY',
      allTrafficOnLatestRevision: true,
      minInstanceCount: 0,
      maxInstanceCount: p.maxInstanceCount,
      availableMemory: `${p.memoryMib}Mi`,
      // Set together, and only when availableCpu is given: the default plan stays as it was
      // (concurrency 1 and a CPU derived from the memory). See AVAILABLE_CPUS in props/validate.ts.
      ...(p.availableCpu !== undefined && {
        availableCpu: p.availableCpu,
        maxInstanceRequestConcurrency: p.maxInstanceRequestConcurrency,
      }),
      timeoutSeconds: p.timeoutSeconds,
      environmentVariables: withoutUnusedPlaybook(
        functionEnvironment({
          responseMode: p.responseMode,
          firestoreDatabase: inputs.baselineDatabaseId,
          baselineCollection: p.baselineCollection,
          baselineApproval: p.requireBaselineApproval ? 'two-person' : 'none',
          ledgerDatabase: inputs.ledgerDatabaseId,
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
          excludedProjects: inputs.excludedProjects,
          instanceGroupAction: p.instanceGroupAction,
          maxActionsPerWindow: p.maxActionsPerWindow,
          actionWindowSeconds: p.actionWindowSeconds,
          ...inputs.playbook,
        } satisfies FunctionSettings),
      ),
    },
    dependsOn: inputs.dependsOn,
  });
  const invoker = new CloudRunV2ServiceIamMember(c, 'TriggerInvokesFunction', {
    project,
    location: p.region,
    name: fn.serviceConfig.service,
    role: 'roles/run.invoker',
    member: `serviceAccount:${identities.trigger.email}`,
  });
  return { function: fn, invoker };
}
