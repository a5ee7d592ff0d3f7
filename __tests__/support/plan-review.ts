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
 * authoritative IAM resource, never the default compute service account, private buckets, no
 * log sink that intercepts its children's entries, no sink created before the push
 * subscription that delivers its topic, no push subscription without an OIDC token or without a
 * dead-letter policy, no subscription that expires, no custom role that removes tag bindings,
 * and a tag value's users named one by one or as a group, never a whole domain.
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
  /**
   * The attributes naming what the grant is on: project, topic, subscription, repository,
   * service, service account, folder or organization (`org_id`).
   */
  on: Record<string, string>;
}

/** A custom role: a project role (`on: { project }`) or an organization role (`on: { org_id }`). */
export interface CustomRoleExpectation {
  /** Exactly these permissions, in any order. */
  permissions: string[];
  /** Where the role is defined. */
  on: Record<string, string>;
}

/**
 * A log sink of a project, folder or organization. Which of the three it is comes from its
 * `type.id` key: a project sink must have a writer identity of its own and no children to
 * include; a folder or organization sink must include its children and never intercept them.
 */
export interface SinkExpectation {
  /** Where the sink lives: `{ project }`, `{ folder }` or `{ org_id }`. */
  parent: Record<string, string>;
  filter: string;
  destination: string;
  /** The exclusions, name and filter, in plan order; empty for none (always, for a project sink). */
  exclusions: { name: string; filter: string }[];
}

/** The push subscription that delivers events to a function. */
export interface DeliveryExpectation {
  /** The topic it subscribes to (the sink's destination). */
  topic: string;
  /** Where Pub/Sub pushes: the function's URL, with a path naming the topic. */
  pushEndpoint: string;
  /** The identity whose OIDC token each push carries (the one holding `run.invoker`). */
  oidcServiceAccount: string;
  /** The token's audience: the function's URL, which Cloud Run checks it against. */
  oidcAudience: string;
  ackDeadlineSeconds: number;
  minimumBackoff: string;
  maximumBackoff: string;
  deadLetterTopic: string;
  maxDeliveryAttempts: number;
  /** `message_retention_duration`. */
  retention: string;
}

/** A pull subscription keeping the dead letters of a topic for an operator. */
export interface DeadLetterSubscriptionExpectation {
  topic: string;
  retention: string;
}

export interface FunctionExpectation {
  ingress: string;
  buildServiceAccount: string;
  runtimeServiceAccount: string;
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

/** One rule of the quarantine's firewall policy: it denies all traffic of one direction and address family to a tagged VM. */
export interface QuarantineRuleExpectation {
  /** The policy it belongs to (`${google_compute_firewall_policy.X.name}`). */
  policy: string;
  direction: 'INGRESS' | 'EGRESS';
  priority: number;
  /** The one IP range it matches: the source range of an ingress rule, the destination range of an egress rule. */
  range: string;
  /** The one secure tag value it targets (`${google_tags_tag_value.X.id}`). */
  target: string;
}

/**
 * The quarantine of a containment playbook (ADR 0031): a secure tag key of an organization for
 * firewalls on every network (`GCE_FIREWALL`, `organization = auto`), its value, a hierarchical
 * firewall policy holding deny-all rules that target the value, and the policy's association;
 * or, with `existingPolicy`, the rules alone, in a policy the plan neither creates nor associates.
 */
export interface QuarantineExpectation {
  /** `google_tags_tag_key` id → the organization holding it (`organizations/<number>`). */
  tagKeys: Record<string, string>;
  /** `google_tags_tag_value` id → the key it is a value of (`${google_tags_tag_key.X.id}`). */
  tagValues: Record<string, string>;
  /** `google_compute_firewall_policy` id → its parent, a folder or an organization. */
  policies: Record<string, string>;
  /** `google_compute_firewall_policy_association` id → the policy (`${….id}`) and the node it is associated with. */
  associations: Record<string, { policy: string; target: string }>;
  /** `google_compute_firewall_policy_rule` id → what it denies. */
  rules: Record<string, QuarantineRuleExpectation>;
  /**
   * The existing policy the rules go into (as the rules name it) and the first of their
   * consecutive priorities: the plan then creates no policy and associates none.
   */
  existingPolicy?: { policy: string; firstPriority: number };
}

/** Everything security-relevant in one plan, keyed by logical id. */
export interface PlanExpectation {
  /** Every IAM resource (`*_iam_member`, `*_iam_binding`, `*_iam_policy`) in the plan, keyed `type.id`. */
  iam: Record<string, GrantExpectation>;
  /** Every custom role (project and organization), keyed `type.id`. */
  customRoles: Record<string, CustomRoleExpectation>;
  /** Every log sink (project, folder and organization), keyed `type.id`. */
  sinks: Record<string, SinkExpectation>;
  /** `google_pubsub_topic` id → `message_retention_duration`. */
  topics: Record<string, string>;
  /** The push subscriptions, by `google_pubsub_subscription` id. */
  deliveries: Record<string, DeliveryExpectation>;
  /** The dead-letter pull subscriptions, by `google_pubsub_subscription` id. */
  deadLetterSubscriptions: Record<string, DeadLetterSubscriptionExpectation>;
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
  /**
   * The grants, keyed `type.id`, that may let their member write log entries where a sink of the
   * plan reads the integrity log, each with why it has to stay. Anything else that can write
   * there is a finding.
   */
  logWritersInScope: Record<string, string>;
  /** The quarantine's tag, policy, rules and association; none when absent. */
  quarantine?: QuarantineExpectation;
  /** `google_scc_v2_organization_source` id → the organization number it belongs to; none when absent. */
  findingsSources?: Record<string, string>;
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
  'custom-role-inventory',
  'custom-role-permissions',
  'custom-role-target',
  'sink-inventory',
  'sink-parent',
  'sink-filter',
  'sink-destination',
  'sink-writer-identity',
  'sink-include-children',
  'sink-never-intercepts',
  'sink-exclusions',
  'sink-after-delivery',
  'topic-inventory',
  'topic-retention',
  'subscription-inventory',
  'delivery-topic',
  'delivery-endpoint',
  'delivery-oidc-identity',
  'delivery-ack-deadline',
  'delivery-backoff',
  'delivery-dead-letter',
  'delivery-retention',
  'dead-letter-pull',
  'push-needs-oidc',
  'push-needs-dead-letter',
  'subscription-never-expires',
  'function-inventory',
  'function-ingress',
  'function-build-identity',
  'function-runtime-identity',
  'function-no-event-trigger',
  'function-source',
  'function-depends-on',
  'function-environment',
  'bucket-inventory',
  'bucket-uniform-access',
  'bucket-public-access-prevention',
  'iam-propagation-wait',
  'log-writer-in-watched-scope',
  'service-identities',
  'firestore-databases',
  'quarantine-inventory',
  'quarantine-tag',
  'quarantine-rules',
  'quarantine-association',
  'quarantine-existing-policy',
  'quarantine-never-lifted-by-runtime',
  'quarantine-release-principals',
  'findings-sources',
] as const;

export type Check = (typeof CHECKS)[number];

const IAM_RESOURCE = /_iam_(member|binding|policy)$/;
/** Predefined roles holding `logging.logEntries.create` that a plan could plausibly grant (primitive roles are refused anyway). */
const LOG_WRITING_ROLES = /^roles\/logging\.(logWriter|admin)$/;
/** The log a folder or organization sink must leave out, by name, for a project it does not watch. */
const integrityLogOf = (project: string) => `logName="projects/${project}/logs/compute.googleapis.com%2Fshielded_vm_integrity"`;
const AUTHORITATIVE = /_iam_(binding|policy)$/;
const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;
const PUBLIC = /^(allUsers|allAuthenticatedUsers)$/;
const DEFAULT_COMPUTE_SA = /-compute@developer\.gserviceaccount\.com|google_compute_default_service_account/;
const CUSTOM_ROLE_TYPES = ['google_project_iam_custom_role', 'google_organization_iam_custom_role'];
/**
 * Who may be a user of a tag value: a user, a group, a service account, one federated identity,
 * or a workforce pool's group. Never a domain or another principal set (a whole pool, an
 * attribute value, every service account of a project or organization): each member of those
 * could lift any quarantine.
 */
const NAMED_MEMBER =
  /^(?:(?:user|group|serviceAccount):[^\s:]+|principal:\/\/\S+|principalSet:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\/[^/\s]+\/group\/[^/\s]+)$/;
const PROJECT_SINK = 'google_logging_project_sink';
const SINK_TYPES = [PROJECT_SINK, 'google_logging_folder_sink', 'google_logging_organization_sink'];

/** Reviews a plan against what it is expected to hold; an empty list means nothing to object to. */
export function reviewPlan(plan: PlanDoc, expected: PlanExpectation): Finding[] {
  const findings: Finding[] = [];
  const report = (check: Check, problem: string) => findings.push({ check, problem });
  const resources = plan.resource ?? {};
  const all = Object.entries(resources).flatMap(([type, byId]) =>
    Object.entries(byId ?? {}).map(([id, body]) => ({ type, id, body, at: `${type}.${id}` })),
  );
  const ofType = (type: string) => resources[type] ?? {};
  const field = (check: Check, at: string, path: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) report(check, `${at} ${path} is ${show(actual)}; expected ${show(wanted)}`);
  };

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

