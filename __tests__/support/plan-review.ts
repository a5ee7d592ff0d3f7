/*
 * What a security reviewer checks in a synthesized plan, as code.
 *
 * The expected facts below are literal data, written out by hand from a reviewed plan: this
 * file imports nothing from lib/ or function/ (plan-review.test.ts checks that), so a change
 * to the construct's constants cannot move the expectation along with the plan. A change to
 * the plan that is meant has to be made here too, where a reviewer sees it.
 *
 * `reviewPlan` compares a plan with one of the expectations and returns every difference as
 * a finding naming the check that found it. Besides the exact comparison, a few checks hold
 * for any plan whatever the expectation says: no public member, no primitive role, no
 * authoritative IAM resource, never the default compute service account, private buckets.
 */

type Body = Record<string, any>;

/** A synthesized plan, parsed (`Testing.synth` output). */
export interface PlanDoc {
  resource?: Record<string, Record<string, Body>>;
  data?: Record<string, Record<string, Body>>;
}

/** One thing the review objects to. */
export interface Finding {
  /** The check that found it (one of {@link CHECKS}). */
  check: string;
  /** What is wrong, naming the resource. */
  problem: string;
}

/** One IAM resource, as its attributes appear in the plan's JSON. */
export interface GrantExpectation {
  role: string;
  member: string;
  /** The IAM condition's expression, exactly; absent when the grant has no condition. */
  condition?: string;
  /** The attributes naming what the grant is on: project, topic, repository, service, service account. */
  on: Record<string, string>;
}

export interface FunctionExpectation {
  ingress: string;
  buildServiceAccount: string;
  runtimeServiceAccount: string;
  triggerServiceAccount: string;
  trigger: { event_type: string; pubsub_topic: string };
  retryPolicy: string;
  source: { bucket: string; object: string; generation: string };
  /** `depends_on`, in any order. */
  dependsOn: string[];
  environment: Record<string, string>;
}

export interface DatabaseExpectation {
  name: string;
  delete_protection_state: string;
  deletion_policy: string;
}

/** Everything security-relevant in one plan, keyed by logical id. */
export interface PlanExpectation {
  /** Every IAM resource (`*_iam_member`, `*_iam_binding`, `*_iam_policy`) in the plan, keyed `type.id`. */
  iam: Record<string, GrantExpectation>;
  /** Custom roles and their permissions, in the order the plan lists them. */
  customRoles: Record<string, string[]>;
  sinks: Record<string, { filter: string; destination: string }>;
  functions: Record<string, FunctionExpectation>;
  /** Ids of the buckets; each must be uniform-access with public access prevention enforced. */
  buckets: string[];
  /** The `time_sleep`s waiting for IAM to propagate: duration and `depends_on` (any order). */
  iamPropagation: Record<string, { createDuration: string; dependsOn: string[] }>;
  /** `google_project_service_identity` id → service; each created with the google-beta provider. */
  serviceIdentities: Record<string, string>;
  databases: Record<string, DatabaseExpectation>;
  /** `data.google_project` id → the project it reads (the IAM conditions use its number). */
  projects: Record<string, string>;
}

/** Every check the review runs, in the order it reports them. */
export const CHECKS = [
  'iam-inventory',
  'iam-role',
  'iam-member',
  'iam-condition',
  'iam-target',
  'no-public-members',
  'no-primitive-roles',
  'no-authoritative-iam',
  'no-default-compute-sa',
  'project-lookup',
  'custom-role-permissions',
  'sink-inventory',
  'sink-filter',
  'sink-destination',
  'function-inventory',
  'function-ingress',
  'function-build-identity',
  'function-runtime-identity',
  'function-trigger-identity',
  'function-trigger-source',
  'function-retry-policy',
  'function-source',
  'function-depends-on',
  'function-environment',
  'bucket-inventory',
  'bucket-uniform-access',
  'bucket-public-access-prevention',
  'iam-propagation-wait',
  'service-identities',
  'firestore-databases',
] as const;

export type Check = (typeof CHECKS)[number];

const IAM_RESOURCE = /_iam_(member|binding|policy)$/;
const AUTHORITATIVE = /_iam_(binding|policy)$/;
const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;
const PUBLIC = /^(allUsers|allAuthenticatedUsers)$/;
const DEFAULT_COMPUTE_SA = /-compute@developer\.gserviceaccount\.com|google_compute_default_service_account/;

