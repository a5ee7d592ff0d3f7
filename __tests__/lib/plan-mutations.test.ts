import {
  CHECKS,
  EXPECTED_CONTAIN_ONLY,
  EXPECTED_DEFAULT,
  EXPECTED_FOLDER,
  EXPECTED_ORGANIZATION,
  EXPECTED_PLAYBOOK,
  EXPECTED_PLAYBOOK_EXISTING_POLICY,
  EXPECTED_PLAYBOOK_PROJECT,
  EXPECTED_SHUTDOWN,
  EXPECTED_TUTORIAL,
  EXPECTED_TWO_RESPONDERS,
  PlanDoc,
  PlanExpectation,
  reviewPlan,
} from '../support/plan-review';
import { synthResponders } from '../support/synth';

/*
 * The plan review must be able to fail. Each row below makes one change to a synthesized
 * plan, the kind a careless edit of the construct (or of a plan) would make, and requires the
 * review to report it under the check responsible for that fact, naming the resource.
 */

type Config = 'default' | 'shutdown' | 'organization' | 'contain-only' | 'playbook' | 'playbook-project' | 'playbook-existing-policy';
type Resources = Record<string, Record<string, Record<string, any>>>;

interface Mutation {
  name: string;
  config: Config;
  mutate: (r: Resources, doc: PlanDoc) => void;
  /** The check that must report it. */
  check: string;
  /** Text its problem must contain: the resource, usually. */
  mentions: string;
}