  // Custom roles, of a project or an organization: exactly the expected permissions, where expected.
  compareAddressed('custom-role-inventory', CUSTOM_ROLE_TYPES, ofType, expected.customRoles, report, (at, body, want) => {
    const actual = Array.isArray(body.permissions) ? (body.permissions as unknown[]).map(String) : [];
    const extra = actual.filter((p) => !want.permissions.includes(p));
    const missing = want.permissions.filter((p) => !actual.includes(p));
    if (extra.length > 0) report('custom-role-permissions', `${at} holds ${extra.join(', ')} beyond ${want.permissions.join(', ')}`);
    if (missing.length > 0) report('custom-role-permissions', `${at} lacks ${missing.join(', ')}`);
    for (const key of ['project', 'org_id']) field('custom-role-target', at, key, body[key], want.on[key]);
  });

  // The plan's custom roles are the runtime's. The function binds the quarantine's tag value and
  // never removes a binding (a release principal does, with credentials of its own): with
  // deleteTagBinding beside its tagUser on the value, a stolen runtime identity could lift every
  // quarantine of the scope.
  for (const type of CUSTOM_ROLE_TYPES) {
    for (const [id, body] of Object.entries(ofType(type))) {
      const permissions = Array.isArray(body.permissions) ? (body.permissions as unknown[]).map(String) : [];
      if (permissions.includes('compute.instances.deleteTagBinding'))
        report(
          'quarantine-never-lifted-by-runtime',
          `${type}.${id} holds compute.instances.deleteTagBinding: the function never removes a tag binding, and its identity, a tag user of the quarantine value, could lift every quarantine`,
        );
    }
  }
  // Whoever uses a tag value of the plan can bind or remove it: named one by one or as a group.
  for (const { type, body, at } of iam) {
    if (!type.startsWith('google_tags_tag_value_iam_')) continue;
    const members = [body.member, ...(Array.isArray(body.members) ? body.members : [])].filter((m) => m !== undefined).map(String);
    for (const m of members) {
      if (NAMED_MEMBER.test(m)) continue;
      report(
        'quarantine-release-principals',
        `${at} makes ${m} a user of the tag value: everyone in it could lift any quarantine; name the responders' group instead`,
      );
    }
  }

  // Log sinks: exactly the integrity entries of the scope, less its exclusions, to the responder's topic.
  compareAddressed('sink-inventory', SINK_TYPES, ofType, expected.sinks, report, (at, body, want, type) => {
    for (const key of ['project', 'folder', 'org_id']) field('sink-parent', at, key, body[key], want.parent[key]);
    if (body.filter !== want.filter) report('sink-filter', `${at} exports ${show(body.filter)}; expected ${want.filter}`);
    if (body.destination !== want.destination)
      report('sink-destination', `${at} sends to ${show(body.destination)}; expected ${want.destination}`);
    if (type === PROJECT_SINK) {
      if (body.unique_writer_identity !== true) report('sink-writer-identity', `${at} has no writer identity of its own`);
    } else {
      field('sink-include-children', at, 'include_children', body.include_children, true);
      // Stated, not left to the default: an intercepting sink would take the entries from the projects' own sinks.
      // (`true` is reported below, for any sink.)
      if (body.intercept_children === undefined) report('sink-never-intercepts', `${at} leaves intercept_children unset; expected false`);
    }
    const exclusions = (Array.isArray(body.exclusions) ? (body.exclusions as Body[]) : []).map((e) => ({ name: e.name, filter: e.filter }));
    if (JSON.stringify(exclusions) !== JSON.stringify(want.exclusions))
      report('sink-exclusions', `${at} excludes ${JSON.stringify(exclusions)}; expected ${JSON.stringify(want.exclusions)}`);
    const disabled = (Array.isArray(body.exclusions) ? (body.exclusions as Body[]) : []).filter((e) => e.disabled === true);
    for (const e of disabled) report('sink-exclusions', `${at} exclusion ${show(e.name)} is disabled`);
  });
  for (const type of SINK_TYPES) {
    for (const [id, body] of Object.entries(ofType(type))) {
      if (body.intercept_children === true)
        report('sink-never-intercepts', `${type}.${id} intercepts its children's entries: their own sinks would no longer see them`);
    }
  }
  // A sink exporting to a topic must come after the push subscription that delivers that topic:
  // Pub/Sub drops what is published to a topic without subscriptions, so the reports of the
  // first deploy would be lost between the sink's creation and the subscription's.
  for (const type of SINK_TYPES) {
    for (const [id, body] of Object.entries(ofType(type))) {
      const topic = /^pubsub\.googleapis\.com\/(.+)$/.exec(String(body.destination))?.[1];
      if (topic === undefined) continue;
      const at = `${type}.${id}`;
      const deliveries = Object.entries(ofType('google_pubsub_subscription')).filter(
        ([, sub]) => sub.topic === topic && sub.push_config !== undefined,
      );
      if (deliveries.length === 0) report('sink-after-delivery', `${at} exports to ${topic}, which no push subscription delivers`);
      const waits = Array.isArray(body.depends_on) ? (body.depends_on as unknown[]).map(String) : [];
      for (const [sub] of deliveries) {
        if (!waits.includes(`google_pubsub_subscription.${sub}`))
          report(
            'sink-after-delivery',
            `${at} does not wait for google_pubsub_subscription.${sub}: what it exports before that subscription exists reaches a topic without subscriptions, and Pub/Sub drops it`,
          );
      }
    }
  }

  // Topics: the expected ones, keeping messages while the function cannot take them.
  compareInventory('topic-inventory', 'google_pubsub_topic', ofType, expected.topics, report, (at, body, want) => {
    field('topic-retention', at, 'message_retention_duration', body.message_retention_duration, want);
  });