/** Reviews a plan against what it is expected to hold; an empty list means nothing to object to. */
export function reviewPlan(plan: PlanDoc, expected: PlanExpectation): Finding[] {
  const findings: Finding[] = [];
  const report = (check: Check, problem: string) => findings.push({ check, problem });
  const resources = plan.resource ?? {};
  const all = Object.entries(resources).flatMap(([type, byId]) =>
    Object.entries(byId ?? {}).map(([id, body]) => ({ type, id, body, at: `${type}.${id}` })),
  );
  const ofType = (type: string) => resources[type] ?? {};

  // IAM: the exact inventory, then each grant's role, member, condition and target.
  const iam = all.filter((r) => IAM_RESOURCE.test(r.type));
  for (const { at } of iam) if (!(at in expected.iam)) report('iam-inventory', `${at} is an IAM resource the review does not expect`);
  for (const [at, want] of Object.entries(expected.iam)) {
    const [type, id] = splitAddress(at);
    const body = ofType(type)[id];
    if (body === undefined) {
      report('iam-inventory', `${at} (${want.role} for ${want.member}) is missing`);
      continue;
    }
    if (body.role !== want.role) report('iam-role', `${at} grants ${show(body.role)}; expected ${want.role}`);
    if (body.member !== want.member) report('iam-member', `${at} grants to ${show(body.member)}; expected ${want.member}`);
    const condition = body.condition?.expression;
    if (want.condition === undefined) {
      if (body.condition !== undefined) report('iam-condition', `${at} has a condition ${show(condition)}; expected none`);
    } else if (condition !== want.condition) {
      report('iam-condition', `${at} has condition ${show(condition)}; expected ${want.condition}`);
    }
    for (const [key, value] of Object.entries(want.on)) {
      if (body[key] !== value) report('iam-target', `${at} is on ${key} ${show(body[key])}; expected ${value}`);
    }
  }

  // Rules for any plan, whatever the expectation says.
  for (const { type, body, at } of iam) {
    const members = [body.member, ...(Array.isArray(body.members) ? body.members : [])].filter((m) => m !== undefined).map(String);
    const policy = typeof body.policy_data === 'string' ? body.policy_data : '';
    for (const m of members) if (PUBLIC.test(m)) report('no-public-members', `${at} grants ${show(body.role)} to ${m}`);
    if (/"(allUsers|allAuthenticatedUsers)"/.test(policy)) report('no-public-members', `${at} has a public member in its policy`);
    if (PRIMITIVE.test(String(body.role))) report('no-primitive-roles', `${at} grants the primitive role ${String(body.role)}`);
    if (/"roles\/(owner|editor|viewer)"/.test(policy)) report('no-primitive-roles', `${at} has a primitive role in its policy`);
    if (AUTHORITATIVE.test(type)) report('no-authoritative-iam', `${at} is authoritative (${type}): it replaces grants made elsewhere`);
  }
  const data = Object.entries(plan.data ?? {}).flatMap(([type, byId]) =>
    Object.entries(byId ?? {}).map(([id, body]) => ({ at: `data.${type}.${id}`, body })),
  );
  for (const { at, body } of [...all, ...data]) {
    if (DEFAULT_COMPUTE_SA.test(`${at} ${JSON.stringify(body)}`))
      report('no-default-compute-sa', `${at} refers to the default compute service account`);
  }

  // The project lookups whose number the source-read condition names.
  compareInventory(
    'project-lookup',
    'google_project',
    (type) => plan.data?.[type] ?? {},
    expected.projects,
    report,
    (at, body, want) => {
      if (body.project_id !== want) report('project-lookup', `data.${at} reads project ${show(body.project_id)}; expected ${want}`);
    },
  );

  // Custom roles: exactly the expected permissions.
  compareInventory('custom-role-permissions', 'google_project_iam_custom_role', ofType, expected.customRoles, report, (at, body, want) => {
    const actual = Array.isArray(body.permissions) ? (body.permissions as unknown[]).map(String) : [];
    const extra = actual.filter((p) => !want.includes(p));
    const missing = want.filter((p) => !actual.includes(p));
    if (extra.length > 0) report('custom-role-permissions', `${at} holds ${extra.join(', ')} beyond ${want.join(', ')}`);
    if (missing.length > 0) report('custom-role-permissions', `${at} lacks ${missing.join(', ')}`);
  });

  // The log sink: exactly the integrity entries, to the responder's topic, with its own writer.
  compareInventory('sink-inventory', 'google_logging_project_sink', ofType, expected.sinks, report, (at, body, want) => {
    if (body.filter !== want.filter) report('sink-filter', `${at} exports ${show(body.filter)}; expected ${want.filter}`);
    if (body.destination !== want.destination)
      report('sink-destination', `${at} sends to ${show(body.destination)}; expected ${want.destination}`);
    if (body.unique_writer_identity !== true) report('sink-destination', `${at} has no writer identity of its own`);
    if (Array.isArray(body.exclusions) && body.exclusions.length > 0) report('sink-filter', `${at} has exclusions`);
  });

  // The function: ingress, its three identities, trigger, retries, source, ordering, configuration.
  compareInventory('function-inventory', 'google_cloudfunctions2_function', ofType, expected.functions, report, (at, body, want) => {
    const field = (check: Check, path: string, actual: unknown, wanted: unknown) => {
      if (actual !== wanted) report(check, `${at} ${path} is ${show(actual)}; expected ${show(wanted)}`);
    };
    field('function-ingress', 'service_config.ingress_settings', body.service_config?.ingress_settings, want.ingress);
    field('function-build-identity', 'build_config.service_account', body.build_config?.service_account, want.buildServiceAccount);
    field(
      'function-runtime-identity',
      'service_config.service_account_email',
      body.service_config?.service_account_email,
      want.runtimeServiceAccount,
    );
    field(
      'function-trigger-identity',
      'event_trigger.service_account_email',
      body.event_trigger?.service_account_email,
      want.triggerServiceAccount,
    );
    field('function-trigger-source', 'event_trigger.event_type', body.event_trigger?.event_type, want.trigger.event_type);
    field('function-trigger-source', 'event_trigger.pubsub_topic', body.event_trigger?.pubsub_topic, want.trigger.pubsub_topic);
    field('function-retry-policy', 'event_trigger.retry_policy', body.event_trigger?.retry_policy, want.retryPolicy);
    const source = body.build_config?.source?.storage_source ?? {};
    for (const key of ['bucket', 'object', 'generation'] as const) {
      field('function-source', `build_config.source.storage_source.${key}`, source[key], want.source[key]);
    }
    if (body.build_config?.source?.repo_source !== undefined) report('function-source', `${at} builds from a repository`);
    compareSets('function-depends-on', `${at} depends_on`, body.depends_on, want.dependsOn, report);
    const env: Record<string, unknown> = body.service_config?.environment_variables ?? {};
    for (const key of new Set([...Object.keys(env), ...Object.keys(want.environment)])) {
      field('function-environment', `environment variable ${key}`, env[key], want.environment[key]);
    }
    if (body.service_config?.secret_environment_variables !== undefined) report('function-environment', `${at} reads secrets`);
  });

  // Buckets: the expected ones, and every bucket private.
  const buckets = Object.keys(ofType('google_storage_bucket'));
  for (const id of buckets) if (!expected.buckets.includes(id)) report('bucket-inventory', `google_storage_bucket.${id} is not expected`);
  for (const id of expected.buckets) if (!buckets.includes(id)) report('bucket-inventory', `google_storage_bucket.${id} is missing`);
  for (const [id, body] of Object.entries(ofType('google_storage_bucket'))) {
    const at = `google_storage_bucket.${id}`;
    if (body.uniform_bucket_level_access !== true) report('bucket-uniform-access', `${at} lacks uniform bucket-level access`);
    if (body.public_access_prevention !== 'enforced')
      report(
        'bucket-public-access-prevention',
        `${at} has public_access_prevention ${show(body.public_access_prevention)}; expected 'enforced'`,
      );
  }

  // The wait between the grants and the function.
  compareInventory('iam-propagation-wait', 'time_sleep', ofType, expected.iamPropagation, report, (at, body, want) => {
    if (body.create_duration !== want.createDuration)
      report('iam-propagation-wait', `${at} waits ${show(body.create_duration)}; expected ${want.createDuration}`);
    compareSets('iam-propagation-wait', `${at} depends_on`, body.depends_on, want.dependsOn, report);
  });

  // Service agents, created with google-beta.
  compareInventory(
    'service-identities',
    'google_project_service_identity',
    ofType,
    expected.serviceIdentities,
    report,
    (at, body, want) => {
      if (body.service !== want) report('service-identities', `${at} is for ${show(body.service)}; expected ${want}`);
      if (body.provider !== 'google-beta') report('service-identities', `${at} uses provider ${show(body.provider)}; expected google-beta`);
    },
  );

  // Databases: which exist, and that they are protected and kept on destroy.
  compareInventory('firestore-databases', 'google_firestore_database', ofType, expected.databases, report, (at, body, want) => {
    for (const key of ['name', 'delete_protection_state', 'deletion_policy'] as const) {
      if (body[key] !== want[key]) report('firestore-databases', `${at} ${key} is ${show(body[key])}; expected ${want[key]}`);
    }
  });

  return findings;
}

