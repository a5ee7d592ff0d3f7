import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder } from '../../lib';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { PROJECT, Plan, scrubbed, synthResponders } from '../support/synth';

/** The APIs a deployment needs, written out: the construct's list is checked against this one. */
const REQUIRED_APIS = [
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

const FILTER = `resource.type="gce_instance" AND logName="projects/${PROJECT}/logs/compute.googleapis.com%2Fshielded_vm_integrity"`;
/** The filter of a folder or organization sink: the integrity log of every project below, by exact log id. */
const AGGREGATED_FILTER = 'resource.type="gce_instance" AND log_id("compute.googleapis.com/shielded_vm_integrity")';
const ORGANIZATION = { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-2', 'lab-sandbox-1'] } as const;
const FOLDER = { scope: 'folders/5550001', organizationId: '4242' } as const;
/** How a folder or organization sink leaves out the responder's own project: by the log's name, whatever the entry claims. */
const OWN_PROJECT_EXCLUSION = {
  name: 'skip-responder-project',
  description: "The responder's own project fleet-prod-1234: its build identity can write log entries there",
  filter: 'logName="projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity"',
};

function ref(plan: Plan, type: string, body: Record<string, unknown>, attr: string): string {
  const id = Object.entries(plan.resources(type)).find(([, b]) => b === body)?.[0];
  if (!id) throw new Error(`resource not found in ${type}`);
  return `\${${type}.${id}.${attr}}`;
}

function serviceAccount(plan: Plan, accountId: string): Record<string, unknown> {
  const found = Object.values(plan.resources('google_service_account')).find((sa) => sa.account_id === accountId);
  if (!found) throw new Error(`no service account ${accountId}`);
  return found;
}

function email(plan: Plan, accountId: string): string {
  return ref(plan, 'google_service_account', serviceAccount(plan, accountId), 'email');
}

/** The resource of a type whose logical id starts with `Responder_<name>_`. */
function named(plan: Plan, type: string, name: string): { id: string; body: Record<string, any> } {
  const found = Object.entries(plan.resources(type)).filter(([id]) => id.startsWith(`Responder_${name}_`));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return { id: found[0]![0], body: found[0]![1] };
}

describe('the synthesized plan', () => {
  describe('snapshots', () => {
    it('matches the default configuration', () => {
      expect(scrubbed(synthResponders({}))).toMatchSnapshot();
    });

    it('matches a tutorial-compatible shutdown configuration on the (default) database', () => {
      expect(scrubbed(synthResponders({ responseMode: 'shutdown', firestoreDatabaseId: '(default)' }))).toMatchSnapshot();
    });

    it('matches a configuration that enables APIs and sizes the function', () => {
      const plan = synthResponders({
        enableApis: true,
        region: 'europe-west4',
        firestoreLocationId: 'eur3',
        maxInstanceCount: 10,
        memoryMib: 512,
        timeoutSeconds: 120,
        logLevel: 'info',
        labels: { team: 'platform' },
      });
      expect(scrubbed(plan)).toMatchSnapshot();
    });

    it('matches two responders in one stack', () => {
      expect(
        scrubbed(synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' })),
      ).toMatchSnapshot();
    });

    it('matches an organization scope with two projects excluded', () => {
      expect(scrubbed(synthResponders({ ...ORGANIZATION, excludedProjects: [...ORGANIZATION.excludedProjects] }))).toMatchSnapshot();
    });

    it('matches a folder scope', () => {
      expect(scrubbed(synthResponders(FOLDER))).toMatchSnapshot();
    });

    it('matches a full containment playbook over an organization: snapshot, quarantine, stop, findings, release approval', () => {
      expect(
        scrubbed(
          synthResponders({
            scope: 'organizations/4242',
            containment: ['snapshot', 'quarantine', 'stop'],
            forensicsProjectId: 'fleet-forensics-7',
            raiseFindings: true,
            releasePrincipals: ['group:incident-response@example.com'],
            requireReleaseApproval: true,
          }),
        ),
      ).toMatchSnapshot();
    });

    it('matches a folder scope whose quarantine rules go into the organization’s existing firewall policy', () => {
      expect(
        scrubbed(
          synthResponders({
            scope: 'folders/5550001',
            organizationId: '4242',
            containment: ['quarantine', 'stop'],
            quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
            quarantineRulePriority: 1000,
          }),
        ),
      ).toMatchSnapshot();
    });
  });

  describe('log sink and topic (B1, B2)', () => {
    const plan = synthResponders({});
    const topic = named(plan, 'google_pubsub_topic', 'Topic').body;
    const sink = plan.only('google_logging_project_sink');

    it('exports exactly the shielded_vm_integrity entries of gce_instance resources', () => {
      expect(sink.filter).toBe(FILTER);
    });

    it('gives the sink its own writer identity', () => {
      expect(sink.unique_writer_identity).toBe(true);
    });

    it('sends the entries to the topic', () => {
      expect(sink.destination).toBe(`pubsub.googleapis.com/${ref(plan, 'google_pubsub_topic', topic, 'id')}`);
    });

    it('keeps the entries seven days while the function cannot take them', () => {
      expect(topic.message_retention_duration).toBe('604800s');
    });

    it('lets the sink writer publish to that topic and nothing else', () => {
      const topicName = ref(plan, 'google_pubsub_topic', topic, 'name');
      const grants = Object.values(plan.resources('google_pubsub_topic_iam_member')).filter((g) => g.topic === topicName);
      expect(grants).toEqual([
        expect.objectContaining({
          topic: ref(plan, 'google_pubsub_topic', topic, 'name'),
          role: 'roles/pubsub.publisher',
          member: ref(plan, 'google_logging_project_sink', sink, 'writer_identity'),
        }),
      ]);
      const projectRoles = Object.values(plan.resources('google_project_iam_member')).map((g) => g.role);
      expect(projectRoles).not.toContain('roles/pubsub.publisher');
    });
  });

  describe('function source (B3)', () => {
    const plan = synthResponders({});
    const bucket = plan.only('google_storage_bucket');
    const object = plan.only('google_storage_bucket_object');

    it('keeps the source bucket private: uniform access, public access prevention enforced', () => {
      expect(plan.json).toHaveResourceWithProperties(StorageBucket, {
        uniform_bucket_level_access: true,
        public_access_prevention: 'enforced',
        force_destroy: false,
      });
      expect(bucket.name).toBe(`${PROJECT}-integrity-responder-src`);
    });

    it('names the uploaded object after the SHA-256 of the zip it uploads', () => {
      const bundle = loadFunctionBundle();
      const sha = createHash('sha256').update(readFileSync(bundle.zipPath)).digest('hex');
      expect(object.name).toBe(`integrity-responder/function-${sha}.zip`);
      expect(object.bucket).toBe(ref(plan, 'google_storage_bucket', bucket, 'name'));
      expect(object.source).toMatch(new RegExp(`assets/.*${sha}.*\\.zip$`));
    });

    it('synthesizes byte-identical plans when nothing changed (no diff)', () => {
      expect(synthResponders({}).json).toBe(plan.json);
    });
  });

  describe('the function (B4)', () => {
    const plan = synthResponders({});
    const fn = plan.only('google_cloudfunctions2_function') as Record<string, any>;

    it('is a Gen2 function on nodejs24 built from the uploaded object, pinned to its generation', () => {
      expect(fn.build_config.runtime).toBe('nodejs24');
      expect(fn.build_config.entry_point).toBe('respondToIntegrityEvent');
      expect(fn.build_config.source.storage_source).toEqual({
        bucket: ref(plan, 'google_storage_bucket', plan.only('google_storage_bucket'), 'name'),
        object: ref(plan, 'google_storage_bucket_object', plan.only('google_storage_bucket_object'), 'name'),
        generation: ref(plan, 'google_storage_bucket_object', plan.only('google_storage_bucket_object'), 'generation'),
      });
    });

    it('builds with a dedicated build account into a dedicated repository', () => {
      expect(fn.build_config.service_account).toBe(
        ref(plan, 'google_service_account', serviceAccount(plan, 'integrity-responder-build'), 'id'),
      );
      expect(fn.build_config.docker_repository).toBe(
        ref(plan, 'google_artifact_registry_repository', plan.only('google_artifact_registry_repository'), 'id'),
      );
    });

    it('runs as its own service account, internal ingress only, with bounded instances', () => {
      expect(fn.service_config.service_account_email).toBe(email(plan, 'integrity-responder-runtime'));
      expect(fn.service_config.ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
      expect(fn.service_config.max_instance_count).toBe(3);
      expect(fn.service_config.min_instance_count).toBe(0);
    });

    it('is configured through environment variables', () => {
      expect(fn.service_config.environment_variables).toEqual({
        RESPONSE_MODE: 'relearn-if-known-good',
        FIRESTORE_DATABASE: 'integrity-responder-baselines',
        BASELINE_COLLECTION: 'known_good_measurements',
        BASELINE_APPROVAL: 'none',
        LEDGER_DATABASE: 'integrity-responder-decisions',
        GOOGLE_CLOUD_PROJECT: PROJECT,
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        RELEARN_MAX_AGE_SECONDS: '300',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        SCOPE: `projects/${PROJECT}`,
        EXCLUDED_PROJECTS: 'none',
        INSTANCE_GROUP_ACTION: 'abandon',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      });
    });

    it('has no Eventarc trigger: events arrive through the push subscription alone', () => {
      expect(fn).not.toHaveProperty('event_trigger');
      expect(plan.resources('google_eventarc_trigger')).toEqual({});
    });

    it('takes sizing props', () => {
      const sized = synthResponders({ maxInstanceCount: 7, memoryMib: 512, timeoutSeconds: 90, runtime: 'nodejs22' });
      expect(sized.json).toHaveResourceWithProperties(Cloudfunctions2Function, {
        build_config: expect.objectContaining({ runtime: 'nodejs22' }),
        service_config: expect.objectContaining({
          max_instance_count: 7,
          available_memory: '512Mi',
          timeout_seconds: 90,
          environment_variables: expect.objectContaining({ COMPUTE_TIMEOUT_SECONDS: '20' }),
        }),
      });
    });

    it('sets concurrency and CPU when availableCpu is given', () => {
      const sized = synthResponders({ maxInstanceCount: 10, maxInstanceRequestConcurrency: 8, availableCpu: '1' });
      expect(sized.json).toHaveResourceWithProperties(Cloudfunctions2Function, {
        service_config: expect.objectContaining({
          max_instance_count: 10,
          max_instance_request_concurrency: 8,
          available_cpu: '1',
          available_memory: '256Mi',
        }),
      });
      const cpuOnly = synthResponders({ availableCpu: '0.583', memoryMib: 1024 });
      expect(cpuOnly.json).toHaveResourceWithProperties(Cloudfunctions2Function, {
        service_config: expect.objectContaining({ max_instance_request_concurrency: 1, available_cpu: '0.583' }),
      });
    });

    it('leaves concurrency and CPU out of the default plan', () => {
      const fn = synthResponders({}).only('google_cloudfunctions2_function') as { service_config: Record<string, unknown> };
      expect(fn.service_config).not.toHaveProperty('max_instance_request_concurrency');
      expect(fn.service_config).not.toHaveProperty('available_cpu');
    });
  });

  describe('IAM (B5)', () => {
    const plan = synthResponders({});
    const fn = plan.only('google_cloudfunctions2_function');
    const projectGrants = Object.values(plan.resources('google_project_iam_member'));

    it('lets the trigger account invoke this function’s service only', () => {
      expect(Object.values(plan.resources('google_cloud_run_v2_service_iam_member'))).toEqual([
        expect.objectContaining({
          name: ref(plan, 'google_cloudfunctions2_function', fn, 'service_config[0].service'),
          role: 'roles/run.invoker',
          member: `serviceAccount:${email(plan, 'integrity-responder-trigger')}`,
        }),
      ]);
      expect(projectGrants.map((g) => g.role)).not.toContain('roles/run.invoker');
    });

    it('gives the runtime a custom role with exactly the Compute permissions the relearn mode uses', () => {
      const role = named(plan, 'google_project_iam_custom_role', 'InstanceRole').body;
      expect(role.permissions).toEqual([
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ]);
      expect(projectGrants).toContainEqual(
        expect.objectContaining({
          role: ref(plan, 'google_project_iam_custom_role', role, 'name'),
          member: `serviceAccount:${email(plan, 'integrity-responder-runtime')}`,
        }),
      );
    });

    it('gives the shutdown mode a custom role that can only stop an instance, abandon it from its group, and wait', () => {
      const role = named(synthResponders({ responseMode: 'shutdown' }), 'google_project_iam_custom_role', 'InstanceRole').body;
      expect(role.permissions).toEqual([
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ]);
      expect(role.description).toMatch(/Remove it from its managed instance group first/);
    });

    it('gives a contain-only responder no managed-instance-group permission, in either mode', () => {
      const relearn = named(
        synthResponders({ instanceGroupAction: 'contain-only' }),
        'google_project_iam_custom_role',
        'InstanceRole',
      ).body;
      expect(relearn.permissions).toEqual([
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.stop',
        'compute.zoneOperations.get',
      ]);
      expect(relearn.description).not.toMatch(/group/);
      const shutdown = named(
        synthResponders({ responseMode: 'shutdown', instanceGroupAction: 'contain-only' }),
        'google_project_iam_custom_role',
        'InstanceRole',
      ).body;
      expect(shutdown.permissions).toEqual(['compute.instances.get', 'compute.instances.stop', 'compute.zoneOperations.get']);
    });

    it('gives a suspend responder the suspend permission instead of the stop permission, in either mode', () => {
      const relearn = named(synthResponders({ failureAction: 'suspend' }), 'google_project_iam_custom_role', 'InstanceRole').body;
      expect(relearn.permissions).toEqual([
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.setShieldedInstanceIntegrityPolicy',
        'compute.instances.suspend',
        'compute.zoneOperations.get',
      ]);
      expect(relearn.description).toMatch(/^Suspend a Shielded VM/);
      const shutdown = named(
        synthResponders({ responseMode: 'shutdown', failureAction: 'suspend' }),
        'google_project_iam_custom_role',
        'InstanceRole',
      ).body;
      expect(shutdown.permissions).toEqual([
        'compute.instanceGroupManagers.get',
        'compute.instanceGroupManagers.update',
        'compute.instances.get',
        'compute.instances.suspend',
        'compute.zoneOperations.get',
      ]);
    });

    it('keeps the action permissions in dry-run, so enforcing is one change of ENFORCEMENT', () => {
      const plan = synthResponders({ enforcement: 'dry-run' });
      expect(named(plan, 'google_project_iam_custom_role', 'InstanceRole').body.permissions).toEqual(
        named(synthResponders({}), 'google_project_iam_custom_role', 'InstanceRole').body.permissions,
      );
      const fn = plan.only('google_cloudfunctions2_function') as { service_config: { environment_variables: Record<string, string> } };
      expect(fn.service_config.environment_variables).toEqual(expect.objectContaining({ ENFORCEMENT: 'dry-run', FAILURE_ACTION: 'stop' }));
    });

    it('with requireBaselineApproval, writes the policy document the baseline tool reads, and tells the function', () => {
      expect(Object.keys(plan.resources('google_firestore_document'))).toEqual([]);
      const approving = synthResponders({ requireBaselineApproval: true });
      const policy = approving.only('google_firestore_document');
      expect(policy).toEqual(
        expect.objectContaining({
          project: PROJECT,
          database: 'integrity-responder-baselines',
          collection: 'integrity_responder_policies',
          document_id: 'integrity-responder',
        }),
      );
      expect(JSON.parse(policy.fields as string)).toEqual({
        baselineCollection: { stringValue: 'known_good_measurements' },
        requireApproval: { booleanValue: true },
      });
      expect(policy.depends_on).toEqual([expect.stringMatching(/^google_firestore_database\.Responder_BaselineDatabase_/)]);
      const fn = approving.only('google_cloudfunctions2_function') as { service_config: { environment_variables: Record<string, string> } };
      expect(fn.service_config.environment_variables.BASELINE_APPROVAL).toBe('two-person');
      // The runtime still only reads the baseline database.
      expect(Object.values(approving.resources('google_project_iam_member')).map((g) => g.role)).not.toContain('roles/datastore.user');
    });

    it('gives the runtime read-only Firestore access conditioned to the baseline database', () => {
      expect(projectGrants).toContainEqual(
        expect.objectContaining({
          role: 'roles/datastore.viewer',
          member: `serviceAccount:${email(plan, 'integrity-responder-runtime')}`,
          condition: expect.objectContaining({
            expression: `resource.name == "projects/${PROJECT}/databases/integrity-responder-baselines"`,
          }),
        }),
      );
    });

    it('gives the runtime a ledger role that reads, creates and updates documents but cannot delete, conditioned to the ledger database', () => {
      const ledger = named(plan, 'google_project_iam_custom_role', 'LedgerRole');
      expect(ledger.body.permissions).toEqual([
        'datastore.databases.get',
        'datastore.entities.create',
        'datastore.entities.get',
        'datastore.entities.update',
      ]);
      expect(projectGrants.filter((g) => g.role === ref(plan, 'google_project_iam_custom_role', ledger.body, 'name'))).toEqual([
        expect.objectContaining({
          member: `serviceAccount:${email(plan, 'integrity-responder-runtime')}`,
          condition: expect.objectContaining({
            expression: `resource.name == "projects/${PROJECT}/databases/integrity-responder-decisions"`,
          }),
        }),
      ]);
      expect(projectGrants.map((g) => g.role)).not.toContain('roles/datastore.user');
    });

    it('grants project-wide only the documented roles', () => {
      const roles = projectGrants.map((g) => String(g.role).replace(/\$\{.*\}/, '<custom role>')).sort();
      expect(roles).toEqual([
        '<custom role>',
        '<custom role>',
        'roles/datastore.viewer',
        'roles/logging.logWriter',
        'roles/storage.objectViewer',
      ]);
      const sourceRead = projectGrants.find((g) => g.role === 'roles/storage.objectViewer')!;
      const project = named(plan, 'google_project_iam_member', 'BuildReadsStagedSource').body.condition.expression.match(
        /\$\{data\.google_project\.([A-Za-z0-9_]+)\.number\}/,
      )?.[1];
      expect(Object.keys((JSON.parse(plan.json) as { data: { google_project: object } }).data.google_project)).toEqual([project]);
      expect(sourceRead.condition).toEqual(
        expect.objectContaining({
          expression: `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-\${data.google_project.${project}.number}-us-central1/objects/integrity-responder-handler/")`,
        }),
      );
    });

    it('grants the shutdown mode no access to any baseline database', () => {
      const shutdown = synthResponders({ responseMode: 'shutdown' });
      const roles = Object.values(shutdown.resources('google_project_iam_member')).map((g) => g.role);
      expect(roles).not.toContain('roles/datastore.viewer');
      expect(roles.filter((r) => /^roles\/datastore/.test(String(r)))).toEqual([]);
    });

    it('creates only the Pub/Sub service agent, with google-beta, and lets only it mint trigger tokens', () => {
      const agents = Object.values(plan.resources('google_project_service_identity'));
      expect(agents.map((a) => [a.service, a.provider])).toEqual([['pubsub.googleapis.com', 'google-beta']]);
      const pubsub = named(plan, 'google_project_service_identity', 'PubsubServiceAgent');
      expect(Object.values(plan.resources('google_service_account_iam_member'))).toEqual([
        {
          service_account_id: ref(plan, 'google_service_account', serviceAccount(plan, 'integrity-responder-trigger'), 'name'),
          role: 'roles/iam.serviceAccountTokenCreator',
          member: `\${google_project_service_identity.${pubsub.id}.member}`,
        },
      ]);
    });

    it('contains no primitive role, no public member, and never the default compute service account', () => {
      for (const [type, id, body] of plan.all()) {
        const text = JSON.stringify(body);
        expect({ type, id, primitive: /roles\/(owner|editor|viewer)"/.test(text) }).toEqual({ type, id, primitive: false });
        expect(text).not.toMatch(/allUsers|allAuthenticatedUsers/);
        expect(text).not.toMatch(/-compute@developer\.gserviceaccount\.com/);
      }
    });

    it('waits for IAM to propagate: a time_sleep after every grant the function needs and the Pub/Sub agent, before the function', () => {
      const sleep = plan.only('time_sleep');
      const sleepId = Object.keys(plan.resources('time_sleep'))[0]!;
      expect(sleep.create_duration).toBe('120s');
      expect(sleep.provider).toBe('time');
      const grantNames = [
        'google_project_iam_member.RuntimeActsOnInstances',
        'google_project_iam_member.RuntimeReadsBaselines',
        'google_project_iam_member.RuntimeWritesLedger',
        'google_artifact_registry_repository_iam_member.BuildPushesImages',
        'google_project_iam_member.BuildWritesLogs',
        'google_project_iam_member.BuildReadsStagedSource',
        'google_project_service_identity.PubsubServiceAgent',
        'google_service_account_iam_member.PubsubAgentMintsTriggerTokens',
      ];
      expect(sleep.depends_on).toEqual(
        grantNames.map((n) => {
          const [type, name] = n.split('.') as [string, string];
          return `${type}.${named(plan, type, name).id}`;
        }),
      );
      expect((fn as Record<string, any>).depends_on).toEqual([
        `time_sleep.${sleepId}`,
        `google_firestore_database.${named(plan, 'google_firestore_database', 'LedgerDatabase').id}`,
        `google_firestore_database.${named(plan, 'google_firestore_database', 'BaselineDatabase').id}`,
      ]);
    });

    it('takes the wait from iamPropagationSeconds', () => {
      expect(synthResponders({ iamPropagationSeconds: 300 }).only('time_sleep').create_duration).toBe('300s');
      expect(synthResponders({ iamPropagationSeconds: 0 }).only('time_sleep').create_duration).toBe('0s');
    });

    it('puts one of its own service accounts wherever an identity is chosen', () => {
      const ours = Object.keys(plan.resources('google_service_account'));
      const fnAny = fn as Record<string, any>;
      const push = named(plan, 'google_pubsub_subscription', 'Subscription').body;
      for (const value of [
        fnAny.build_config.service_account,
        fnAny.service_config.service_account_email,
        push.push_config.oidc_token.service_account_email,
      ]) {
        expect(ours.some((id) => String(value).startsWith(`\${google_service_account.${id}.`))).toBe(true);
      }
    });
  });

  describe('delivery: a push subscription with backoff and a dead-letter topic', () => {
    const plan = synthResponders({});
    const fn = plan.only('google_cloudfunctions2_function');
    const topic = named(plan, 'google_pubsub_topic', 'Topic').body;
    const deadLetterTopic = named(plan, 'google_pubsub_topic', 'DeadLetterTopic').body;
    const push = named(plan, 'google_pubsub_subscription', 'Subscription');
    const pull = named(plan, 'google_pubsub_subscription', 'DeadLetterSubscription').body;
    const agent = `\${google_project_service_identity.${named(plan, 'google_project_service_identity', 'PubsubServiceAgent').id}.member}`;

    it('pushes the events topic to the function’s URL with an OIDC token of the trigger account', () => {
      expect(push.body.name).toBe('integrity-responder-deliveries');
      expect(push.body.topic).toBe(ref(plan, 'google_pubsub_topic', topic, 'id'));
      // The path names the topic (the Functions Framework reads the CloudEvent source from it);
      // the token's audience is the service URL, what Cloud Run checks.
      expect(push.body.push_config).toEqual({
        push_endpoint: `${ref(plan, 'google_cloudfunctions2_function', fn, 'service_config[0].uri')}/projects/fleet-prod-1234/topics/${ref(plan, 'google_pubsub_topic', topic, 'name')}`,
        oidc_token: {
          service_account_email: email(plan, 'integrity-responder-trigger'),
          audience: ref(plan, 'google_cloudfunctions2_function', fn, 'service_config[0].uri'),
        },
      });
    });

    it('retries a refused delivery from 10 s up to 10 minutes, then dead-letters it after 20 deliveries', () => {
      expect(push.body.retry_policy).toEqual({ minimum_backoff: '10s', maximum_backoff: '600s' });
      expect(push.body.dead_letter_policy).toEqual({
        dead_letter_topic: ref(plan, 'google_pubsub_topic', deadLetterTopic, 'id'),
        max_delivery_attempts: 20,
      });
    });

    it('waits for the function as long as it may run, keeps events seven days and never expires', () => {
      expect(push.body.ack_deadline_seconds).toBe(60);
      expect(push.body.message_retention_duration).toBe('604800s');
      expect(push.body.expiration_policy).toEqual({ ttl: '' });
    });

    it('follows timeoutSeconds into the ack deadline, never below Pub/Sub’s 10 s, and maxDeliveryAttempts into the policy', () => {
      const sized = named(synthResponders({ timeoutSeconds: 300, maxDeliveryAttempts: 7 }), 'google_pubsub_subscription', 'Subscription');
      expect(sized.body.ack_deadline_seconds).toBe(300);
      expect(sized.body.dead_letter_policy.max_delivery_attempts).toBe(7);
      expect(named(synthResponders({ timeoutSeconds: 5 }), 'google_pubsub_subscription', 'Subscription').body.ack_deadline_seconds).toBe(
        10,
      );
    });

    it('is created after the invoker grant, so that the first pushes are admitted', () => {
      const invoker = Object.keys(plan.resources('google_cloud_run_v2_service_iam_member'))[0]!;
      expect(push.body.depends_on).toEqual([`google_cloud_run_v2_service_iam_member.${invoker}`]);
    });

    it('keeps the dead letters seven days in a pull subscription of their own, pushed nowhere', () => {
      expect(deadLetterTopic.name).toBe('integrity-responder-dead-letters');
      expect(deadLetterTopic.message_retention_duration).toBe('604800s');
      expect(pull).toEqual(
        expect.objectContaining({
          name: 'integrity-responder-dead-letters',
          topic: ref(plan, 'google_pubsub_topic', deadLetterTopic, 'id'),
          message_retention_duration: '604800s',
          expiration_policy: { ttl: '' },
        }),
      );
      expect(pull).not.toHaveProperty('push_config');
      expect(pull).not.toHaveProperty('dead_letter_policy');
    });

    it('lets the Pub/Sub agent publish to the dead-letter topic and acknowledge on the push subscription, nothing more', () => {
      expect(Object.values(plan.resources('google_pubsub_topic_iam_member')).filter((g) => g.member === agent)).toEqual([
        {
          project: PROJECT,
          topic: ref(plan, 'google_pubsub_topic', deadLetterTopic, 'name'),
          role: 'roles/pubsub.publisher',
          member: agent,
        },
      ]);
      expect(Object.values(plan.resources('google_pubsub_subscription_iam_member'))).toEqual([
        {
          project: PROJECT,
          subscription: ref(plan, 'google_pubsub_subscription', push.body, 'name'),
          role: 'roles/pubsub.subscriber',
          member: agent,
        },
      ]);
    });

    it.each([
      ['a project', {}, 'google_logging_project_sink'],
      ['a folder', FOLDER, 'google_logging_folder_sink'],
      ['an organization', { ...ORGANIZATION, excludedProjects: [...ORGANIZATION.excludedProjects] }, 'google_logging_organization_sink'],
    ] as const)(
      'creates the sink of %s only after the push subscription, and its publisher grant after the sink',
      (_scope, props, type) => {
        const scoped = synthResponders(props);
        const sink = named(scoped, type, 'Sink');
        const subscription = named(scoped, 'google_pubsub_subscription', 'Subscription').id;
        // Pub/Sub drops what reaches a topic without subscriptions: the sink exports nothing before this one exists.
        expect(sink.body.depends_on).toEqual([`google_pubsub_subscription.${subscription}`]);
        // Its writer identity exists only with it, so the grant cannot be waited for before the function.
        const grant = named(scoped, 'google_pubsub_topic_iam_member', 'SinkPublishesToTopic');
        expect(grant.body.member).toBe(`\${${type}.${sink.id}.writer_identity}`);
        expect(scoped.only('time_sleep').depends_on).not.toContain(`google_pubsub_topic_iam_member.${grant.id}`);
      },
    );

    it('makes the sink also wait for the APIs when it enables them', () => {
      const enabling = synthResponders({ enableApis: true });
      const waits = named(enabling, 'google_logging_project_sink', 'Sink').body.depends_on as string[];
      expect(waits).toContain(`google_pubsub_subscription.${named(enabling, 'google_pubsub_subscription', 'Subscription').id}`);
      expect(waits.filter((d) => d.startsWith('google_project_service.'))).toHaveLength(REQUIRED_APIS.length);
    });

    it('has exactly two subscriptions and two topics', () => {
      expect(Object.keys(plan.resources('google_pubsub_subscription'))).toHaveLength(2);
      expect(Object.keys(plan.resources('google_pubsub_topic'))).toHaveLength(2);
    });
  });

  describe('scope', () => {
    const runtime = (plan: Plan) => `serviceAccount:${email(plan, 'integrity-responder-runtime')}`;
    // Members of managed instance groups are contained in place by default at these scopes.
    const permissions = [
      'compute.instances.get',
      'compute.instances.setShieldedInstanceIntegrityPolicy',
      'compute.instances.stop',
      'compute.zoneOperations.get',
    ];

    describe('a project other than the responder’s', () => {
      const plan = synthResponders({ scope: 'projects/fleet-vms-5678' });

      it('puts the sink, the Compute role and its binding in that project, the rest in the responder’s', () => {
        const sink = plan.only('google_logging_project_sink');
        expect(sink.project).toBe('fleet-vms-5678');
        expect(sink.filter).toBe(
          'resource.type="gce_instance" AND logName="projects/fleet-vms-5678/logs/compute.googleapis.com%2Fshielded_vm_integrity"',
        );
        expect(named(plan, 'google_project_iam_custom_role', 'InstanceRole').body.project).toBe('fleet-vms-5678');
        expect(named(plan, 'google_project_iam_member', 'RuntimeActsOnInstances').body.project).toBe('fleet-vms-5678');
        expect(named(plan, 'google_project_iam_custom_role', 'LedgerRole').body.project).toBe(PROJECT);
        expect(plan.only('google_cloudfunctions2_function').project).toBe(PROJECT);
      });
    });

    describe('an organization with two projects excluded', () => {
      const plan = synthResponders({ ...ORGANIZATION, excludedProjects: [...ORGANIZATION.excludedProjects] });
      const sink = plan.only('google_logging_organization_sink');
      const role = plan.only('google_organization_iam_custom_role');

      it('exports the integrity log of every project below the organization, without intercepting it', () => {
        expect(sink).toEqual(
          expect.objectContaining({
            org_id: '4242',
            name: 'integrity-responder-integrity',
            filter: AGGREGATED_FILTER,
            destination: `pubsub.googleapis.com/${ref(plan, 'google_pubsub_topic', named(plan, 'google_pubsub_topic', 'Topic').body, 'id')}`,
            include_children: true,
            intercept_children: false,
          }),
        );
      });

      it('excludes the responder’s own project from the sink by its log name, and each excluded project by its project_id label, sorted', () => {
        expect(sink.exclusions).toEqual([
          OWN_PROJECT_EXCLUSION,
          {
            name: 'skip-lab-sandbox-1',
            description: "Project lab-sandbox-1 is excluded from the responder's scope",
            filter: 'resource.labels.project_id="lab-sandbox-1"',
          },
          {
            name: 'skip-lab-sandbox-2',
            description: "Project lab-sandbox-2 is excluded from the responder's scope",
            filter: 'resource.labels.project_id="lab-sandbox-2"',
          },
        ]);
      });

      it('creates no project sink and no project Compute role', () => {
        expect(plan.resources('google_logging_project_sink')).toEqual({});
        expect(plan.resources('google_logging_folder_sink')).toEqual({});
        expect(Object.values(plan.resources('google_project_iam_custom_role')).map((r) => r.role_id)).toEqual([
          'integrity_responder_ledger',
        ]);
      });

      it('lets the organization sink’s writer publish to the topic', () => {
        expect(named(plan, 'google_pubsub_topic_iam_member', 'SinkPublishesToTopic').body.member).toBe(
          ref(plan, 'google_logging_organization_sink', sink, 'writer_identity'),
        );
      });

      it('defines the Compute role in the organization with the same permissions as a project role', () => {
        expect(role).toEqual(
          expect.objectContaining({ org_id: '4242', role_id: 'integrity_responder_instances', stage: 'GA', permissions }),
        );
      });

      it('binds it at the organization to the runtime, under a condition that leaves the excluded projects out', () => {
        expect(Object.values(plan.resources('google_organization_iam_member'))).toEqual([
          {
            org_id: '4242',
            role: ref(plan, 'google_organization_iam_custom_role', role, 'name'),
            member: runtime(plan),
            condition: {
              title: 'integrity-responder scope without excluded projects',
              description: 'Not in fleet-prod-1234, lab-sandbox-1, lab-sandbox-2',
              expression:
                '!(resource.name.startsWith("projects/fleet-prod-1234/") || resource.name.startsWith("projects/lab-sandbox-1/") || resource.name.startsWith("projects/lab-sandbox-2/"))',
            },
          },
        ]);
        expect(Object.values(plan.resources('google_project_iam_member')).map((g) => g.role)).not.toContain(
          ref(plan, 'google_organization_iam_custom_role', role, 'name'),
        );
      });

      it('tells the function its scope and the excluded projects, its own among them, sorted', () => {
        const env = (plan.only('google_cloudfunctions2_function') as Record<string, any>).service_config.environment_variables;
        expect(env).toEqual(
          expect.objectContaining({ SCOPE: 'organizations/4242', EXCLUDED_PROJECTS: 'fleet-prod-1234,lab-sandbox-1,lab-sandbox-2' }),
        );
      });

      it('waits for the organization binding before the function', () => {
        const binding = Object.keys(plan.resources('google_organization_iam_member'))[0]!;
        expect(plan.only('time_sleep').depends_on).toContain(`google_organization_iam_member.${binding}`);
      });
    });

    describe('a folder', () => {
      const plan = synthResponders(FOLDER);
      const sink = plan.only('google_logging_folder_sink');
      const role = plan.only('google_organization_iam_custom_role');

      it('exports the integrity log of every project below the folder but the responder’s own, without intercepting it', () => {
        expect(sink).toEqual(
          expect.objectContaining({
            folder: 'folders/5550001',
            filter: AGGREGATED_FILTER,
            include_children: true,
            intercept_children: false,
            exclusions: [OWN_PROJECT_EXCLUSION],
          }),
        );
        expect(plan.resources('google_logging_organization_sink')).toEqual({});
      });

      it('defines the Compute role in organizationId, IAM having no folder roles', () => {
        expect(role).toEqual(expect.objectContaining({ org_id: '4242', permissions }));
      });

      it('binds it at the folder, under a condition that leaves the responder’s own project out', () => {
        expect(Object.values(plan.resources('google_folder_iam_member'))).toEqual([
          {
            folder: 'folders/5550001',
            role: ref(plan, 'google_organization_iam_custom_role', role, 'name'),
            member: runtime(plan),
            condition: {
              title: 'integrity-responder scope without excluded projects',
              description: 'Not in fleet-prod-1234',
              expression: '!(resource.name.startsWith("projects/fleet-prod-1234/"))',
            },
          },
        ]);
        expect(plan.resources('google_organization_iam_member')).toEqual({});
      });

      it('tells the function its scope and that its own project is excluded', () => {
        const env = (plan.only('google_cloudfunctions2_function') as Record<string, any>).service_config.environment_variables;
        expect(env).toEqual(expect.objectContaining({ SCOPE: 'folders/5550001', EXCLUDED_PROJECTS: 'fleet-prod-1234' }));
      });
    });

    describe('the responder’s own project, where its build identity writes logs (ADR 0023)', () => {
      const buildWritesLogs = (plan: Plan) => named(plan, 'google_project_iam_member', 'BuildWritesLogs').body;

      it('keeps the build’s log writer grant in every scope: Cloud Build stores the build’s logs with it', () => {
        for (const props of [{}, { scope: 'projects/fleet-vms-5678' }, FOLDER, { scope: 'organizations/4242' }]) {
          const plan = synthResponders(props);
          expect(buildWritesLogs(plan)).toEqual({
            project: PROJECT,
            role: 'roles/logging.logWriter',
            member: `serviceAccount:${email(plan, 'integrity-responder-build')}`,
          });
        }
      });

      it.each([
        ['folder', FOLDER, 'google_logging_folder_sink', 'google_folder_iam_member'],
        ['organization', { scope: 'organizations/4242' }, 'google_logging_organization_sink', 'google_organization_iam_member'],
      ] as const)('leaves it out of a %s scope by default: sink, binding and function', (_kind, props, sinkType, bindingType) => {
        const plan = synthResponders(props);
        expect(plan.only(sinkType).exclusions).toEqual([OWN_PROJECT_EXCLUSION]);
        expect((plan.only(bindingType).condition as { expression: string }).expression).toBe(
          '!(resource.name.startsWith("projects/fleet-prod-1234/"))',
        );
        const env = (plan.only('google_cloudfunctions2_function') as Record<string, any>).service_config.environment_variables;
        expect(env.EXCLUDED_PROJECTS).toBe('fleet-prod-1234');
      });

      it('watches it when watchResponderProject is set, as before', () => {
        const plan = synthResponders({ ...FOLDER, watchResponderProject: true });
        expect(plan.only('google_logging_folder_sink')).not.toHaveProperty('exclusions');
        expect(plan.only('google_folder_iam_member')).not.toHaveProperty('condition');
        const env = (plan.only('google_cloudfunctions2_function') as Record<string, any>).service_config.environment_variables;
        expect(env.EXCLUDED_PROJECTS).toBe('none');
      });

      it('cannot leave it out of a project scope that names it, the default: the log writer stays in the watched project', () => {
        const plan = synthResponders({});
        expect(plan.only('google_logging_project_sink').project).toBe(buildWritesLogs(plan).project);
        const elsewhere = synthResponders({ scope: 'projects/fleet-vms-5678' });
        expect(elsewhere.only('google_logging_project_sink').project).not.toBe(buildWritesLogs(elsewhere).project);
      });
    });

    it('gives a shutdown responder over an organization the shutdown permissions only', () => {
      const role = synthResponders({ scope: 'organizations/4242', responseMode: 'shutdown' }).only('google_organization_iam_custom_role');
      expect(role.permissions).toEqual(['compute.instances.get', 'compute.instances.stop', 'compute.zoneOperations.get']);
    });
  });

  describe('Firestore (B6)', () => {
    const protectedNative = (name: string) => ({
      project: PROJECT,
      name,
      type: 'FIRESTORE_NATIVE',
      location_id: 'us-central1',
      delete_protection_state: 'DELETE_PROTECTION_ENABLED',
      deletion_policy: 'ABANDON',
    });

    it('creates a dedicated baseline database and a ledger database, Native mode, delete-protected, kept on destroy', () => {
      const dbs = Object.values(synthResponders({}).resources('google_firestore_database'));
      expect(dbs).toEqual([protectedNative('integrity-responder-baselines'), protectedNative('integrity-responder-decisions')]);
    });

    it('creates no baseline database in the shutdown mode, which reads none', () => {
      const dbs = Object.values(synthResponders({ responseMode: 'shutdown' }).resources('google_firestore_database'));
      expect(dbs).toEqual([protectedNative('integrity-responder-decisions')]);
    });

    it('turns delete protection off on both databases when asked', () => {
      const dbs = Object.values(synthResponders({ firestoreDeleteProtection: false }).resources('google_firestore_database'));
      expect(dbs.map((d) => d.delete_protection_state)).toEqual(['DELETE_PROTECTION_DISABLED', 'DELETE_PROTECTION_DISABLED']);
    });

    it('uses an existing database, such as (default), for the baselines, and still creates the ledger', () => {
      const plan = synthResponders({ firestoreDatabaseId: '(default)' });
      expect(Object.values(plan.resources('google_firestore_database'))).toEqual([protectedNative('integrity-responder-decisions')]);
      const fn = plan.only('google_cloudfunctions2_function') as Record<string, any>;
      expect(fn.service_config.environment_variables.FIRESTORE_DATABASE).toBe('(default)');
      const grant = Object.values(plan.resources('google_project_iam_member')).find((g) => g.role === 'roles/datastore.viewer');
      expect(grant?.condition).toEqual(
        expect.objectContaining({ expression: `resource.name == "projects/${PROJECT}/databases/(default)"` }),
      );
    });

    it('declares no composite index: the only query uses equality filters (see README)', () => {
      expect(synthResponders({}).resources('google_firestore_index')).toEqual({});
    });
  });

  describe('embedding (B7)', () => {
    it('adds the google-beta and time providers it needs, but never configures google', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'bare');
      new GoogleProvider(stack, 'google', {});
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      const doc = JSON.parse(Testing.synth(stack)) as { provider?: Record<string, unknown[]> };
      expect(doc.provider).toEqual({ google: [{}], 'google-beta': [{}], time: [{}] });
    });

    it('fails at synth in a stack without a google provider, naming providers.google', () => {
      const stack = new TerraformStack(Testing.app(), 'bare');
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      expect(() => Testing.synth(stack)).toThrow(
        "IntegrityResponder at 'bare/Responder': stack 'bare' has no google provider: declare one (new GoogleProvider(stack, 'google', { … })) or set providers.google",
      );
    });

    it('adds each provider once, however many responders the stack holds', () => {
      const doc = JSON.parse(synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b' }).json) as {
        provider: Record<string, unknown[]>;
      };
      expect(Object.fromEntries(Object.entries(doc.provider).map(([k, v]) => [k, v.length]))).toEqual({
        google: 1,
        'google-beta': 1,
        time: 1,
      });
    });

    it('gives the google-beta provider it adds the identity settings of the stack’s google provider', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'impersonating');
      new GoogleProvider(stack, 'google', {
        project: PROJECT,
        impersonateServiceAccount: 'deployer@fleet-prod-1234.iam.gserviceaccount.com',
        billingProject: 'billing-project-42',
        userProjectOverride: true,
      });
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      const doc = JSON.parse(Testing.synth(stack)) as { provider: Record<string, unknown[]> };
      expect(doc.provider['google-beta']).toEqual([
        {
          impersonate_service_account: 'deployer@fleet-prod-1234.iam.gserviceaccount.com',
          billing_project: 'billing-project-42',
          user_project_override: true,
        },
      ]);
    });

    it('uses the stack’s own google-beta and time providers when it has them', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'own');
      new GoogleProvider(stack, 'google', {});
      new GoogleBetaProvider(stack, 'beta', { project: PROJECT, region: 'europe-west4' });
      new TimeProvider(stack, 'clock', {});
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      const doc = JSON.parse(Testing.synth(stack)) as { provider: Record<string, unknown[]> };
      expect(doc.provider).toEqual({ google: [{}], 'google-beta': [{ project: PROJECT, region: 'europe-west4' }], time: [{}] });
    });

    it('lets two responders share a stack without any name colliding', () => {
      const plan = synthResponders({ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b' });
      const names = plan
        .all()
        .flatMap(([type, , body]) =>
          ['name', 'account_id', 'role_id', 'repository_id']
            .filter((k) => typeof body[k] === 'string' && !String(body[k]).includes('${'))
            .map((k) => `${type}:${String(body[k])}`),
        );
      expect(names.length).toBeGreaterThan(20);
      expect(new Set(names).size).toBe(names.length);
    });

    it('fails when two responders in one stack share a namePrefix', () => {
      expect(() => synthResponders({ namePrefix: 'same' }, { namePrefix: 'same' })).toThrow(/namePrefix 'same' is already used/);
    });

    it('exposes the resources users wire to', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'fields');
      const r = new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      for (const field of [
        'topic',
        'function',
        'runtimeServiceAccount',
        'triggerServiceAccount',
        'buildServiceAccount',
        'sink',
        'sourceBucket',
        'sourceObject',
        'buildRepository',
        'instanceRole',
        'delivery',
        'database',
        'ledgerDatabase',
        'iamPropagation',
      ] as const) {
        expect(r[field]).toBeDefined();
      }
      expect(r.scope).toBe(`projects/${PROJECT}`);
      expect(r.delivery.subscription).toBeDefined();
      expect(r.delivery.deadLetterTopic).toBeDefined();
      expect(r.delivery.deadLetterSubscription).toBeDefined();
      expect(r.databaseId).toBe('integrity-responder-baselines');
      expect(r.ledgerDatabaseId).toBe('integrity-responder-decisions');
    });

    it('exposes no baseline database in the shutdown mode', () => {
      const stack = new TerraformStack(Testing.app(), 'shutdown');
      const r = new IntegrityResponder(stack, 'Responder', { projectId: PROJECT, responseMode: 'shutdown' });
      expect(r.database).toBeUndefined();
      expect(r.ledgerDatabase).toBeDefined();
    });

    it('enables the required APIs only when asked, and never disables them on destroy', () => {
      expect(synthResponders({}).resources('google_project_service')).toEqual({});
      const plan = synthResponders({ enableApis: true });
      const services = Object.values(plan.resources('google_project_service'));
      expect(services.map((s) => s.service).sort()).toEqual(REQUIRED_APIS);
      expect(services.every((s) => s.disable_on_destroy === false)).toBe(true);
      const fn = plan.only('google_cloudfunctions2_function');
      expect((fn.depends_on as string[]).filter((d) => d.startsWith('google_project_service.'))).toHaveLength(REQUIRED_APIS.length);
    });
  });
});