  // Subscriptions: the push deliveries and the dead-letter pull subscriptions, nothing else.
  const subscriptions = ofType('google_pubsub_subscription');
  const expectedSubscriptions = new Set([...Object.keys(expected.deliveries), ...Object.keys(expected.deadLetterSubscriptions)]);
  for (const id of Object.keys(subscriptions))
    if (!expectedSubscriptions.has(id)) report('subscription-inventory', `google_pubsub_subscription.${id} is not expected`);
  for (const id of expectedSubscriptions)
    if (subscriptions[id] === undefined) report('subscription-inventory', `google_pubsub_subscription.${id} is missing`);
  for (const [id, want] of Object.entries(expected.deliveries)) {
    const body = subscriptions[id];
    if (body === undefined) continue;
    const at = `google_pubsub_subscription.${id}`;
    field('delivery-topic', at, 'topic', body.topic, want.topic);
    field('delivery-endpoint', at, 'push_config.push_endpoint', body.push_config?.push_endpoint, want.pushEndpoint);
    field(
      'delivery-oidc-identity',
      at,
      'push_config.oidc_token.service_account_email',
      body.push_config?.oidc_token?.service_account_email,
      want.oidcServiceAccount,
    );
    field('delivery-oidc-identity', at, 'push_config.oidc_token.audience', body.push_config?.oidc_token?.audience, want.oidcAudience);
    field('delivery-ack-deadline', at, 'ack_deadline_seconds', body.ack_deadline_seconds, want.ackDeadlineSeconds);
    field('delivery-backoff', at, 'retry_policy.minimum_backoff', body.retry_policy?.minimum_backoff, want.minimumBackoff);
    field('delivery-backoff', at, 'retry_policy.maximum_backoff', body.retry_policy?.maximum_backoff, want.maximumBackoff);
    field(
      'delivery-dead-letter',
      at,
      'dead_letter_policy.dead_letter_topic',
      body.dead_letter_policy?.dead_letter_topic,
      want.deadLetterTopic,
    );
    field(
      'delivery-dead-letter',
      at,
      'dead_letter_policy.max_delivery_attempts',
      body.dead_letter_policy?.max_delivery_attempts,
      want.maxDeliveryAttempts,
    );
    field('delivery-retention', at, 'message_retention_duration', body.message_retention_duration, want.retention);
  }
  for (const [id, want] of Object.entries(expected.deadLetterSubscriptions)) {
    const body = subscriptions[id];
    if (body === undefined) continue;
    const at = `google_pubsub_subscription.${id}`;
    field('dead-letter-pull', at, 'topic', body.topic, want.topic);
    field('dead-letter-pull', at, 'message_retention_duration', body.message_retention_duration, want.retention);
    if (body.push_config !== undefined) report('dead-letter-pull', `${at} pushes its dead letters somewhere; expected a pull subscription`);
  }
  for (const [id, body] of Object.entries(subscriptions)) {
    const at = `google_pubsub_subscription.${id}`;
    if (body.push_config !== undefined) {
      if (typeof body.push_config.oidc_token?.service_account_email !== 'string')
        report('push-needs-oidc', `${at} pushes without an OIDC token: the function could not tell its pushes from anyone's`);
      if (typeof body.dead_letter_policy?.dead_letter_topic !== 'string')
        report(
          'push-needs-dead-letter',
          `${at} pushes without a dead-letter policy: an event refused for good is retried until it expires`,
        );
    }
    // An unset policy expires a subscription after 31 days without activity: a quiet fleet would lose its delivery.
    if (body.expiration_policy?.ttl !== '')
      report('subscription-never-expires', `${at} expiration_policy.ttl is ${show(body.expiration_policy?.ttl)}; expected '' (never)`);
  }