/** Reports resources of `type` that are expected but missing, or present but not expected, then compares each pair. */
function compareInventory<T>(
  check: Check,
  type: string,
  ofType: (type: string) => Record<string, Body>,
  expected: Record<string, T>,
  report: (check: Check, problem: string) => void,
  compare: (at: string, body: Body, want: T) => void,
): void {
  const actual = ofType(type);
  for (const id of Object.keys(actual)) if (!(id in expected)) report(check, `${type}.${id} is not expected`);
  for (const [id, want] of Object.entries(expected)) {
    const body = actual[id];
    if (body === undefined) report(check, `${type}.${id} is missing`);
    else compare(`${type}.${id}`, body, want);
  }
}

function compareSets(
  check: Check,
  what: string,
  actual: unknown,
  expected: string[],
  report: (check: Check, problem: string) => void,
): void {
  const list = Array.isArray(actual) ? actual.map(String) : [];
  const missing = expected.filter((e) => !list.includes(e));
  const extra = list.filter((a) => !expected.includes(a));
  if (missing.length > 0) report(check, `${what} lacks ${missing.join(', ')}`);
  if (extra.length > 0) report(check, `${what} has unexpected ${extra.join(', ')}`);
}

function splitAddress(at: string): [string, string] {
  const dot = at.indexOf('.');
  return [at.slice(0, dot), at.slice(dot + 1)];
}