const plans: Record<Config, { doc: PlanDoc; expected: PlanExpectation }> = {
  default: { doc: JSON.parse(synthResponders({}).json) as PlanDoc, expected: EXPECTED_DEFAULT },
  shutdown: { doc: JSON.parse(synthResponders({ responseMode: 'shutdown' }).json) as PlanDoc, expected: EXPECTED_SHUTDOWN },
  organization: {
    doc: JSON.parse(synthResponders({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'] }).json) as PlanDoc,
    expected: EXPECTED_ORGANIZATION,
  },
  'contain-only': {
    doc: JSON.parse(synthResponders({ instanceGroupAction: 'contain-only' }).json) as PlanDoc,
    expected: EXPECTED_CONTAIN_ONLY,
  },
  playbook: {
    doc: JSON.parse(
      synthResponders({
        scope: 'organizations/4242',
        excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'],
        containment: ['snapshot', 'quarantine', 'stop'],
        forensicsProjectId: 'fleet-forensics-7',
        raiseFindings: true,
        releasePrincipals: ['group:incident-response@example.com'],
        requireReleaseApproval: true,
      }).json,
    ) as PlanDoc,
    expected: EXPECTED_PLAYBOOK,
  },
  'playbook-project': {
    doc: JSON.parse(
      synthResponders({
        scope: 'projects/fleet-vms-5678',
        containment: ['quarantine', 'suspend'],
        organizationId: '800000000001',
        firewallPolicyParent: 'folders/5550001',
      }).json,
    ) as PlanDoc,
    expected: EXPECTED_PLAYBOOK_PROJECT,
  },
  'playbook-existing-policy': {
    doc: JSON.parse(
      synthResponders({
        scope: 'folders/5550001',
        organizationId: '4242',
        containment: ['quarantine', 'stop'],
        quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
        quarantineRulePriority: 1000,
      }).json,
    ) as PlanDoc,
    expected: EXPECTED_PLAYBOOK_EXISTING_POLICY,
  },
};

/** The resource at `type.id`; fails when the plan has none, so a mutation can never miss silently. */
function at(r: Resources, address: string): Record<string, any> {
  const [type, id] = [address.slice(0, address.indexOf('.')), address.slice(address.indexOf('.') + 1)];
  const body = r[type]?.[id];
  if (body === undefined) throw new Error(`the plan has no ${address}`);
  return body;
}

/** Adds a resource that must not exist yet. */
function add(r: Resources, address: string, body: Record<string, any>): void {
  const [type, id] = [address.slice(0, address.indexOf('.')), address.slice(address.indexOf('.') + 1)];
  if (r[type]?.[id] !== undefined) throw new Error(`${address} already exists`);
  r[type] = { ...(r[type] ?? {}), [id]: body };
}

function remove(list: string[], item: string): string[] {
  if (!list.includes(item)) throw new Error(`${item} is not in the list`);
  return list.filter((x) => x !== item);
}

const ROLE = 'google_project_iam_custom_role.Responder_InstanceRole_788A6F78';
const READS_BASELINES = 'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D';
const WRITES_LEDGER = 'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF';
const READS_SOURCE = 'google_project_iam_member.Responder_BuildReadsStagedSource_F1EECCB0';
const PUSHES_IMAGES = 'google_artifact_registry_repository_iam_member.Responder_BuildPushesImages_F349EE75';
const PUBLISHES = 'google_pubsub_topic_iam_member.Responder_SinkPublishesToTopic_24AFE2E9';
const MINTS_TOKENS = 'google_service_account_iam_member.Responder_PubsubAgentMintsTriggerTokens_11DF6A76';
const INVOKES = 'google_cloud_run_v2_service_iam_member.Responder_TriggerInvokesFunction_D2F5B373';
const SINK = 'google_logging_project_sink.Responder_Sink_86F16188';
const FUNCTION = 'google_cloudfunctions2_function.Responder_Function_73C2D4D9';
const BUCKET = 'google_storage_bucket.Responder_SourceBucket_FB116052';
const SLEEP = 'time_sleep.Responder_IamPropagation_9489DE8C';
const PUBSUB_AGENT = 'google_project_service_identity.Responder_PubsubServiceAgent_A78C68B5';
const TOPIC = 'google_pubsub_topic.Responder_Topic_952B14F0';
const SUBSCRIPTION = 'google_pubsub_subscription.Responder_Subscription_4E2A55E0';
const DEAD_LETTER_SUBSCRIPTION = 'google_pubsub_subscription.Responder_DeadLetterSubscription_58130497';
const PUBLISHES_DEAD_LETTERS = 'google_pubsub_topic_iam_member.Responder_PubsubAgentPublishesDeadLetters_A535F6CE';
const ORG_SINK = 'google_logging_organization_sink.Responder_Sink_86F16188';
const ORG_ROLE = 'google_organization_iam_custom_role.Responder_InstanceRole_788A6F78';
const ORG_BINDING = 'google_organization_iam_member.Responder_RuntimeActsOnInstances_174DAA77';
const LEDGER = 'google_firestore_database.Responder_LedgerDatabase_CC41B944';
const RUNTIME = 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}';
const EVIDENCE_ROLE = 'google_project_iam_custom_role.Responder_EvidenceRole_CC609349';
const TAKES_EVIDENCE = 'google_project_iam_member.Responder_RuntimeTakesEvidence_78B89B56';
const RELEASE_ROLE = 'google_project_iam_custom_role.Responder_ReleaseRole_07E5CA66';
const RELEASER_RECORDS = 'google_project_iam_member.Responder_ReleaserRecordsReleases-groupincident-responseexamplecom_835A41AC';
const BINDS_TAG = 'google_tags_tag_value_iam_member.Responder_RuntimeBindsQuarantineTag_388C6E0D';
const RELEASER_UNBINDS_TAG =
  'google_tags_tag_value_iam_member.Responder_ReleaserUnbindsQuarantineTag-groupincident-responseexamplecom_142AB3E8';
const EDITS_FINDINGS = 'google_scc_v2_organization_source_iam_member.Responder_RuntimeEditsFindings_3878BB37';
const RELEASER_EDITS_FINDINGS =
  'google_scc_v2_organization_source_iam_member.Responder_ReleaserEditsFindings-groupincident-responseexamplecom_8300B150';
const TAG_KEY = 'google_tags_tag_key.Responder_QuarantineTagKey_51758193';
const TAG_VALUE = 'google_tags_tag_value.Responder_QuarantineTagValue_6E1A8719';
const QUARANTINE_POLICY = 'google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1';
const QUARANTINE_ASSOCIATION = 'google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_94548F31';
const DENIES_INGRESS_IPV4 = 'google_compute_firewall_policy_rule.Responder_QuarantineDeniesIngressIpv4_15DA7F84';
const DENIES_EGRESS_IPV6 = 'google_compute_firewall_policy_rule.Responder_QuarantineDeniesEgressIpv6_209FF979';
const FINDINGS_SOURCE = 'google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568';
const RUNTIME_EMAIL = '${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}';

const mutations: Mutation[] = [
  {
    name: 'extra permission compute.instances.delete in the custom role',
    config: 'default',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instances.delete'),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.delete',
  },
  {
    name: 'compute.instances.suspend added to a stop-action role',
    config: 'default',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instances.suspend'),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.suspend',
  },
  {
    name: 'datastore.entities.delete in the ledger role',
    config: 'default',
    mutate: (r) => at(r, 'google_project_iam_custom_role.Responder_LedgerRole_9085AFBB').permissions.push('datastore.entities.delete'),
    check: 'custom-role-permissions',
    mentions: 'datastore.entities.delete',
  },
  {
    name: 'compute.instances.get missing from the shutdown-mode role (it reads the exemption label)',
    config: 'shutdown',
    mutate: (r) => (at(r, ROLE).permissions = at(r, ROLE).permissions.filter((p: string) => p !== 'compute.instances.get')),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.get',
  },
  {
    name: 'compute.instanceGroupManagers.update missing from the role (abandonInstances would be refused)',
    config: 'default',
    mutate: (r) => (at(r, ROLE).permissions = remove(at(r, ROLE).permissions, 'compute.instanceGroupManagers.update')),
    check: 'custom-role-permissions',
    mentions: 'compute.instanceGroupManagers.update',
  },
  {
    name: 'compute.instanceGroupManagers.get missing from the shutdown-mode role (listManagedInstances proves membership)',
    config: 'shutdown',
    mutate: (r) => (at(r, ROLE).permissions = remove(at(r, ROLE).permissions, 'compute.instanceGroupManagers.get')),
    check: 'custom-role-permissions',
    mentions: 'compute.instanceGroupManagers.get',
  },
  {
    name: 'compute.instanceGroupManagers.update kept in a contain-only role',
    config: 'contain-only',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instanceGroupManagers.update'),
    check: 'custom-role-permissions',
    mentions: 'compute.instanceGroupManagers.update',
  },
  {
    name: 'INSTANCE_GROUP_ACTION switched to contain-only in the function environment',
    config: 'default',
    mutate: (r) => (at(r, FUNCTION).service_config.environment_variables.INSTANCE_GROUP_ACTION = 'contain-only'),
    check: 'function-environment',
    mentions: 'INSTANCE_GROUP_ACTION',
  },
  {
    name: 'setShieldedInstanceIntegrityPolicy in the shutdown-mode role',
    config: 'shutdown',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instances.setShieldedInstanceIntegrityPolicy'),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.setShieldedInstanceIntegrityPolicy',
  },
  {
    name: 'a user: member on the ledger grant',
    config: 'default',
    mutate: (r) => (at(r, WRITES_LEDGER).member = 'user:someone@example.com'),
    check: 'iam-member',
    mentions: 'user:someone@example.com',
  },
  {
    name: 'roles/pubsub.admin on the topic',
    config: 'default',
    mutate: (r) => (at(r, PUBLISHES).role = 'roles/pubsub.admin'),
    check: 'iam-role',
    mentions: 'roles/pubsub.admin',
  },
  {
    name: 'baseline read condition `true`',
    config: 'default',
    mutate: (r) => (at(r, READS_BASELINES).condition.expression = 'true'),
    check: 'iam-condition',
    mentions: READS_BASELINES,
  },
  {
    name: 'baseline read condition naming another database',
    config: 'default',
    mutate: (r) => (at(r, READS_BASELINES).condition.expression = 'resource.name == "projects/fleet-prod-1234/databases/(default)"'),
    check: 'iam-condition',
    mentions: 'databases/(default)',
  },
  {
    name: 'ledger write condition pointing at the baseline database',
    config: 'default',
    mutate: (r) =>
      (at(r, WRITES_LEDGER).condition.expression = 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-baselines"'),
    check: 'iam-condition',
    mentions: WRITES_LEDGER,
  },
  {
    name: 'ledger write grant without its condition',
    config: 'default',
    mutate: (r) => delete at(r, WRITES_LEDGER).condition,
    check: 'iam-condition',
    mentions: WRITES_LEDGER,
  },
  {
    name: 'build source condition widened to gcf-v2-sources-',
    config: 'default',
    mutate: (r) => (at(r, READS_SOURCE).condition.expression = 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")'),
    check: 'iam-condition',
    mentions: READS_SOURCE,
  },
  {
    name: 'sink filter widened: logName clause dropped',
    config: 'default',
    mutate: (r) => (at(r, SINK).filter = 'resource.type="gce_instance"'),
    check: 'sink-filter',
    mentions: SINK,
  },
  {
    name: 'time_sleep no longer waits for the Artifact Registry writer grant',
    config: 'default',
    mutate: (r) => (at(r, SLEEP).depends_on = remove(at(r, SLEEP).depends_on, PUSHES_IMAGES)),
    check: 'iam-propagation-wait',
    mentions: PUSHES_IMAGES,
  },
  {
    name: 'time_sleep waits 0s',
    config: 'default',
    mutate: (r) => (at(r, SLEEP).create_duration = '0s'),
    check: 'iam-propagation-wait',
    mentions: SLEEP,
  },
  {
    name: 'function no longer depends on the time_sleep',
    config: 'default',
    mutate: (r) => (at(r, FUNCTION).depends_on = remove(at(r, FUNCTION).depends_on, SLEEP)),
    check: 'function-depends-on',
    mentions: SLEEP,
  },
  {
    name: 'allUsers on the source bucket (new bucket_iam_member)',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_storage_bucket_iam_member.Responder_PublicSource_0000', {
        bucket: '${google_storage_bucket.Responder_SourceBucket_FB116052.name}',
        role: 'roles/storage.objectViewer',
        member: 'allUsers',
      }),
    check: 'no-public-members',
    mentions: 'allUsers',
  },
  {
    name: 'tokenCreator on the trigger SA for allAuthenticatedUsers',
    config: 'default',
    mutate: (r) => (at(r, MINTS_TOKENS).member = 'allAuthenticatedUsers'),
    check: 'no-public-members',
    mentions: MINTS_TOKENS,
  },
  {
    name: 'roles/editor for the runtime SA (new project grant)',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_project_iam_member.Responder_RuntimeEdits_0000', {
        project: 'fleet-prod-1234',
        role: 'roles/editor',
        member: RUNTIME,
      }),
    check: 'no-primitive-roles',
    mentions: 'roles/editor',
  },
  {
    name: 'an authoritative google_project_iam_binding',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_project_iam_binding.Responder_Invokers_0000', {
        project: 'fleet-prod-1234',
        role: 'roles/run.invoker',
        members: [RUNTIME],
      }),
    check: 'no-authoritative-iam',
    mentions: 'google_project_iam_binding.Responder_Invokers_0000',
  },
  {
    name: 'an extra project grant (compute.instanceAdmin.v1)',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_project_iam_member.Responder_RuntimeAdmin_0000', {
        project: 'fleet-prod-1234',
        role: 'roles/compute.instanceAdmin.v1',
        member: RUNTIME,
      }),
    check: 'iam-inventory',
    mentions: 'google_project_iam_member.Responder_RuntimeAdmin_0000',
  },
  {
    name: 'a baseline read grant in the shutdown mode',
    config: 'shutdown',
    mutate: (r) =>
      add(r, READS_BASELINES, {
        project: 'fleet-prod-1234',
        role: 'roles/datastore.viewer',
        member: RUNTIME,
        condition: { title: 't', expression: 'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-baselines"' },
      }),
    check: 'iam-inventory',
    mentions: READS_BASELINES,
  },
  {
    name: 'invoker grant on another Cloud Run service',
    config: 'default',
    mutate: (r) => (at(r, INVOKES).name = 'some-other-service'),
    check: 'iam-target',
    mentions: 'some-other-service',
  },
  {
    name: 'function ingress ALLOW_ALL',
    config: 'default',
    mutate: (r) => (at(r, FUNCTION).service_config.ingress_settings = 'ALLOW_ALL'),
    check: 'function-ingress',
    mentions: 'ALLOW_ALL',
  },
  {
    name: 'function runs as the trigger SA',
    config: 'default',
    mutate: (r) =>
      (at(r, FUNCTION).service_config.service_account_email = '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}'),
    check: 'function-runtime-identity',
    mentions: 'Responder_TriggerServiceAccount_34ED64F2',
  },
  {
    name: 'build runs as the default compute SA',
    config: 'default',
    mutate: (r) =>
      (at(r, FUNCTION).build_config.service_account =
        'projects/fleet-prod-1234/serviceAccounts/1234-compute@developer.gserviceaccount.com'),
    check: 'no-default-compute-sa',
    mentions: FUNCTION,
  },
  {
    name: 'build service account left unset',
    config: 'default',
    mutate: (r) => delete at(r, FUNCTION).build_config.service_account,
    check: 'function-build-identity',
    mentions: 'build_config.service_account is (unset)',
  },
  {
    name: 'source generation removed',
    config: 'default',
    mutate: (r) => delete at(r, FUNCTION).build_config.source.storage_source.generation,
    check: 'function-source',
    mentions: 'storage_source.generation',
  },
  {
    name: 'COMPUTE_API_ENDPOINT pointed at another host',
    config: 'default',
    mutate: (r) => (at(r, FUNCTION).service_config.environment_variables.COMPUTE_API_ENDPOINT = 'http://10.0.0.9:8080'),
    check: 'function-environment',
    mentions: 'COMPUTE_API_ENDPOINT',
  },
  {
    name: 'a second function',
    config: 'default',
    mutate: (r) => add(r, 'google_cloudfunctions2_function.Responder_Shadow_0000', structuredClone(at(r, FUNCTION))),
    check: 'function-inventory',
    mentions: 'Responder_Shadow_0000',
  },
  {
    name: 'sink sends to another topic',
    config: 'default',
    mutate: (r) => (at(r, SINK).destination = 'pubsub.googleapis.com/projects/elsewhere/topics/integrity'),
    check: 'sink-destination',
    mentions: 'projects/elsewhere',
  },
  {
    name: 'a second sink exporting every log entry',
    config: 'default',
    mutate: (r) => add(r, 'google_logging_project_sink.Responder_Everything_0000', { ...at(r, SINK), filter: '' }),
    check: 'sink-inventory',
    mentions: 'Responder_Everything_0000',
  },
  {
    name: 'public_access_prevention removed',
    config: 'default',
    mutate: (r) => delete at(r, BUCKET).public_access_prevention,
    check: 'bucket-public-access-prevention',
    mentions: BUCKET,
  },
  {
    name: 'uniform bucket-level access off',
    config: 'default',
    mutate: (r) => (at(r, BUCKET).uniform_bucket_level_access = false),
    check: 'bucket-uniform-access',
    mentions: BUCKET,
  },
  {
    name: 'a second bucket',
    config: 'default',
    mutate: (r) => add(r, 'google_storage_bucket.Responder_Exports_0000', { ...at(r, BUCKET), name: 'fleet-prod-1234-exports' }),
    check: 'bucket-inventory',
    mentions: 'Responder_Exports_0000',
  },
  {
    name: 'Pub/Sub service agent removed',
    config: 'default',
    mutate: (r) => delete r.google_project_service_identity![PUBSUB_AGENT.split('.')[1]!],
    check: 'service-identities',
    mentions: PUBSUB_AGENT,
  },
  {
    name: 'an Eventarc trigger on the function again, beside the push subscription',
    config: 'default',
    mutate: (r) =>
      (at(r, FUNCTION).event_trigger = {
        trigger_region: 'us-central1',
        event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
        pubsub_topic: '${google_pubsub_topic.Responder_Topic_952B14F0.id}',
        service_account_email: '${google_service_account.Responder_TriggerServiceAccount_34ED64F2.email}',
        retry_policy: 'RETRY_POLICY_RETRY',
      }),
    check: 'function-no-event-trigger',
    mentions: FUNCTION,
  },
  {
    name: 'push OIDC token of the runtime SA instead of the trigger SA',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).push_config.oidc_token.service_account_email = RUNTIME_EMAIL),
    check: 'delivery-oidc-identity',
    mentions: 'Responder_RuntimeServiceAccount_6041DCDC',
  },
  {
    name: 'push OIDC token minted for another audience',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).push_config.oidc_token.audience = 'https://collector.example.com'),
    check: 'delivery-oidc-identity',
    mentions: 'oidc_token.audience',
  },
  {
    name: 'push without an OIDC token',
    config: 'default',
    mutate: (r) => delete at(r, SUBSCRIPTION).push_config.oidc_token,
    check: 'push-needs-oidc',
    mentions: SUBSCRIPTION,
  },
  {
    name: 'push endpoint elsewhere',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).push_config.push_endpoint = 'https://collector.example.com/integrity'),
    check: 'delivery-endpoint',
    mentions: 'collector.example.com',
  },
  {
    name: 'dead-letter policy removed',
    config: 'default',
    mutate: (r) => delete at(r, SUBSCRIPTION).dead_letter_policy,
    check: 'push-needs-dead-letter',
    mentions: SUBSCRIPTION,
  },
  {
    name: 'dead letters sent back to the events topic',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).dead_letter_policy.dead_letter_topic = '${google_pubsub_topic.Responder_Topic_952B14F0.id}'),
    check: 'delivery-dead-letter',
    mentions: 'dead_letter_policy.dead_letter_topic',
  },
  {
    name: 'maximum backoff cut to 60s',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).retry_policy.maximum_backoff = '60s'),
    check: 'delivery-backoff',
    mentions: "retry_policy.maximum_backoff is '60s'",
  },
  {
    name: 'push subscription on another topic',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).topic = 'projects/fleet-prod-1234/topics/anything'),
    check: 'delivery-topic',
    mentions: 'topics/anything',
  },
  {
    name: 'ack deadline of 10s, shorter than the function may run',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).ack_deadline_seconds = 10),
    check: 'delivery-ack-deadline',
    mentions: SUBSCRIPTION,
  },
  {
    name: 'push subscription keeps undelivered events 10 minutes',
    config: 'default',
    mutate: (r) => (at(r, SUBSCRIPTION).message_retention_duration = '600s'),
    check: 'delivery-retention',
    mentions: SUBSCRIPTION,
  },
  {
    name: 'push subscription expires after 31 days without activity (expiration policy left out)',
    config: 'default',
    mutate: (r) => delete at(r, SUBSCRIPTION).expiration_policy,
    check: 'subscription-never-expires',
    mentions: SUBSCRIPTION,
  },
  {
    name: 'dead-letter subscription pushes its letters to a URL',
    config: 'default',
    mutate: (r) =>
      (at(r, DEAD_LETTER_SUBSCRIPTION).push_config = {
        push_endpoint: 'https://collector.example.com/dead-letters',
        oidc_token: { service_account_email: RUNTIME_EMAIL },
      }),
    check: 'dead-letter-pull',
    mentions: DEAD_LETTER_SUBSCRIPTION,
  },
  {
    name: 'a second subscription on the events topic',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_pubsub_subscription.Responder_Tap_0000', {
        ...structuredClone(at(r, SUBSCRIPTION)),
        name: 'integrity-responder-tap',
      }),
    check: 'subscription-inventory',
    mentions: 'Responder_Tap_0000',
  },
  {
    name: 'events topic keeps messages 10 minutes',
    config: 'default',
    mutate: (r) => (at(r, TOPIC).message_retention_duration = '600s'),
    check: 'topic-retention',
    mentions: TOPIC,
  },
  {
    name: 'a third topic',
    config: 'default',
    mutate: (r) => add(r, 'google_pubsub_topic.Responder_Copies_0000', { ...at(r, TOPIC), name: 'integrity-responder-copies' }),
    check: 'topic-inventory',
    mentions: 'Responder_Copies_0000',
  },
  {
    name: 'Pub/Sub agent may no longer publish dead letters',
    config: 'default',
    mutate: (r) => delete r.google_pubsub_topic_iam_member![PUBLISHES_DEAD_LETTERS.split('.')[1]!],
    check: 'iam-inventory',
    mentions: PUBLISHES_DEAD_LETTERS,
  },
  {
    name: 'project sink without a writer identity of its own',
    config: 'default',
    mutate: (r) => (at(r, SINK).unique_writer_identity = false),
    check: 'sink-writer-identity',
    mentions: SINK,
  },
  {
    name: 'a second custom role',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_project_iam_custom_role.Responder_Spare_0000', {
        ...structuredClone(at(r, ROLE)),
        role_id: 'integrity_responder_spare',
      }),
    check: 'custom-role-inventory',
    mentions: 'Responder_Spare_0000',
  },
  {
    name: 'organization binding without its exclusion condition',
    config: 'organization',
    mutate: (r) => delete at(r, ORG_BINDING).condition,
    check: 'iam-condition',
    mentions: ORG_BINDING,
  },
  {
    name: 'organization binding moved to another organization',
    config: 'organization',
    mutate: (r) => (at(r, ORG_BINDING).org_id = '9999'),
    check: 'iam-target',
    mentions: "org_id '9999'",
  },
  {
    name: 'organization sink intercepts its children',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).intercept_children = true),
    check: 'sink-never-intercepts',
    mentions: ORG_SINK,
  },
  {
    name: 'organization sink no longer includes its children',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).include_children = false),
    check: 'sink-include-children',
    mentions: ORG_SINK,
  },
  {
    name: 'one exclusion removed from the organization sink',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).exclusions = at(r, ORG_SINK).exclusions.slice(0, 1)),
    check: 'sink-exclusions',
    mentions: ORG_SINK,
  },
  {
    name: 'project sink created before the push subscription (reports of the first deploy dropped)',
    config: 'default',
    mutate: (r) => delete at(r, SINK).depends_on,
    check: 'sink-after-delivery',
    mentions: `${SINK} does not wait for ${SUBSCRIPTION}`,
  },
  {
    name: 'organization sink created before the push subscription',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).depends_on = remove(at(r, ORG_SINK).depends_on, SUBSCRIPTION)),
    check: 'sink-after-delivery',
    mentions: `${ORG_SINK} does not wait for ${SUBSCRIPTION}`,
  },
  {
    name: 'push subscription turned into a pull subscription: nothing delivers what the sink exports',
    config: 'default',
    mutate: (r) => delete at(r, SUBSCRIPTION).push_config,
    check: 'sink-after-delivery',
    mentions: `${SINK} exports to \${google_pubsub_topic.Responder_Topic_952B14F0.id}, which no push subscription delivers`,
  },
  {
    name: 'the responder’s own project no longer excluded from the organization sink (its build identity writes logs there)',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).exclusions = at(r, ORG_SINK).exclusions.slice(1)),
    check: 'log-writer-in-watched-scope',
    mentions: 'google_project_iam_member.Responder_BuildWritesLogs_25230EE5',
  },
  {
    name: 'the responder’s own project excluded from the organization sink by its resource label only (a writer there names any resource)',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).exclusions[0].filter = 'resource.labels.project_id="fleet-prod-1234"'),
    check: 'log-writer-in-watched-scope',
    mentions: 'in project fleet-prod-1234',
  },
  {
    name: 'the runtime given roles/logging.logWriter in the watched project',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_project_iam_member.Responder_RuntimeWritesLogs_0000', {
        project: 'fleet-prod-1234',
        role: 'roles/logging.logWriter',
        member: RUNTIME,
      }),
    check: 'log-writer-in-watched-scope',
    mentions: 'google_project_iam_member.Responder_RuntimeWritesLogs_0000',
  },
  {
    name: 'roles/logging.logWriter granted at the organization holding the watched project',
    config: 'default',
    mutate: (r) =>
      add(r, 'google_organization_iam_member.Responder_OrgWritesLogs_0000', {
        org_id: '4242',
        role: 'roles/logging.logWriter',
        member: RUNTIME,
      }),
    check: 'log-writer-in-watched-scope',
    mentions: 'google_organization_iam_member.Responder_OrgWritesLogs_0000',
  },
  {
    name: 'a custom role with logging.logEntries.create granted at the organization',
    config: 'organization',
    mutate: (r) => {
      at(r, ORG_ROLE).permissions.push('logging.logEntries.create');
    },
    check: 'log-writer-in-watched-scope',
    mentions: ORG_BINDING,
  },
  {
    name: 'organization sink in another organization',
    config: 'organization',
    mutate: (r) => (at(r, ORG_SINK).org_id = '9999'),
    check: 'sink-parent',
    mentions: ORG_SINK,
  },
  {
    name: 'compute.instances.delete added to the organization role',
    config: 'organization',
    mutate: (r) => at(r, ORG_ROLE).permissions.push('compute.instances.delete'),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.delete',
  },
  {
    name: 'organization role defined in another organization',
    config: 'organization',
    mutate: (r) => (at(r, ORG_ROLE).org_id = '9999'),
    check: 'custom-role-target',
    mentions: ORG_ROLE,
  },
  {
    name: 'ledger database without delete protection',
    config: 'shutdown',
    mutate: (r) => (at(r, LEDGER).delete_protection_state = 'DELETE_PROTECTION_DISABLED'),
    check: 'firestore-databases',
    mentions: LEDGER,
  },
  {
    name: 'compute.snapshots.useReadOnly in the evidence role (the runtime could restore the evidence anywhere)',
    config: 'playbook',
    mutate: (r) => at(r, EVIDENCE_ROLE).permissions.push('compute.snapshots.useReadOnly'),
    check: 'custom-role-permissions',
    mentions: 'compute.snapshots.useReadOnly',
  },
  {
    name: 'compute.snapshots.delete in the evidence role',
    config: 'playbook',
    mutate: (r) => at(r, EVIDENCE_ROLE).permissions.push('compute.snapshots.delete'),
    check: 'custom-role-permissions',
    mentions: 'compute.snapshots.delete',
  },
  {
    name: 'evidence role defined in the responder’s project instead of the forensics project',
    config: 'playbook',
    mutate: (r) => (at(r, EVIDENCE_ROLE).project = 'fleet-prod-1234'),
    check: 'custom-role-target',
    mentions: EVIDENCE_ROLE,
  },
  {
    name: 'evidence grant moved to another project',
    config: 'playbook',
    mutate: (r) => (at(r, TAKES_EVIDENCE).project = 'fleet-prod-1234'),
    check: 'iam-target',
    mentions: TAKES_EVIDENCE,
  },
  {
    name: 'roles/compute.storageAdmin instead of the evidence role in the forensics project',
    config: 'playbook',
    mutate: (r) => (at(r, TAKES_EVIDENCE).role = 'roles/compute.storageAdmin'),
    check: 'iam-role',
    mentions: 'roles/compute.storageAdmin',
  },
  {
    name: 'compute.disks.createSnapshot missing from the scope role (no snapshot of another project’s disk)',
    config: 'playbook',
    mutate: (r) => (at(r, ORG_ROLE).permissions = remove(at(r, ORG_ROLE).permissions, 'compute.disks.createSnapshot')),
    check: 'custom-role-permissions',
    mentions: 'compute.disks.createSnapshot',
  },
  {
    name: 'compute.instances.setTags in the scope role of a quarantining responder',
    config: 'playbook-project',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instances.setTags'),
    check: 'custom-role-permissions',
    mentions: 'compute.instances.setTags',
  },
  {
    name: 'compute.instances.deleteTagBinding in the scope role: the runtime could lift every quarantine',
    config: 'playbook',
    mutate: (r) => at(r, ORG_ROLE).permissions.push('compute.instances.deleteTagBinding'),
    check: 'quarantine-never-lifted-by-runtime',
    mentions: ORG_ROLE,
  },
  {
    name: 'compute.instances.deleteTagBinding in a project scope role',
    config: 'playbook-project',
    mutate: (r) => at(r, ROLE).permissions.push('compute.instances.deleteTagBinding'),
    check: 'quarantine-never-lifted-by-runtime',
    mentions: ROLE,
  },
  {
    name: 'the release principal’s ledger grant without its condition: the baselines’ database opens too',
    config: 'playbook',
    mutate: (r) => delete at(r, RELEASER_RECORDS).condition,
    check: 'iam-condition',
    mentions: RELEASER_RECORDS,
  },
  {
    name: 'the release principal’s ledger grant on the baseline database',
    config: 'playbook',
    mutate: (r) =>
      (at(r, RELEASER_RECORDS).condition.expression =
        'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-baselines"'),
    check: 'iam-condition',
    mentions: 'integrity-responder-baselines',
  },
  {
    name: 'roles/datastore.user instead of the release role, on the whole project',
    config: 'playbook',
    mutate: (r) => {
      at(r, RELEASER_RECORDS).role = 'roles/datastore.user';
      delete at(r, RELEASER_RECORDS).condition;
    },
    check: 'iam-role',
    mentions: 'roles/datastore.user',
  },
  {
    name: 'datastore.entities.delete in the release role: a release principal could erase the ledger',
    config: 'playbook',
    mutate: (r) => at(r, RELEASE_ROLE).permissions.push('datastore.entities.delete'),
    check: 'custom-role-permissions',
    mentions: 'datastore.entities.delete',
  },
  {
    name: 'datastore.entities.create in the release role',
    config: 'playbook',
    mutate: (r) => at(r, RELEASE_ROLE).permissions.push('datastore.entities.create'),
    check: 'custom-role-permissions',
    mentions: 'datastore.entities.create',
  },
  {
    name: 'datastore.entities.list missing from the release role (the tool could not list contained VMs)',
    config: 'playbook',
    mutate: (r) => (at(r, RELEASE_ROLE).permissions = remove(at(r, RELEASE_ROLE).permissions, 'datastore.entities.list')),
    check: 'custom-role-permissions',
    mentions: 'datastore.entities.list',
  },
  {
    name: 'the release principal’s ledger grant left out of the plan',
    config: 'playbook',
    mutate: (r) => delete r.google_project_iam_member![RELEASER_RECORDS.slice(RELEASER_RECORDS.indexOf('.') + 1)],
    check: 'iam-inventory',
    mentions: RELEASER_RECORDS,
  },
  {
    name: 'the release principal’s tag grant widened to a whole domain',
    config: 'playbook',
    mutate: (r) => (at(r, RELEASER_UNBINDS_TAG).member = 'domain:example.com'),
    check: 'quarantine-release-principals',
    mentions: 'domain:example.com',
  },
  {
    name: 'the release principal’s tag grant widened to every identity of a workforce pool',
    config: 'playbook',
    mutate: (r) => (at(r, RELEASER_UNBINDS_TAG).member = 'principalSet://iam.googleapis.com/locations/global/workforcePools/staff/*'),
    check: 'quarantine-release-principals',
    mentions: 'workforcePools/staff/*',
  },
  {
    name: 'roles/resourcemanager.tagAdmin on the quarantine value for the runtime',
    config: 'playbook',
    mutate: (r) => (at(r, BINDS_TAG).role = 'roles/resourcemanager.tagAdmin'),
    check: 'iam-role',
    mentions: 'roles/resourcemanager.tagAdmin',
  },
  {
    name: 'the release principal’s tag grant given to someone else',
    config: 'playbook',
    mutate: (r) => (at(r, RELEASER_UNBINDS_TAG).member = 'group:everyone@example.com'),
    check: 'iam-member',
    mentions: 'group:everyone@example.com',
  },
  {
    name: 'tagUser on the quarantine value for all authenticated users',
    config: 'playbook',
    mutate: (r) =>
      add(r, 'google_tags_tag_value_iam_member.Responder_AnyoneUnbinds_0000', {
        tag_value: `\${${TAG_VALUE}.name}`,
        role: 'roles/resourcemanager.tagUser',
        member: 'allAuthenticatedUsers',
      }),
    check: 'no-public-members',
    mentions: 'allAuthenticatedUsers',
  },
  {
    name: 'tagUser granted on the whole tag key instead of the value',
    config: 'playbook-project',
    mutate: (r) =>
      add(r, 'google_tags_tag_key_iam_member.Responder_RuntimeUsesKey_0000', {
        tag_key: `\${${TAG_KEY}.name}`,
        role: 'roles/resourcemanager.tagUser',
        member: RUNTIME,
      }),
    check: 'iam-inventory',
    mentions: 'google_tags_tag_key_iam_member.Responder_RuntimeUsesKey_0000',
  },
  {
    name: 'the runtime may administer the findings source',
    config: 'playbook',
    mutate: (r) => (at(r, EDITS_FINDINGS).role = 'roles/securitycenter.admin'),
    check: 'iam-role',
    mentions: 'roles/securitycenter.admin',
  },
  {
    name: 'the release principal’s findings grant moved to another organization',
    config: 'playbook',
    mutate: (r) => (at(r, RELEASER_EDITS_FINDINGS).organization = '9999'),
    check: 'iam-target',
    mentions: "organization '9999'",
  },
  {
    name: 'a quarantine rule that allows instead of denying',
    config: 'playbook',
    mutate: (r) => (at(r, DENIES_INGRESS_IPV4).action = 'allow'),
    check: 'quarantine-rules',
    mentions: DENIES_INGRESS_IPV4,
  },
  {
    name: 'a quarantine rule disabled',
    config: 'playbook-project',
    mutate: (r) => (at(r, DENIES_EGRESS_IPV6).disabled = true),
    check: 'quarantine-rules',
    mentions: `${DENIES_EGRESS_IPV6} is disabled`,
  },
  {
    name: 'the ingress rule narrowed to one source range',
    config: 'playbook',
    mutate: (r) => (at(r, DENIES_INGRESS_IPV4).match.src_ip_ranges = ['203.0.113.0/24']),
    check: 'quarantine-rules',
    mentions: 'match.src_ip_ranges',
  },
  {
    name: 'the egress rule narrowed to TCP',
    config: 'playbook',
    mutate: (r) => (at(r, DENIES_EGRESS_IPV6).match.layer4_configs = [{ ip_protocol: 'tcp' }]),
    check: 'quarantine-rules',
    mentions: 'match.layer4_configs',
  },
  {
    name: 'a quarantine rule targeting another tag value',
    config: 'playbook',
    mutate: (r) => (at(r, DENIES_EGRESS_IPV6).target_secure_tags = [{ name: 'tagValues/281474976710656' }]),
    check: 'quarantine-rules',
    mentions: 'tagValues/281474976710656',
  },
  {
    name: 'a quarantine rule pushed down to a low priority',
    config: 'playbook',
    mutate: (r) => (at(r, DENIES_INGRESS_IPV4).priority = 65000),
    check: 'quarantine-rules',
    mentions: 'priority is 65000',
  },
  {
    name: 'an ingress rule removed: quarantined VMs reachable over IPv4',
    config: 'playbook',
    mutate: (r) => delete r.google_compute_firewall_policy_rule![DENIES_INGRESS_IPV4.split('.')[1]!],
    check: 'quarantine-inventory',
    mentions: `${DENIES_INGRESS_IPV4} is missing`,
  },
  {
    name: 'a tag key for one network instead of every network of the organization',
    config: 'playbook',
    mutate: (r) => (at(r, TAG_KEY).purpose_data = { network: 'fleet-prod-1234/default' }),
    check: 'quarantine-tag',
    mentions: 'purpose_data',
  },
  {
    name: 'a tag key without the firewall purpose',
    config: 'playbook-project',
    mutate: (r) => delete at(r, TAG_KEY).purpose,
    check: 'quarantine-tag',
    mentions: `${TAG_KEY} purpose is (unset)`,
  },
  {
    name: 'the tag key created in another organization',
    config: 'playbook-project',
    mutate: (r) => (at(r, TAG_KEY).parent = 'organizations/9999'),
    check: 'quarantine-tag',
    mentions: 'organizations/9999',
  },
  {
    name: 'the quarantine policy associated with another folder',
    config: 'playbook-project',
    mutate: (r) => (at(r, QUARANTINE_ASSOCIATION).attachment_target = 'folders/7770001'),
    check: 'quarantine-association',
    mentions: 'folders/7770001',
  },
  {
    name: 'the quarantine policy created under another folder',
    config: 'playbook',
    mutate: (r) => (at(r, QUARANTINE_POLICY).parent = 'folders/7770001'),
    check: 'quarantine-association',
    mentions: QUARANTINE_POLICY,
  },
  {
    name: 'the function no longer waits for the quarantine’s association',
    config: 'playbook',
    mutate: (r) => (at(r, SLEEP).depends_on = remove(at(r, SLEEP).depends_on, QUARANTINE_ASSOCIATION)),
    check: 'iam-propagation-wait',
    mentions: QUARANTINE_ASSOCIATION,
  },
  {
    name: 'QUARANTINE_TAG_VALUE pointed at another tag value',
    config: 'playbook-project',
    mutate: (r) => (at(r, FUNCTION).service_config.environment_variables.QUARANTINE_TAG_VALUE = 'tagValues/281474976710656'),
    check: 'function-environment',
    mentions: 'QUARANTINE_TAG_VALUE',
  },
  {
    name: 'the findings source created in another organization',
    config: 'playbook',
    mutate: (r) => (at(r, FINDINGS_SOURCE).organization = '9999'),
    check: 'findings-sources',
    mentions: FINDINGS_SOURCE,
  },
  {
    name: 'a second findings source',
    config: 'playbook',
    mutate: (r) => add(r, 'google_scc_v2_organization_source.Responder_Shadow_0000', { ...at(r, FINDINGS_SOURCE), display_name: 'shadow' }),
    check: 'findings-sources',
    mentions: 'Responder_Shadow_0000',
  },
  {
    name: 'a policy associated with the folder beside the existing one (the association fails: a node holds one)',
    config: 'playbook-existing-policy',
    mutate: (r) =>
      add(r, 'google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_0000', {
        firewall_policy: 'locations/global/firewallPolicies/123456789012',
        attachment_target: 'folders/5550001',
        name: 'integrity-responder-quarantine',
      }),
    check: 'quarantine-existing-policy',
    mentions: "associates a policy with 'folders/5550001'",
  },
  {
    name: 'a policy of its own created instead of using the existing one',
    config: 'playbook-existing-policy',
    mutate: (r) =>
      add(r, 'google_compute_firewall_policy.Responder_QuarantinePolicy_0000', {
        parent: 'folders/5550001',
        short_name: 'integrity-responder-quarantine',
      }),
    check: 'quarantine-existing-policy',
    mentions: 'google_compute_firewall_policy.Responder_QuarantinePolicy_0000 creates a policy',
  },
  {
    name: 'a rule put into another existing policy',
    config: 'playbook-existing-policy',
    mutate: (r) => (at(r, DENIES_EGRESS_IPV6).firewall_policy = '999999999999'),
    check: 'quarantine-existing-policy',
    mentions: `${DENIES_EGRESS_IPV6} is in policy '999999999999'`,
  },
  {
    name: 'a rule of the existing policy below the priorities chosen above the policy’s own rules',
    config: 'playbook-existing-policy',
    mutate: (r) => (at(r, DENIES_INGRESS_IPV4).priority = 65000),
    check: 'quarantine-existing-policy',
    mentions: 'take priorities [1001,1002,1003,65000]',
  },
  {
    name: 'a rule of the existing policy that allows',
    config: 'playbook-existing-policy',
    mutate: (r) => (at(r, DENIES_INGRESS_IPV4).action = 'allow'),
    check: 'quarantine-rules',
    mentions: DENIES_INGRESS_IPV4,
  },
  {
    name: 'a rule of the existing policy targeting every VM instead of the tag value',
    config: 'playbook-existing-policy',
    mutate: (r) => delete at(r, DENIES_EGRESS_IPV6).target_secure_tags,
    check: 'quarantine-rules',
    mentions: 'target_secure_tags',
  },
  {
    name: 'project lookup reads another project',
    config: 'default',
    mutate: (_r, doc) => (doc.data!.google_project!.Responder_Project_AFA5E3A9!.project_id = 'someone-elses-project'),
    check: 'project-lookup',
    mentions: 'someone-elses-project',
  },
];