  // The function: ingress, its identities, no Eventarc trigger, source, ordering, configuration.
  compareInventory('function-inventory', 'google_cloudfunctions2_function', ofType, expected.functions, report, (at, body, want) => {
    field('function-ingress', at, 'service_config.ingress_settings', body.service_config?.ingress_settings, want.ingress);
    field('function-build-identity', at, 'build_config.service_account', body.build_config?.service_account, want.buildServiceAccount);
    field(
      'function-runtime-identity',
      at,
      'service_config.service_account_email',
      body.service_config?.service_account_email,
      want.runtimeServiceAccount,
    );
    // Delivery is the push subscription's: an Eventarc trigger would be a second, unreviewed path.
    if (body.event_trigger !== undefined) report('function-no-event-trigger', `${at} has an event_trigger ${show(body.event_trigger)}`);
    const source = body.build_config?.source?.storage_source ?? {};
    for (const key of ['bucket', 'object', 'generation'] as const) {
      field('function-source', at, `build_config.source.storage_source.${key}`, source[key], want.source[key]);
    }
    if (body.build_config?.source?.repo_source !== undefined) report('function-source', `${at} builds from a repository`);
    compareSets('function-depends-on', `${at} depends_on`, body.depends_on, want.dependsOn, report);
    const env: Record<string, unknown> = body.service_config?.environment_variables ?? {};
    for (const key of new Set([...Object.keys(env), ...Object.keys(want.environment)])) {
      field('function-environment', at, `environment variable ${key}`, env[key], want.environment[key]);
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

  // Who can write log entries where a sink reads the integrity log. `entries.write` lets the
  // caller choose the log name and the resource freely, so such a writer can forge integrity
  // reports the responder acts on. A project sink reads its own project; a folder or organization
  // sink every project below it (the plan does not say which) but those it excludes by log name.
  const sinks = SINK_TYPES.flatMap((type) => Object.entries(ofType(type)).map(([id, body]) => ({ type, at: `${type}.${id}`, body })));
  const readersOf = (project: string | undefined) =>
    sinks
      .filter(({ type, body }) =>
        type === PROJECT_SINK
          ? project === undefined || body.project === project
          : project === undefined ||
            !(Array.isArray(body.exclusions) ? (body.exclusions as Body[]) : []).some(
              (e) => e.filter === integrityLogOf(project) && e.disabled !== true,
            ),
      )
      .map(({ at }) => at);
  const writingRoles = new Set(
    CUSTOM_ROLE_TYPES.flatMap((type) =>
      Object.entries(ofType(type))
        .filter(([, body]) => Array.isArray(body.permissions) && (body.permissions as unknown[]).includes('logging.logEntries.create'))
        .map(([id]) => `\${${type}.${id}.name}`),
    ),
  );
  const writersInScope = new Set<string>();
  for (const { type, body, at } of iam) {
    const role = String(body.role);
    if (!LOG_WRITING_ROLES.test(role) && !writingRoles.has(role)) continue;
    // A grant above a project reaches every project below it: any sink may read there.
    const project = type === 'google_project_iam_member' ? String(body.project) : undefined;
    const readers = readersOf(project);
    if (readers.length === 0) continue;
    writersInScope.add(at);
    if (at in expected.logWritersInScope) continue;
    report(
      'log-writer-in-watched-scope',
      `${at} lets ${show(body.member)} write log entries (${role}) ${project !== undefined ? `in project ${project}` : 'below its folder or organization'}, whose integrity log ${readers.join(' and ')} reads: it can write entries that read as Shielded VM integrity reports, and the responder acts on them`,
    );
  }
  for (const at of Object.keys(expected.logWritersInScope)) {
    if (!writersInScope.has(at))
      report(
        'log-writer-in-watched-scope',
        `${at} is accepted as a log writer in the watched scope, but the plan has no such writer where a sink reads the integrity log: drop it from the expectation`,
      );
  }

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

  reviewQuarantine(ofType, expected.quarantine, report);

  // Security Command Center sources: the expected ones, each in its organization.
  compareInventory(
    'findings-sources',
    'google_scc_v2_organization_source',
    ofType,
    expected.findingsSources ?? {},
    report,
    (at, body, want) => {
      if (body.organization !== want) report('findings-sources', `${at} is in organization ${show(body.organization)}; expected ${want}`);
    },
  );
  for (const type of ['google_scc_source', 'google_scc_organization_custom_module']) {
    for (const id of Object.keys(ofType(type))) report('findings-sources', `${type}.${id} is not expected`);
  }

  return findings;
}

/**
 * The quarantine: exactly the expected tag key, value, policy, rules and association. A rule
 * must deny every protocol of its whole address range to exactly the quarantine's tag value,
 * and be enabled: an `allow`, a narrower range or another target would leave a quarantined VM
 * reachable. The tag key must be one for firewalls on every network of its organization, and the
 * association must put the policy where it is expected (a policy associated nowhere enforces
 * nothing).
 */
function reviewQuarantine(
  ofType: (type: string) => Record<string, Body>,
  expected: QuarantineExpectation | undefined,
  report: (check: Check, problem: string) => void,
): void {
  const want = expected ?? { tagKeys: {}, tagValues: {}, policies: {}, associations: {}, rules: {} };
  const field = (check: Check, at: string, path: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) report(check, `${at} ${path} is ${show(actual)}; expected ${show(wanted)}`);
  };
  compareInventory('quarantine-inventory', 'google_tags_tag_key', ofType, want.tagKeys, report, (at, body, parent) => {
    field('quarantine-tag', at, 'parent', body.parent, parent);
    field('quarantine-tag', at, 'purpose', body.purpose, 'GCE_FIREWALL');
    field('quarantine-tag', at, 'purpose_data', body.purpose_data, { organization: 'auto' });
  });
  compareInventory('quarantine-inventory', 'google_tags_tag_value', ofType, want.tagValues, report, (at, body, key) => {
    field('quarantine-tag', at, 'parent', body.parent, key);
  });
  compareInventory('quarantine-inventory', 'google_compute_firewall_policy', ofType, want.policies, report, (at, body, parent) => {
    field('quarantine-association', at, 'parent', body.parent, parent);
  });
  compareInventory(
    'quarantine-inventory',
    'google_compute_firewall_policy_association',
    ofType,
    want.associations,
    report,
    (at, body, w) => {
      field('quarantine-association', at, 'firewall_policy', body.firewall_policy, w.policy);
      field('quarantine-association', at, 'attachment_target', body.attachment_target, w.target);
    },
  );
  compareInventory('quarantine-inventory', 'google_compute_firewall_policy_rule', ofType, want.rules, report, (at, body, w) => {
    field('quarantine-rules', at, 'action', body.action, 'deny');
    if (body.disabled === true) report('quarantine-rules', `${at} is disabled`);
    field('quarantine-rules', at, 'firewall_policy', body.firewall_policy, w.policy);
    field('quarantine-rules', at, 'direction', body.direction, w.direction);
    field('quarantine-rules', at, 'priority', body.priority, w.priority);
    field('quarantine-rules', at, 'target_secure_tags', body.target_secure_tags, [{ name: w.target }]);
    for (const key of ['target_resources', 'target_service_accounts']) {
      if (body[key] !== undefined) report('quarantine-rules', `${at} narrows its targets by ${key} ${show(body[key])}`);
    }
    const ranges = w.direction === 'INGRESS' ? 'src_ip_ranges' : 'dest_ip_ranges';
    const match: Body = body.match ?? {};
    field('quarantine-rules', at, `match.${ranges}`, match[ranges], [w.range]);
    field('quarantine-rules', at, 'match.layer4_configs', match.layer4_configs, [{ ip_protocol: 'all' }]);
    const others = Object.keys(match).filter((k) => k !== ranges && k !== 'layer4_configs');
    if (others.length > 0) report('quarantine-rules', `${at} also matches on ${others.join(', ')}: it denies less than everything`);
  });
  if (want.existingPolicy !== undefined) reviewExistingPolicy(ofType, want.existingPolicy, report);
}

/**
 * Rules put into an existing policy: a folder or organization holds one policy association at
 * most, so the plan must create no policy and associate none (an association would fail, or
 * replace the node's own policy), and every rule of the plan must be in that policy, at the
 * consecutive priorities from the one given, which the operator chose above the policy's rules.
 */
function reviewExistingPolicy(
  ofType: (type: string) => Record<string, Body>,
  existing: { policy: string; firstPriority: number },
  report: (check: Check, problem: string) => void,
): void {
  for (const id of Object.keys(ofType('google_compute_firewall_policy'))) {
    report(
      'quarantine-existing-policy',
      `google_compute_firewall_policy.${id} creates a policy: the quarantine's rules belong in the existing policy '${existing.policy}'`,
    );
  }
  for (const [id, body] of Object.entries(ofType('google_compute_firewall_policy_association'))) {
    report(
      'quarantine-existing-policy',
      `google_compute_firewall_policy_association.${id} associates a policy with ${show(body.attachment_target)}, which holds one association at most: the existing policy '${existing.policy}' needs none`,
    );
  }
  const rules = Object.entries(ofType('google_compute_firewall_policy_rule'));
  for (const [id, body] of rules) {
    if (body.firewall_policy !== existing.policy) {
      report(
        'quarantine-existing-policy',
        `google_compute_firewall_policy_rule.${id} is in policy ${show(body.firewall_policy)}; expected the existing policy '${existing.policy}'`,
      );
    }
  }
  const priorities = rules.map(([, body]) => Number(body.priority)).sort((a, b) => a - b);
  const expected = [0, 1, 2, 3].map((i) => existing.firstPriority + i);
  if (JSON.stringify(priorities) !== JSON.stringify(expected)) {
    report(
      'quarantine-existing-policy',
      `the quarantine rules take priorities ${JSON.stringify(priorities)}; expected ${JSON.stringify(expected)}, the four from the one chosen above the existing policy's rules`,
    );
  }
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

/** As {@link compareInventory}, over several types, the expectation keyed `type.id`: a resource of the wrong type is missing. */
function compareAddressed<T>(
  check: Check,
  types: string[],
  ofType: (type: string) => Record<string, Body>,
  expected: Record<string, T>,
  report: (check: Check, problem: string) => void,
  compare: (at: string, body: Body, want: T, type: string) => void,
): void {
  for (const type of types) {
    for (const id of Object.keys(ofType(type))) if (!(`${type}.${id}` in expected)) report(check, `${type}.${id} is not expected`);
  }
  for (const [at, want] of Object.entries(expected)) {
    const [type, id] = splitAddress(at);
    const body = types.includes(type) ? ofType(type)[id] : undefined;
    if (body === undefined) report(check, `${at} is missing`);
    else compare(at, body, want, type);
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
  const merge = <K extends Exclude<keyof PlanExpectation, 'buckets'>>(key: K): PlanExpectation[K] =>
    Object.assign({}, ...expectations.map((e) => e[key]));
  return {
    iam: merge('iam'),
    customRoles: merge('customRoles'),
    sinks: merge('sinks'),
    topics: merge('topics'),
    deliveries: merge('deliveries'),
    deadLetterSubscriptions: merge('deadLetterSubscriptions'),
    functions: merge('functions'),
    buckets: expectations.flatMap((e) => e.buckets),
    iamPropagation: merge('iamPropagation'),
    serviceIdentities: merge('serviceIdentities'),
    databases: merge('databases'),
    projects: merge('projects'),
    logWritersInScope: merge('logWritersInScope'),
    ...(expectations.some((e) => e.quarantine) && {
      quarantine: {
        tagKeys: Object.assign({}, ...expectations.map((e) => e.quarantine?.tagKeys)),
        tagValues: Object.assign({}, ...expectations.map((e) => e.quarantine?.tagValues)),
        policies: Object.assign({}, ...expectations.map((e) => e.quarantine?.policies)),
        associations: Object.assign({}, ...expectations.map((e) => e.quarantine?.associations)),
        rules: Object.assign({}, ...expectations.map((e) => e.quarantine?.rules)),
        ...(expectations.some((e) => e.quarantine?.existingPolicy) && {
          existingPolicy: expectations.find((e) => e.quarantine?.existingPolicy)!.quarantine!.existingPolicy!,
        }),
      },
    }),
    ...(expectations.some((e) => e.findingsSources) && { findingsSources: merge('findingsSources') }),
  };
}

/** A copy of `record` without `keys`, each of which it must hold (so a renamed key cannot slip through). */
function without<T>(record: Record<string, T>, ...keys: string[]): Record<string, T> {
  for (const key of keys) if (!(key in record)) throw new Error(`${key} is not in the expectation`);
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

// ---------------------------------------------------------------------------------------------
// The expectations, written out. Project `fleet-prod-1234`, region `us-central1`.

const PROTECTED = { delete_protection_state: 'DELETE_PROTECTION_ENABLED', deletion_policy: 'ABANDON' } as const;
const FILTER = 'resource.type="gce_instance" AND logName="projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity"';
/** The filter of a folder or organization sink: the integrity log of any project below. */
const AGGREGATED_FILTER = 'resource.type="gce_instance" AND log_id("compute.googleapis.com/shielded_vm_integrity")';
const SEVEN_DAYS = '604800s';
/** How a folder or organization sink leaves out the responder's own project: by the name of its integrity log. */
const OWN_PROJECT_EXCLUSION = {
  name: 'skip-responder-project',
  filter: 'logName="projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity"',
};

/**
 * Why the build identity's log writer grant stays in a project scope that names the responder's
 * own project (docs/adr/0023).
 */
const BUILD_WRITES_LOGS_IN_SCOPE =
  "Cloud Build writes the function build's logs to Cloud Logging as the build identity, and Cloud Run functions offer no other place " +
  'for them: without roles/logging.logWriter the build fails. Google documents no IAM condition that narrows the role to some logs ' +
  "(Cloud Logging's resource attributes name log buckets and views), so in a project scope naming the responder's own project, " +
  "whatever runs in the build can write entries that read as integrity reports of that project's VMs. Putting the responder in a " +
  "project of its own and pointing scope at the fleet's project, folder or organization removes it.";

/** Both topics of the responder keep messages seven days. */
const TOPICS = { Responder_Topic_952B14F0: SEVEN_DAYS, Responder_DeadLetterTopic_655DC26A: SEVEN_DAYS };

/**
 * The push subscription of the responder: to the function's URL with the trigger account's OIDC
 * token, waiting as long as the function may run (60 s), retried 10 s to 10 min, dead-lettered
 * after 20 deliveries.
 */
const DELIVERIES: Record<string, DeliveryExpectation> = {
  Responder_Subscription_4E2A55E0: {
    topic: '${google_pubsub_topic.Responder_Topic_952B14F0.id}',
    pushEndpoint:
      '${google_cloudfunctions2_function.Responder_Function_73C2D4D9.service_config[0].uri}/projects/fleet-prod-1234/topics/${google_pubsub_topic.Responder_Topic_952B14F0.name}',
    oidcServiceAccount: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
    oidcAudience: '${google_cloudfunctions2_function.Responder_Function_73C2D4D9.service_config[0].uri}',
    ackDeadlineSeconds: 60,
    minimumBackoff: '10s',
    maximumBackoff: '600s',
    deadLetterTopic: '${google_pubsub_topic.Responder_DeadLetterTopic_655DC26A.id}',
    maxDeliveryAttempts: 20,
    retention: SEVEN_DAYS,
  },
};

const DEAD_LETTER_SUBSCRIPTIONS: Record<string, DeadLetterSubscriptionExpectation> = {
  Responder_DeadLetterSubscription_58130497: {
    topic: '${google_pubsub_topic.Responder_DeadLetterTopic_655DC26A.id}',
    retention: SEVEN_DAYS,
  },
};

/** The grants of the delivery path: the invoker grant, and the Pub/Sub agent's (tokens, dead letters). */
const DELIVERY_IAM: Record<string, GrantExpectation> = {
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
  'google_pubsub_topic_iam_member.Responder_PubsubAgentPublishesDeadLetters_A535F6CE': {
    role: 'roles/pubsub.publisher',
    member: '${google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5.member}',
    on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder_DeadLetterTopic_655DC26A.name}' },
  },
  'google_pubsub_subscription_iam_member.Responder_PubsubAgentForwardsDeadLetters_A5CD9975': {
    role: 'roles/pubsub.subscriber',
    member: '${google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5.member}',
    on: { project: 'fleet-prod-1234', subscription: '${google_pubsub_subscription.Responder_Subscription_4E2A55E0.name}' },
  },
};

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
    ...DELIVERY_IAM,
  },
  customRoles: {
    'google_project_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ],
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_custom_role.Responder_LedgerRole_9085AFBB': {
      permissions: ['datastore.databases.get', 'datastore.entities.create', 'datastore.entities.get', 'datastore.entities.update'],
      on: { project: 'fleet-prod-1234' },
    },
  },
  sinks: {
    'google_logging_project_sink.Responder_Sink_86F16188': {
      parent: { project: 'fleet-prod-1234' },
      filter: FILTER,
      destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      exclusions: [],
    },
  },
  topics: TOPICS,
  deliveries: DELIVERIES,
  deadLetterSubscriptions: DEAD_LETTER_SUBSCRIPTIONS,
  functions: {
    Responder_Function_73C2D4D9: {
      ingress: 'ALLOW_INTERNAL_ONLY',
      buildServiceAccount: '${google_service_account.Responder_BuildServiceAccount_FEC806E6.id}',
      runtimeServiceAccount: '${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
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
        BASELINE_APPROVAL: 'none',
        LEDGER_DATABASE: 'integrity-responder-decisions',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        SCOPE: 'projects/fleet-prod-1234',
        EXCLUDED_PROJECTS: 'none',
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        RELEARN_MAX_AGE_SECONDS: '300',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        INSTANCE_GROUP_ACTION: 'abandon',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      },
    },
  },
  buckets: ['Responder_SourceBucket_FB116052'],
  iamPropagation: {
    // Every grant the function needs and the Pub/Sub agent; not the invoker grant (it names the
    // function's service, so it can only come after), nor the dead-letter grants (the push
    // subscription they name waits for the invoker grant), nor the sink's publisher grant (the
    // sink waits for the push subscription, and its writer identity exists only with it).
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  serviceIdentities: { Responder_PubsubServiceAgent_A78C68B5: 'pubsub.googleapis.com' },
  databases: {
    Responder_BaselineDatabase_393D3DE7: { name: 'integrity-responder-baselines', ...PROTECTED },
    Responder_LedgerDatabase_CC41B944: { name: 'integrity-responder-decisions', ...PROTECTED },
  },
  projects: { Responder_Project_AFA5E3A9: 'fleet-prod-1234' },
  logWritersInScope: { 'google_project_iam_member.Responder_BuildWritesLogs_25230EE5': BUILD_WRITES_LOGS_IN_SCOPE },
};

/** `synthResponders({ responseMode: 'shutdown' })`: stop only; no baselines, so no baseline database or read grant. */
export const EXPECTED_SHUTDOWN: PlanExpectation = {
  iam: without(EXPECTED_DEFAULT.iam, 'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D'),
  customRoles: {
    'google_project_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ],
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_custom_role.Responder_LedgerRole_9085AFBB': {
      permissions: ['datastore.databases.get', 'datastore.entities.create', 'datastore.entities.get', 'datastore.entities.update'],
      on: { project: 'fleet-prod-1234' },
    },
  },
  sinks: EXPECTED_DEFAULT.sinks,
  topics: TOPICS,
  deliveries: DELIVERIES,
  deadLetterSubscriptions: DEAD_LETTER_SUBSCRIPTIONS,
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      dependsOn: ['time_sleep.Responder_IamPropagation_9489DE8C', 'google_firestore_database.Responder_LedgerDatabase_CC41B944'],
      environment: {
        ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment,
        RESPONSE_MODE: 'shutdown',
        // Named but never read in the shutdown mode: no such database is created.
        FIRESTORE_DATABASE: 'integrity-responder-baselines',
      },
    },
  },
  buckets: ['Responder_SourceBucket_FB116052'],
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  serviceIdentities: { Responder_PubsubServiceAgent_A78C68B5: 'pubsub.googleapis.com' },
  databases: {
    Responder_LedgerDatabase_CC41B944: { name: 'integrity-responder-decisions', ...PROTECTED },
  },
  projects: { Responder_Project_AFA5E3A9: 'fleet-prod-1234' },
  logWritersInScope: EXPECTED_DEFAULT.logWritersInScope,
};