function show(value: unknown): string {
  return value === undefined ? '(unset)' : typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** Merges the expectations of responders that share a stack. */
export function together(...expectations: PlanExpectation[]): PlanExpectation {
  return {
    iam: Object.assign({}, ...expectations.map((e) => e.iam)),
    customRoles: Object.assign({}, ...expectations.map((e) => e.customRoles)),
    sinks: Object.assign({}, ...expectations.map((e) => e.sinks)),
    functions: Object.assign({}, ...expectations.map((e) => e.functions)),
    buckets: expectations.flatMap((e) => e.buckets),
    iamPropagation: Object.assign({}, ...expectations.map((e) => e.iamPropagation)),
    serviceIdentities: Object.assign({}, ...expectations.map((e) => e.serviceIdentities)),
    databases: Object.assign({}, ...expectations.map((e) => e.databases)),
    projects: Object.assign({}, ...expectations.map((e) => e.projects)),
  };
}

// ---------------------------------------------------------------------------------------------
// The expectations, written out. Project `fleet-prod-1234`, region `us-central1`.

const PROTECTED = { delete_protection_state: 'DELETE_PROTECTION_ENABLED', deletion_policy: 'ABANDON' } as const;
const FILTER = 'resource.type="gce_instance" AND logName="projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity"';

/** `synthResponders({})`: relearn mode, dedicated baseline and ledger databases. */
export const EXPECTED_DEFAULT: PlanExpectation = {
  iam: {
    'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9': {
      role: 'roles/pubsub.publisher',
      member: '${google_logging_project_sink.Responder_Sink_86F16188.writer_identity}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder_Topic_952B14F0.name}' },
    },
    'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77': {
      role: '${google_project_iam_custom_role.Responder_InstanceRole_788A6F78.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D': {
      role: 'roles/datastore.viewer',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-baselines"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF': {
      role: '${google_project_iam_custom_role.Responder_LedgerRole_9085AFBB.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-decisions"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75': {
      role: 'roles/artifactregistry.writer',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        repository: '${google_artifact_registry_repository.Responder_BuildRepository_8F4C0FB1.name}',
      },
    },
    'google_project_iam_member.Responder_BuildWritesLogs_25230EE5': {
      role: 'roles/logging.logWriter',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0': {
      role: 'roles/storage.objectViewer',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      condition:
        'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${data.google_project.Responder_Project_AFA5E3A9.number}-us-central1/objects/integrity-responder-handler/")',
      on: { project: 'fleet-prod-1234' },
    },
    'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76': {
      role: 'roles/iam.serviceAccountTokenCreator',
      member: '${google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5.member}',
      on: { service_account_id: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.name}' },
    },
    'google_cloud_run_v2_service_iam_member.Responder_TriggerInvokesFunction_D2F5B373': {
      role: 'roles/run.invoker',
      member: 'serviceAccount:${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        name: '${google_cloudfunctions2_function.Responder_Function_73C2D4D9.service_config[0].service}',
      },
    },
  },
  customRoles: {
    Responder_InstanceRole_788A6F78: [
      'compute.instances.get',
      'compute.instances.setShieldedInstanceIntegrityPolicy',
      'compute.instances.stop',
      'compute.zoneOperations.get',
    ],
    Responder_LedgerRole_9085AFBB: [
      'datastore.databases.get',
      'datastore.entities.create',
      'datastore.entities.get',
      'datastore.entities.update',
    ],
  },
  sinks: {
    Responder_Sink_86F16188: { filter: FILTER, destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}' },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ingress: 'ALLOW_INTERNAL_ONLY',
      buildServiceAccount: '${google_service_account.Responder_BuildServiceAccount_FEC806E6.id}',
      runtimeServiceAccount: '${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      triggerServiceAccount: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
      trigger: {
        event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
        pubsub_topic: '${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      },
      retryPolicy: 'RETRY_POLICY_RETRY',
      source: {
        bucket: '${google_storage_bucket.Responder_SourceBucket_FB116052.name}',
        object: '${google_storage_bucket_object.Responder_SourceObject_C919C8FB.name}',
        generation: '${google_storage_bucket_object.Responder_SourceObject_C919C8FB.generation}',
      },
      dependsOn: [
        'time_sleep.Responder_IamPropagation_9489DE8C',
        'google_firestore_database.Responder_LedgerDatabase_CC41B944',
        'google_firestore_database.Responder_BaselineDatabase_393D3DE7',
      ],
      environment: {
        RESPONSE_MODE: 'relearn-if-known-good',
        FIRESTORE_DATABASE: 'integrity-responder-baselines',
        BASELINE_COLLECTION: 'known_good_measurements',
        LEDGER_DATABASE: 'integrity-responder-decisions',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      },
    },
  },
  buckets: ['Responder_SourceBucket_FB116052'],
  iamPropagation: {
    // Every grant of the responder and both service agents; not the invoker grant (it names
    // the function's service, so it can only come after).
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9',
        'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_EventarcServiceAgent_815F29EC',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  serviceIdentities: {
    Responder_EventarcServiceAgent_815F29EC: 'eventarc.googleapis.com',
    Responder_PubsubServiceAgent_A78C68B5: 'pubsub.googleapis.com',
  },
  databases: {
    Responder_BaselineDatabase_393D3DE7: { name: 'integrity-responder-baselines', ...PROTECTED },
    Responder_LedgerDatabase_CC41B944: { name: 'integrity-responder-decisions', ...PROTECTED },
  },
  projects: { Responder_Project_AFA5E3A9: 'fleet-prod-1234' },
};

/** `synthResponders({ responseMode: 'shutdown' })`: stop only; no baselines, so no baseline database or read grant. */
export const EXPECTED_SHUTDOWN: PlanExpectation = {
  iam: {
    'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9': {
      role: 'roles/pubsub.publisher',
      member: '${google_logging_project_sink.Responder_Sink_86F16188.writer_identity}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder_Topic_952B14F0.name}' },
    },
    'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77': {
      role: '${google_project_iam_custom_role.Responder_InstanceRole_788A6F78.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF': {
      role: '${google_project_iam_custom_role.Responder_LedgerRole_9085AFBB.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-decisions"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75': {
      role: 'roles/artifactregistry.writer',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        repository: '${google_artifact_registry_repository.Responder_BuildRepository_8F4C0FB1.name}',
      },
    },
    'google_project_iam_member.Responder_BuildWritesLogs_25230EE5': {
      role: 'roles/logging.logWriter',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0': {
      role: 'roles/storage.objectViewer',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      condition:
        'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${data.google_project.Responder_Project_AFA5E3A9.number}-us-central1/objects/integrity-responder-handler/")',
      on: { project: 'fleet-prod-1234' },
    },
    'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76': {
      role: 'roles/iam.serviceAccountTokenCreator',
      member: '${google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5.member}',
      on: { service_account_id: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.name}' },
    },
    'google_cloud_run_v2_service_iam_member.Responder_TriggerInvokesFunction_D2F5B373': {
      role: 'roles/run.invoker',
      member: 'serviceAccount:${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        name: '${google_cloudfunctions2_function.Responder_Function_73C2D4D9.service_config[0].service}',
      },
    },
  },
  customRoles: {
    Responder_InstanceRole_788A6F78: ['compute.instances.get', 'compute.instances.stop', 'compute.zoneOperations.get'],
    Responder_LedgerRole_9085AFBB: [
      'datastore.databases.get',
      'datastore.entities.create',
      'datastore.entities.get',
      'datastore.entities.update',
    ],
  },
  sinks: {
    Responder_Sink_86F16188: { filter: FILTER, destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}' },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ingress: 'ALLOW_INTERNAL_ONLY',
      buildServiceAccount: '${google_service_account.Responder_BuildServiceAccount_FEC806E6.id}',
      runtimeServiceAccount: '${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      triggerServiceAccount: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
      trigger: {
        event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
        pubsub_topic: '${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      },
      retryPolicy: 'RETRY_POLICY_RETRY',
      source: {
        bucket: '${google_storage_bucket.Responder_SourceBucket_FB116052.name}',
        object: '${google_storage_bucket_object.Responder_SourceObject_C919C8FB.name}',
        generation: '${google_storage_bucket_object.Responder_SourceObject_C919C8FB.generation}',
      },
      dependsOn: ['time_sleep.Responder_IamPropagation_9489DE8C', 'google_firestore_database.Responder_LedgerDatabase_CC41B944'],
      environment: {
        RESPONSE_MODE: 'shutdown',
        // Named but never read in the shutdown mode: no such database is created.
        FIRESTORE_DATABASE: 'integrity-responder-baselines',
        BASELINE_COLLECTION: 'known_good_measurements',
        LEDGER_DATABASE: 'integrity-responder-decisions',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      },
    },
  },
  buckets: ['Responder_SourceBucket_FB116052'],
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9',
        'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_EventarcServiceAgent_815F29EC',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  serviceIdentities: {
    Responder_EventarcServiceAgent_815F29EC: 'eventarc.googleapis.com',
    Responder_PubsubServiceAgent_A78C68B5: 'pubsub.googleapis.com',
  },
  databases: {
    Responder_LedgerDatabase_CC41B944: { name: 'integrity-responder-decisions', ...PROTECTED },
  },
  projects: { Responder_Project_AFA5E3A9: 'fleet-prod-1234' },
};