const caught: { mutation: Mutation; checks: string[] }[] = [];

describe('the plan review catches each single mutation', () => {
  it.each([
    ['default', synthResponders({}), EXPECTED_DEFAULT],
    ['shutdown', synthResponders({ responseMode: 'shutdown' }), EXPECTED_SHUTDOWN],
    [
      'tutorial (default) database with enableApis',
      synthResponders({ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }),
      EXPECTED_TUTORIAL,
    ],
    [
      'two responders',
      synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }),
      EXPECTED_TWO_RESPONDERS,
    ],
    [
      'organization',
      synthResponders({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'] }),
      EXPECTED_ORGANIZATION,
    ],
    ['folder', synthResponders({ scope: 'folders/5550001', organizationId: '4242' }), EXPECTED_FOLDER],
  ] as const)('passes the unmutated %s plan with zero problems', (_name, plan, expected) => {
    expect(reviewPlan(JSON.parse(plan.json) as PlanDoc, expected)).toEqual([]);
  });

  it.each(mutations.map((m) => [m.name, m] as const))('%s', (_name, mutation) => {
    const { doc: original, expected } = plans[mutation.config];
    const doc = structuredClone(original);
    mutation.mutate(doc.resource as Resources, doc);
    expect(doc).not.toEqual(original);
    const findings = reviewPlan(doc, expected);
    caught.push({ mutation, checks: [...new Set(findings.map((f) => f.check))] });
    const named = findings.filter((f) => f.check === mutation.check).map((f) => f.problem);
    expect({ check: mutation.check, found: named.length > 0 }).toEqual({ check: mutation.check, found: true });
    expect(named.some((p) => p.includes(mutation.mentions))).toBe(true);
  });

  it('never mutates the plans it starts from', () => {
    expect(reviewPlan(plans.default.doc, EXPECTED_DEFAULT)).toEqual([]);
    expect(reviewPlan(plans.shutdown.doc, EXPECTED_SHUTDOWN)).toEqual([]);
    expect(reviewPlan(plans.organization.doc, EXPECTED_ORGANIZATION)).toEqual([]);
    expect(reviewPlan(plans['contain-only'].doc, EXPECTED_CONTAIN_ONLY)).toEqual([]);
    expect(reviewPlan(plans.playbook.doc, EXPECTED_PLAYBOOK)).toEqual([]);
    expect(reviewPlan(plans['playbook-project'].doc, EXPECTED_PLAYBOOK_PROJECT)).toEqual([]);
    expect(reviewPlan(plans['playbook-existing-policy'].doc, EXPECTED_PLAYBOOK_EXISTING_POLICY)).toEqual([]);
  });

  it('has a mutation caught by each check the review runs', () => {
    expect(mutations.length).toBeGreaterThanOrEqual(15);
    const exercised = new Set(mutations.map((m) => m.check));
    expect(CHECKS.filter((c) => !exercised.has(c))).toEqual([]);
  });

  afterAll(() => {
    const rows = caught.map(({ mutation, checks }, i) => [
      String(i + 1),
      mutation.name,
      mutation.config,
      checks.includes(mutation.check) ? mutation.check : `MISSED (${mutation.check})`,
      checks.filter((c) => c !== mutation.check).join(', ') || '-',
    ]);
    const header = ['#', 'mutation', 'plan', 'caught by', 'also reported by'];
    const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, col) => c.padEnd(widths[col]!))
        .join(' | ')
        .trimEnd();
    process.stdout.write(
      `\nPlan review mutation table (${rows.length} mutations)\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${rows.map(line).join('\n')}\n\n`,
    );
  });
});