const APIS = [
  'google_project_service.Responder_ApiArtifactregistry_2D46048A',
  'google_project_service.Responder_ApiCloudbuild_1B69CFAF',
  'google_project_service.Responder_ApiCloudfunctions_4943696A',
  'google_project_service.Responder_ApiCloudresourcemanager_BD4EDB73',
  'google_project_service.Responder_ApiCompute_8A148C7F',
  'google_project_service.Responder_ApiFirestore_83C77DC4',
  'google_project_service.Responder_ApiIam_1AE4DEBE',
  'google_project_service.Responder_ApiLogging_A91B086F',
  'google_project_service.Responder_ApiMonitoring_AC68ABEC',
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

/**
 * `synthResponders({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'] })`:
 * the default responder watching a whole organization but two sandbox projects. The sink is the
 * organization's, including its children without intercepting them, one exclusion per sandbox;
 * the Compute role is an organization role, bound at the organization under a condition that
 * leaves the sandboxes out. Everything else stays in the security project, as by default.
 */
export const EXPECTED_ORGANIZATION: PlanExpectation = {
  ...EXPECTED_DEFAULT,
  iam: {
    ...without(
      EXPECTED_DEFAULT.iam,
      'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9',
      'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
    ),
    'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9': {
      role: 'roles/pubsub.publisher',
      member: '${google_logging_organization_sink.Responder_Sink_86F16188.writer_identity}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder_Topic_952B14F0.name}' },
    },
    'google_organization_iam_member.Responder_RuntimeActsOnInstances_174DAA77': {
      role: '${google_organization_iam_custom_role.Responder_InstanceRole_788A6F78.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition:
        '!(resource.name.startsWith("projects/fleet-prod-1234/") || resource.name.startsWith("projects/lab-sandbox-1/") || resource.name.startsWith("projects/lab-sandbox-2/"))',
      on: { org_id: '4242' },
    },
  },
  customRoles: {
    // No instance-group permission: across a folder or organization, abandoning is opt-in.
    'google_organization_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ],
      on: { org_id: '4242' },
    },
    'google_project_iam_custom_role.Responder_LedgerRole_9085AFBB': {
      permissions: ['datastore.databases.get', 'datastore.entities.create', 'datastore.entities.get', 'datastore.entities.update'],
      on: { project: 'fleet-prod-1234' },
    },
  },
  sinks: {
    'google_logging_organization_sink.Responder_Sink_86F16188': {
      parent: { org_id: '4242' },
      filter: AGGREGATED_FILTER,
      destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      exclusions: [
        OWN_PROJECT_EXCLUSION,
        { name: 'skip-lab-sandbox-1', filter: 'resource.labels.project_id="lab-sandbox-1"' },
        { name: 'skip-lab-sandbox-2', filter: 'resource.labels.project_id="lab-sandbox-2"' },
      ],
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment,
        SCOPE: 'organizations/4242',
        EXCLUDED_PROJECTS: 'fleet-prod-1234,lab-sandbox-1,lab-sandbox-2',
        INSTANCE_GROUP_ACTION: 'contain-only',
      },
    },
  },
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_organization_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  // The responder's own project is left out of the organization by the sink's exclusion: no writer in scope.
  logWritersInScope: {},
};