const APIS = [
  'google_project_service.Responder_ApiArtifactregistry_2D46048A',
  'google_project_service.Responder_ApiCloudbuild_1B69CFAF',
  'google_project_service.Responder_ApiCloudfunctions_4943696A',
  'google_project_service.Responder_ApiCloudresourcemanager_BD4EDB73',
  'google_project_service.Responder_ApiCompute_8A148C7F',
  'google_project_service.Responder_ApiEventarc_0E3BDAA0',
  'google_project_service.Responder_ApiFirestore_83C77DC4',
  'google_project_service.Responder_ApiIam_1AE4DEBE',
  'google_project_service.Responder_ApiLogging_A91B086F',
  'google_project_service.Responder_ApiPubsub_08EFC8C4',
  'google_project_service.Responder_ApiRun_8BC831BA',
  'google_project_service.Responder_ApiStorage_C5158BE4',
];

/**
 * `synthResponders({ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true })`:
 * the original tutorial's setup. As the shutdown mode, but the function also waits for the APIs
 * and is told `(default)`.
 */
export const EXPECTED_TUTORIAL: PlanExpectation = {
  ...EXPECTED_SHUTDOWN,
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_SHUTDOWN.functions.Responder_Function_73C2D4D9!,
      dependsOn: [...APIS, 'time_sleep.Responder_IamPropagation_9489DE8C', 'google_firestore_database.Responder_LedgerDatabase_CC41B944'],
      environment: { ...EXPECTED_SHUTDOWN.functions.Responder_Function_73C2D4D9!.environment, FIRESTORE_DATABASE: '(default)' },
    },
  },
};