const RUNTIME_MEMBER = 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}';
const TAG_VALUE = 'google_tags_tag_value.Responder_QuarantineTagValue_6E1A8719';
const POLICY = 'google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1';
const RULES = {
  ingressIpv4: 'Responder_QuarantineDeniesIngressIpv4_15DA7F84',
  ingressIpv6: 'Responder_QuarantineDeniesIngressIpv6_D9D69D67',
  egressIpv4: 'Responder_QuarantineDeniesEgressIpv4_6B48B124',
  egressIpv6: 'Responder_QuarantineDeniesEgressIpv6_209FF979',
};

/** The four deny rules of a quarantine, in `policy` (as the rules name it), at the priorities from `first`. */
function quarantineRules(policy: string, first: number): Record<string, QuarantineRuleExpectation> {
  const rule = (direction: 'INGRESS' | 'EGRESS', priority: number, range: string): QuarantineRuleExpectation => ({
    policy,
    direction,
    priority,
    range,
    target: `\${${TAG_VALUE}.id}`,
  });
  return {
    [RULES.ingressIpv4]: rule('INGRESS', first, '0.0.0.0/0'),
    [RULES.ingressIpv6]: rule('INGRESS', first + 1, '::/0'),
    [RULES.egressIpv4]: rule('EGRESS', first + 2, '0.0.0.0/0'),
    [RULES.egressIpv6]: rule('EGRESS', first + 3, '::/0'),
  };
}

/** The quarantine tag key of `organization` and its value. */
const quarantineTagOf = (organization: string): Pick<QuarantineExpectation, 'tagKeys' | 'tagValues'> => ({
  tagKeys: { Responder_QuarantineTagKey_51758193: `organizations/${organization}` },
  tagValues: { Responder_QuarantineTagValue_6E1A8719: '${google_tags_tag_key.Responder_QuarantineTagKey_51758193.id}' },
});

/** The quarantine of a responder whose policy is created and associated at `parent`, its tag key in `organization`. */
function quarantineAt(organization: string, parent: string): QuarantineExpectation {
  return {
    ...quarantineTagOf(organization),
    policies: { Responder_QuarantinePolicy_6D6E4DE1: parent },
    associations: { Responder_QuarantinePolicyAssociation_94548F31: { policy: `\${${POLICY}.id}`, target: parent } },
    rules: quarantineRules(`\${${POLICY}.name}`, 0),
  };
}

/** The quarantine of a responder whose rules go into the existing `policy` from priority `first`, its tag key in `organization`. */
function quarantineIn(organization: string, policy: string, first: number): QuarantineExpectation {
  return {
    ...quarantineTagOf(organization),
    policies: {},
    associations: {},
    rules: quarantineRules(policy, first),
    existingPolicy: { policy, firstPriority: first },
  };
}

/** What the function waits for besides the grants of a playbook-less responder: the playbook's grants, rules and association. */
const QUARANTINE_WAITS = [
  'google_tags_tag_value_iam_member.Responder_RuntimeBindsQuarantineTag_388C6E0D',
  `google_compute_firewall_policy_rule.${RULES.ingressIpv4}`,
  `google_compute_firewall_policy_rule.${RULES.ingressIpv6}`,
  `google_compute_firewall_policy_rule.${RULES.egressIpv4}`,
  `google_compute_firewall_policy_rule.${RULES.egressIpv6}`,
  'google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_94548F31',
];

/** The runtime's right to bind the quarantine tag value: a tag user of that value alone. */
const RUNTIME_BINDS_QUARANTINE_TAG: Record<string, GrantExpectation> = {
  'google_tags_tag_value_iam_member.Responder_RuntimeBindsQuarantineTag_388C6E0D': {
    role: 'roles/resourcemanager.tagUser',
    member: RUNTIME_MEMBER,
    on: { tag_value: `\${${TAG_VALUE}.name}` },
  },
};

/**
 * `synthResponders({ ...organization scope and exclusions as EXPECTED_ORGANIZATION, containment:
 * ['snapshot', 'quarantine', 'stop'], forensicsProjectId: 'fleet-forensics-7', raiseFindings: true,
 * releasePrincipals: ['group:incident-response@example.com'], requireReleaseApproval: true })`: the
 * organization responder with the whole playbook. In the forensics project, a role that creates
 * and labels snapshots and waits for them, never reads them; where the VMs live, the Compute role
 * gains the disk's createSnapshot and the instance tag-binding permissions; the quarantine tag,
 * its policy and rules at the organization; an organization findings source. The release
 * principal is a tag user of the value, a findings editor of the source, and holds a role that
 * reads, queries and updates the decision ledger's documents, in that database only; nothing else.
 */
export const EXPECTED_PLAYBOOK: PlanExpectation = {
  ...EXPECTED_ORGANIZATION,
  iam: {
    ...EXPECTED_ORGANIZATION.iam,
    'google_project_iam_member.Responder_RuntimeTakesEvidence_78B89B56': {
      role: '${google_project_iam_custom_role.Responder_EvidenceRole_CC609349.name}',
      member: RUNTIME_MEMBER,
      on: { project: 'fleet-forensics-7' },
    },
    ...RUNTIME_BINDS_QUARANTINE_TAG,
    'google_tags_tag_value_iam_member.Responder_ReleaserUnbindsQuarantineTag-groupincident-responseexamplecom_142AB3E8': {
      role: 'roles/resourcemanager.tagUser',
      member: 'group:incident-response@example.com',
      on: { tag_value: `\${${TAG_VALUE}.name}` },
    },
    'google_scc_v2_organization_source_iam_member.Responder_RuntimeEditsFindings_3878BB37': {
      role: 'roles/securitycenter.findingsEditor',
      member: RUNTIME_MEMBER,
      on: { organization: '4242', source: '${google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568.name}' },
    },
    'google_scc_v2_organization_source_iam_member.Responder_ReleaserEditsFindings-groupincident-responseexamplecom_8300B150': {
      role: 'roles/securitycenter.findingsEditor',
      member: 'group:incident-response@example.com',
      on: { organization: '4242', source: '${google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568.name}' },
    },
    // The release tool's access to the decision ledger, under the runtime's condition: never the baselines' database.
    'google_project_iam_member.Responder_ReleaserRecordsReleases-groupincident-responseexamplecom_835A41AC': {
      role: '${google_project_iam_custom_role.Responder_ReleaseRole_07E5CA66.name}',
      member: 'group:incident-response@example.com',
      condition: 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-decisions"',
      on: { project: 'fleet-prod-1234' },
    },
  },
  customRoles: {
    ...EXPECTED_ORGANIZATION.customRoles,
    'google_organization_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.disks.createSnapshot',
        'compute.instances.createTagBinding',
        'compute.instances.get',
        'compute.instances.listTagBindings',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
        'resourcemanager.projects.get',
      ],
      on: { org_id: '4242' },
    },
    // Never compute.snapshots.useReadOnly, list or delete: the runtime cannot read the evidence it took.
    'google_project_iam_custom_role.Responder_EvidenceRole_CC609349': {
      permissions: ['compute.globalOperations.get', 'compute.snapshots.create', 'compute.snapshots.get', 'compute.snapshots.setLabels'],
      on: { project: 'fleet-forensics-7' },
    },
    // Read, query and update the ledger's documents (a release is an update of a document that exists); never create or delete.
    'google_project_iam_custom_role.Responder_ReleaseRole_07E5CA66': {
      permissions: ['datastore.databases.get', 'datastore.entities.get', 'datastore.entities.list', 'datastore.entities.update'],
      on: { project: 'fleet-prod-1234' },
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_ORGANIZATION.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_ORGANIZATION.functions.Responder_Function_73C2D4D9!.environment,
        CONTAINMENT_STEPS: 'snapshot,quarantine',
        FORENSICS_PROJECT: 'fleet-forensics-7',
        SNAPSHOT_RETENTION_DAYS: '90',
        QUARANTINE_TAG_VALUE: `\${${TAG_VALUE}.id}`,
        FINDINGS_SOURCE: '${google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568.name}',
      },
    },
  },
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        ...EXPECTED_ORGANIZATION.iamPropagation.Responder_IamPropagation_9489DE8C!.dependsOn,
        'google_project_iam_member.Responder_RuntimeTakesEvidence_78B89B56',
        ...QUARANTINE_WAITS,
        'google_scc_v2_organization_source_iam_member.Responder_RuntimeEditsFindings_3878BB37',
      ],
    },
  },
  quarantine: quarantineAt('4242', 'organizations/4242'),
  findingsSources: { Responder_FindingsSource_EEC2A568: '4242' },
};

/**
 * `synthResponders({ scope: 'projects/fleet-vms-5678', containment: ['quarantine', 'suspend'],
 * organizationId: '800000000001', firewallPolicyParent: 'folders/5550001' })`: a project scope
 * that quarantines, its policy at the folder it names and its tag key in its organization; the
 * project role gains the tag-binding permissions and suspends.
 */
export const EXPECTED_PLAYBOOK_PROJECT: PlanExpectation = {
  ...EXPECTED_DEFAULT,
  iam: {
    ...without(EXPECTED_DEFAULT.iam, 'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77'),
    'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77': {
      role: '${google_project_iam_custom_role.Responder_InstanceRole_788A6F78.name}',
      member: RUNTIME_MEMBER,
      on: { project: 'fleet-vms-5678' },
    },
    ...RUNTIME_BINDS_QUARANTINE_TAG,
  },
  customRoles: {
    ...EXPECTED_DEFAULT.customRoles,
    'google_project_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.createTagBinding',
        'compute.instances.get',
        'compute.instances.listTagBindings',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.suspend',
        'compute.zoneOperations.get',
        'resourcemanager.projects.get',
      ],
      on: { project: 'fleet-vms-5678' },
    },
  },
  sinks: {
    'google_logging_project_sink.Responder_Sink_86F16188': {
      parent: { project: 'fleet-vms-5678' },
      filter: 'resource.type="gce_instance" AND logName="projects/fleet-vms-5678/logs/compute.googleapis.com%2Fshielded_vm_integrity"',
      destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      exclusions: [],
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment,
        SCOPE: 'projects/fleet-vms-5678',
        FAILURE_ACTION: 'suspend',
        CONTAINMENT_STEPS: 'quarantine',
        FORENSICS_PROJECT: 'none',
        SNAPSHOT_RETENTION_DAYS: '90',
        QUARANTINE_TAG_VALUE: `\${${TAG_VALUE}.id}`,
        FINDINGS_SOURCE: 'none',
      },
    },
  },
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [...EXPECTED_DEFAULT.iamPropagation.Responder_IamPropagation_9489DE8C!.dependsOn, ...QUARANTINE_WAITS],
    },
  },
  // The responder watches another project than its own: its build's log writer is out of scope.
  logWritersInScope: {},
  quarantine: quarantineAt('800000000001', 'folders/5550001'),
};

/**
 * `synthResponders({ scope: 'folders/5550001', organizationId: '4242' })`: a folder, no project
 * excluded by the user. The sink is the folder's and leaves out the integrity log of the
 * responder's own project, where its build identity writes logs; the role is defined in the
 * organization (IAM has no folder roles) and bound at the folder, under a condition that leaves
 * that project out too.
 */
export const EXPECTED_FOLDER: PlanExpectation = {
  ...EXPECTED_DEFAULT,
  iam: {
    ...without(
      EXPECTED_DEFAULT.iam,
      'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9',
      'google_project_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
    ),
    'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9': {
      role: 'roles/pubsub.publisher',
      member: '${google_logging_folder_sink.Responder_Sink_86F16188.writer_identity}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder_Topic_952B14F0.name}' },
    },
    'google_folder_iam_member.Responder_RuntimeActsOnInstances_174DAA77': {
      role: '${google_organization_iam_custom_role.Responder_InstanceRole_788A6F78.name}',
      member: 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}',
      condition: '!(resource.name.startsWith("projects/fleet-prod-1234/"))',
      on: { folder: 'folders/5550001' },
    },
  },
  customRoles: EXPECTED_ORGANIZATION.customRoles,
  sinks: {
    'google_logging_folder_sink.Responder_Sink_86F16188': {
      parent: { folder: 'folders/5550001' },
      filter: AGGREGATED_FILTER,
      destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder_Topic_952B14F0.id}',
      exclusions: [OWN_PROJECT_EXCLUSION],
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment,
        SCOPE: 'folders/5550001',
        EXCLUDED_PROJECTS: 'fleet-prod-1234',
        INSTANCE_GROUP_ACTION: 'contain-only',
      },
    },
  },
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        'google_folder_iam_member.Responder_RuntimeActsOnInstances_174DAA77',
        'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D',
        'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF',
        'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75',
        'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
        'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0',
        'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5',
        'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76',
      ],
    },
  },
  logWritersInScope: {},
};