/** `fleet-a` of the two-responder stack: the default responder under another prefix (same logical ids). */
const EXPECTED_FLEET_A: PlanExpectation = {
  ...EXPECTED_DEFAULT,
  iam: {
    ...EXPECTED_DEFAULT.iam,
    'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D': {
      role: 'roles/datastore.viewer',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/fleet-a-baselines"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF': {
      role: '${google_project_iam_custom_role.Responder_LedgerRole_9085AFBB.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/fleet-a-decisions"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0': {
      role: 'roles/storage.objectViewer',
      member: 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}',
      condition:
        'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${data.google_project.Responder_Project_AFA5E3A9.number}-us-central1/objects/fleet-a-handler/")',
      on: { project: 'fleet-prod-1234' },
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment,
        FIRESTORE_DATABASE: 'fleet-a-baselines',
        LEDGER_DATABASE: 'fleet-a-decisions',
      },
    },
  },
  databases: {
    Responder_BaselineDatabase_393D3DE7: { name: 'fleet-a-baselines', ...PROTECTED },
    Responder_LedgerDatabase_CC41B944: { name: 'fleet-a-decisions', ...PROTECTED },
  },
};

/** `fleet-b` of the two-responder stack: relearn mode, baselines in `(default)`. */
const EXPECTED_FLEET_B: PlanExpectation = {
  iam: {
    'google_pubsub_topic_iam_member.Responder2_SinkPublishesToTopic_E79618CB': {
      role: 'roles/pubsub.publisher',
      member: '${google_logging_project_sink.Responder2_Sink_8272624E.writer_identity}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder2_Topic_DE4B9D1A.name}' },
    },
    'google_project_iam_member.Responder2_RuntimeActsOnInstances_B4566F7F': {
      role: '${google_project_iam_custom_role.Responder2_InstanceRole_FF8D4005.name}',
      member: 'serviceAccount:${google_service_account.Responder2_RuntimeServiceAccount_8001A31B.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder2_RuntimeReadsBaselines_C76D8371': {
      role: 'roles/datastore.viewer',
      member: 'serviceAccount:${google_service_account.Responder2_RuntimeServiceAccount_8001A31B.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/(default)"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder2_RuntimeWritesLedger_FF106DDD': {
      role: '${google_project_iam_custom_role.Responder2_LedgerRole_206DD0A4.name}',
      member: 'serviceAccount:${google_service_account.Responder2_RuntimeServiceAccount_8001A31B.email}',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/fleet-b-decisions"',
      on: { project: 'fleet-prod-1234' },
    },
    'google_artifact_registry_repository_iam_member.Responder2_BuildPushesImages_82A1B366': {
      role: 'roles/artifactregistry.writer',
      member: 'serviceAccount:${google_service_account.Responder2_BuildServiceAccount_84B790CB.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        repository: '${google_artifact_registry_repository.Responder2_BuildRepository_AC5F9511.name}',
      },
    },
    'google_project_iam_member.Responder2_BuildWritesLogs_C0865031': {
      role: 'roles/logging.logWriter',
      member: 'serviceAccount:${google_service_account.Responder2_BuildServiceAccount_84B790CB.email}',
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_member.Responder2_BuildReadsStagedSource_0F5C32C6': {
      role: 'roles/storage.objectViewer',
      member: 'serviceAccount:${google_service_account.Responder2_BuildServiceAccount_84B790CB.email}',
      condition:
        'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${data.google_project.Responder2_Project_A726ABD5.number}-us-central1/objects/fleet-b-handler/")',
      on: { project: 'fleet-prod-1234' },
    },
    'google_service_account_iam_member.Responder2_PubsubAgentMintsTriggerTokens_8D42A632': {
      role: 'roles/iam.serviceAccountTokenCreator',
      member: '${google_project_service_identity.Responder2_PubsubServiceAgent_C01571E6.member}',
      on: { service_account_id: '${google_service_account.Responder2_TriggerServiceAccount_D0B38748.name}' },
    },
    'google_cloud_run_v2_service_iam_member.Responder2_TriggerInvokesFunction_12B696C0': {
      role: 'roles/run.invoker',
      member: 'serviceAccount:${google_service_account.Responder2_TriggerServiceAccount_D0B38748.email}',
      on: {
        project: 'fleet-prod-1234',
        location: 'us-central1',
        name: '${google_cloudfunctions2_function.Responder2_Function_C3D90ABA.service_config[0].service}',
      },
    },
  },
  customRoles: {
    Responder2_InstanceRole_FF8D4005: [
      'compute.instances.get',
      'compute.instances.setShieldedInstanceIntegrityPolicy',
      'compute.instances.stop',
      'compute.zoneOperations.get',
    ],
    Responder2_LedgerRole_206DD0A4: [
      'datastore.databases.get',
      'datastore.entities.create',
      'datastore.entities.get',
      'datastore.entities.update',
    ],
  },
  sinks: {
    Responder2_Sink_8272624E: { filter: FILTER, destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder2_Topic_DE4B9D1A.id}' },
  },
  functions: {
    Responder2_Function_C3D90ABA: {
      ingress: 'ALLOW_INTERNAL_ONLY',
      buildServiceAccount: '${google_service_account.Responder2_BuildServiceAccount_84B790CB.id}',
      runtimeServiceAccount: '${google_service_account.Responder2_RuntimeServiceAccount_8001A31B.email}',
      triggerServiceAccount: '${google_service_account.Responder2_TriggerServiceAccount_D0B38748.email}',
      trigger: {
        event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
        pubsub_topic: '${google_pubsub_topic.Responder2_Topic_DE4B9D1A.id}',
      },
      retryPolicy: 'RETRY_POLICY_RETRY',
      source: {
        bucket: '${google_storage_bucket.Responder2_SourceBucket_DD00666E.name}',
        object: '${google_storage_bucket_object.Responder2_SourceObject_40D4C3DC.name}',
        generation: '${google_storage_bucket_object.Responder2_SourceObject_40D4C3DC.generation}',
      },
      dependsOn: ['time_sleep.Responder2_IamPropagation_20B04765', 'google_firestore_database.Responder2_LedgerDatabase_773FF561'],
      environment: {
        RESPONSE_MODE: 'relearn-if-known-good',
        FIRESTORE_DATABASE: '(default)',
        BASELINE_COLLECTION: 'known_good_measurements',
        LEDGER_DATABASE: 'fleet-b-decisions',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      },
    },
  },
  buckets: ['Responder2_SourceBucket_DD00666E'],
  iamPropagation: {
    Responder2_IamPropagation_20B04765: {
      createDuration: '120s',
      dependsOn: [
        'google_pubsub_topic_iam_member.Responder2_SinkPublishesToTopic_E79618CB',
        'google_project_iam_member.Responder2_RuntimeActsOnInstances_B4566F7F',
        'google_project_iam_member.Responder2_RuntimeReadsBaselines_C76D8371',
        'google_project_iam_member.Responder2_RuntimeWritesLedger_FF106DDD',
        'google_artifact_registry_repository_iam_member.Responder2_BuildPushesImages_82A1B366',
        'google_project_iam_member.Responder2_BuildWritesLogs_C0865031',
        'google_project_iam_member.Responder2_BuildReadsStagedSource_0F5C32C6',
        'google_project_service_identity.Responder2_EventarcServiceAgent_00F89D61',
        'google_project_service_identity.Responder2_PubsubServiceAgent_C01571E6',
        'google_service_account_iam_member.Responder2_PubsubAgentMintsTriggerTokens_8D42A632',
      ],
    },
  },
  serviceIdentities: {
    Responder2_EventarcServiceAgent_00F89D61: 'eventarc.googleapis.com',
    Responder2_PubsubServiceAgent_C01571E6: 'pubsub.googleapis.com',
  },
  databases: {
    Responder2_LedgerDatabase_773FF561: { name: 'fleet-b-decisions', ...PROTECTED },
  },
  projects: { Responder2_Project_A726ABD5: 'fleet-prod-1234' },
};

/** `synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' })`. */
export const EXPECTED_TWO_RESPONDERS: PlanExpectation = together(EXPECTED_FLEET_A, EXPECTED_FLEET_B);