/**
 * `synthResponders({ scope: 'folders/5550001', organizationId: '4242', containment: ['quarantine',
 * 'stop'], quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
 * quarantineRulePriority: 1000 })`: a folder scope that puts its quarantine's rules into the
 * organization's existing policy, which Google evaluates before any folder's. No policy is created
 * and none associated; the rules take priorities 1000 to 1003 of that policy; the folder's role
 * gains the tag-binding permissions and the runtime is a tag user of the value.
 */
export const EXPECTED_PLAYBOOK_EXISTING_POLICY: PlanExpectation = {
  ...EXPECTED_FOLDER,
  iam: { ...EXPECTED_FOLDER.iam, ...RUNTIME_BINDS_QUARANTINE_TAG },
  customRoles: {
    ...EXPECTED_FOLDER.customRoles,
    'google_organization_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instances.createTagBinding',
        'compute.instances.get',
        'compute.instances.listTagBindings',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
        'resourcemanager.projects.get',
      ],
      on: { org_id: '4242' },
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_FOLDER.functions.Responder_Function_73C2D4D9!,
      environment: {
        ...EXPECTED_FOLDER.functions.Responder_Function_73C2D4D9!.environment,
        CONTAINMENT_STEPS: 'quarantine',
        FORENSICS_PROJECT: 'none',
        SNAPSHOT_RETENTION_DAYS: '90',
        QUARANTINE_TAG_VALUE: `\${${TAG_VALUE}.id}`,
        FINDINGS_SOURCE: 'none',
      },
    },
  },
  iamPropagation: {
    Responder_IamPropagation_9489DE8C: {
      createDuration: '120s',
      dependsOn: [
        ...EXPECTED_FOLDER.iamPropagation.Responder_IamPropagation_9489DE8C!.dependsOn,
        // The rules and the tag grant; there is no association to wait for.
        ...QUARANTINE_WAITS.filter((w) => !w.startsWith('google_compute_firewall_policy_association.')),
      ],
    },
  },
  quarantine: quarantineIn('4242', '123456789012', 1000),
};

/**
 * `synthResponders({ instanceGroupAction: 'contain-only' })`: VMs of managed instance groups are
 * stopped inside their group; the role holds no instance-group permission.
 */
export const EXPECTED_CONTAIN_ONLY: PlanExpectation = {
  ...EXPECTED_DEFAULT,
  customRoles: {
    ...EXPECTED_DEFAULT.customRoles,
    'google_project_iam_custom_role.Responder_InstanceRole_788A6F78': {
      permissions: [
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ],
      on: { project: 'fleet-prod-1234' },
    },
  },
  functions: {
    Responder_Function_73C2D4D9: {
      ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!,
      environment: { ...EXPECTED_DEFAULT.functions.Responder_Function_73C2D4D9!.environment, INSTANCE_GROUP_ACTION: 'contain-only' },
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
    'google_pubsub_topic_iam_member.Responder2_PubsubAgentPublishesDeadLetters_FB1A4FF3': {
      role: 'roles/pubsub.publisher',
      member: '${google_project_service_identity.Responder2_PubsubServiceAgent_C01571E6.member}',
      on: { project: 'fleet-prod-1234', topic: '${google_pubsub_topic.Responder2_DeadLetterTopic_6D190FBA.name}' },
    },
    'google_pubsub_subscription_iam_member.Responder2_PubsubAgentForwardsDeadLetters_A4B5601E': {
      role: 'roles/pubsub.subscriber',
      member: '${google_project_service_identity.Responder2_PubsubServiceAgent_C01571E6.member}',
      on: { project: 'fleet-prod-1234', subscription: '${google_pubsub_subscription.Responder2_Subscription_928845FD.name}' },
    },
  },
  customRoles: {
    'google_project_iam_custom_role.Responder2_InstanceRole_FF8D4005': {
      permissions: [
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ],
      on: { project: 'fleet-prod-1234' },
    },
    'google_project_iam_custom_role.Responder2_LedgerRole_206DD0A4': {
      permissions: ['datastore.databases.get', 'datastore.entities.create', 'datastore.entities.get', 'datastore.entities.update'],
      on: { project: 'fleet-prod-1234' },
    },
  },
  sinks: {
    'google_logging_project_sink.Responder2_Sink_8272624E': {
      parent: { project: 'fleet-prod-1234' },
      filter: FILTER,
      destination: 'pubsub.googleapis.com/${google_pubsub_topic.Responder2_Topic_DE4B9D1A.id}',
      exclusions: [],
    },
  },
  topics: { Responder2_Topic_DE4B9D1A: SEVEN_DAYS, Responder2_DeadLetterTopic_6D190FBA: SEVEN_DAYS },
  deliveries: {
    Responder2_Subscription_928845FD: {
      topic: '${google_pubsub_topic.Responder2_Topic_DE4B9D1A.id}',
      pushEndpoint:
        '${google_cloudfunctions2_function.Responder2_Function_C3D90ABA.service_config[0].uri}/projects/fleet-prod-1234/topics/${google_pubsub_topic.Responder2_Topic_DE4B9D1A.name}',
      oidcServiceAccount: '${google_service_account.Responder2_TriggerServiceAccount_D0B38748.email}',
      oidcAudience: '${google_cloudfunctions2_function.Responder2_Function_C3D90ABA.service_config[0].uri}',
      ackDeadlineSeconds: 60,
      minimumBackoff: '10s',
      maximumBackoff: '600s',
      deadLetterTopic: '${google_pubsub_topic.Responder2_DeadLetterTopic_6D190FBA.id}',
      maxDeliveryAttempts: 20,
      retention: SEVEN_DAYS,
    },
  },
  deadLetterSubscriptions: {
    Responder2_DeadLetterSubscription_9B10FEA5: {
      topic: '${google_pubsub_topic.Responder2_DeadLetterTopic_6D190FBA.id}',
      retention: SEVEN_DAYS,
    },
  },
  functions: {
    Responder2_Function_C3D90ABA: {
      ingress: 'ALLOW_INTERNAL_ONLY',
      buildServiceAccount: '${google_service_account.Responder2_BuildServiceAccount_84B790CB.id}',
      runtimeServiceAccount: '${google_service_account.Responder2_RuntimeServiceAccount_8001A31B.email}',
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
        BASELINE_APPROVAL: 'none',
        LEDGER_DATABASE: 'fleet-b-decisions',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        SCOPE: 'projects/fleet-prod-1234',
        EXCLUDED_PROJECTS: 'none',
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        RELEARN_MAX_AGE_SECONDS: '300',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        INSTANCE_GROUP_ACTION: 'abandon',
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
        'google_project_iam_member.Responder2_RuntimeActsOnInstances_B4566F7F',
        'google_project_iam_member.Responder2_RuntimeReadsBaselines_C76D8371',
        'google_project_iam_member.Responder2_RuntimeWritesLedger_FF106DDD',
        'google_artifact_registry_repository_iam_member.Responder2_BuildPushesImages_82A1B366',
        'google_project_iam_member.Responder2_BuildWritesLogs_C0865031',
        'google_project_iam_member.Responder2_BuildReadsStagedSource_0F5C32C6',
        'google_project_service_identity.Responder2_PubsubServiceAgent_C01571E6',
        'google_service_account_iam_member.Responder2_PubsubAgentMintsTriggerTokens_8D42A632',
      ],
    },
  },
  serviceIdentities: { Responder2_PubsubServiceAgent_C01571E6: 'pubsub.googleapis.com' },
  databases: {
    Responder2_LedgerDatabase_773FF561: { name: 'fleet-b-decisions', ...PROTECTED },
  },
  projects: { Responder2_Project_A726ABD5: 'fleet-prod-1234' },
  logWritersInScope: { 'google_project_iam_member.Responder2_BuildWritesLogs_C0865031': BUILD_WRITES_LOGS_IN_SCOPE },
};

/** `synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' })`. */
export const EXPECTED_TWO_RESPONDERS: PlanExpectation = together(EXPECTED_FLEET_A, EXPECTED_FLEET_B);
