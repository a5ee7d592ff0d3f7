import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder } from '../lib';
import { loadFunctionBundle } from '../lib/function-bundle';
import { PROJECT, Plan, scrubbed, synthResponders } from './support/synth';

/** The APIs a deployment needs, written out: the construct's list is checked against this one. */
const REQUIRED_APIS = [
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

const FILTER = `resource.type="gce_instance" AND logName="projects/${PROJECT}/logs/compute.googleapis.com%2Fshielded_vm_integrity"`;

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
  });

  describe('log sink and topic (B1, B2)', () => {
    const plan = synthResponders({});
    const topic = plan.only('google_pubsub_topic');
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

    it('lets the sink writer publish to that topic and nothing else', () => {
      const grants = Object.values(plan.resources('google_pubsub_topic_iam_member'));
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
        LEDGER_DATABASE: 'integrity-responder-decisions',
        GOOGLE_CLOUD_PROJECT: PROJECT,
        LOG_LEVEL: 'debug',
        MAX_EVENT_AGE_SECONDS: '3600',
        STALE_EVENT_POLICY: 'fail-closed',
        COMPUTE_TIMEOUT_SECONDS: '15',
        FAILURE_ACTION: 'stop',
        ENFORCEMENT: 'enforce',
        EXEMPT_LABEL: 'integrity-response=exempt',
        MAX_ACTIONS_PER_WINDOW: '50',
        ACTION_WINDOW_SECONDS: '3600',
      });
    });

    it('is triggered by Eventarc on messages published to the topic, with retries, as the trigger account', () => {
      expect(fn.event_trigger).toEqual({
        trigger_region: 'us-central1',
        event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
        pubsub_topic: ref(plan, 'google_pubsub_topic', plan.only('google_pubsub_topic'), 'id'),
        service_account_email: email(plan, 'integrity-responder-trigger'),
        retry_policy: 'RETRY_POLICY_RETRY',
      });
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

    it('gives the shutdown mode a custom role that can only stop an instance and wait for the operation', () => {
      const role = named(synthResponders({ responseMode: 'shutdown' }), 'google_project_iam_custom_role', 'InstanceRole').body;
      expect(role.permissions).toEqual(['compute.instances.get', 'compute.instances.stop', 'compute.zoneOperations.get']);
    });

    it('gives a suspend responder the suspend permission instead of the stop permission, in either mode', () => {
      const relearn = named(synthResponders({ failureAction: 'suspend' }), 'google_project_iam_custom_role', 'InstanceRole').body;
      expect(relearn.permissions).toEqual([
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
      expect(shutdown.permissions).toEqual(['compute.instances.get', 'compute.instances.suspend', 'compute.zoneOperations.get']);
    });

    it('keeps the action permissions in dry-run, so enforcing is one change of ENFORCEMENT', () => {
      const plan = synthResponders({ enforcement: 'dry-run' });
      expect(named(plan, 'google_project_iam_custom_role', 'InstanceRole').body.permissions).toEqual(
        named(synthResponders({}), 'google_project_iam_custom_role', 'InstanceRole').body.permissions,
      );
      const fn = plan.only('google_cloudfunctions2_function') as { service_config: { environment_variables: Record<string, string> } };
      expect(fn.service_config.environment_variables).toEqual(expect.objectContaining({ ENFORCEMENT: 'dry-run', FAILURE_ACTION: 'stop' }));
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

    it('creates the Eventarc and Pub/Sub service agents with google-beta, and lets only the Pub/Sub agent mint trigger tokens', () => {
      const agents = Object.values(plan.resources('google_project_service_identity'));
      expect(agents.map((a) => [a.service, a.provider])).toEqual([
        ['eventarc.googleapis.com', 'google-beta'],
        ['pubsub.googleapis.com', 'google-beta'],
      ]);
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

    it('waits for IAM to propagate: a time_sleep after every grant and both agents, before the function', () => {
      const sleep = plan.only('time_sleep');
      const sleepId = Object.keys(plan.resources('time_sleep'))[0]!;
      expect(sleep.create_duration).toBe('120s');
      expect(sleep.provider).toBe('time');
      const grantNames = [
        'google_pubsub_topic_iam_member.SinkPublishesToTopic',
        'google_project_iam_member.RuntimeActsOnInstances',
        'google_project_iam_member.RuntimeReadsBaselines',
        'google_project_iam_member.RuntimeWritesLedger',
        'google_artifact_registry_repository_iam_member.BuildPushesImages',
        'google_project_iam_member.BuildWritesLogs',
        'google_project_iam_member.BuildReadsStagedSource',
        'google_project_service_identity.EventarcServiceAgent',
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
      for (const value of [
        fnAny.build_config.service_account,
        fnAny.service_config.service_account_email,
        fnAny.event_trigger.service_account_email,
      ]) {
        expect(ours.some((id) => String(value).startsWith(`\${google_service_account.${id}.`))).toBe(true);
      }
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
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      const doc = JSON.parse(Testing.synth(stack)) as { provider?: Record<string, unknown[]> };
      expect(doc.provider).toEqual({ 'google-beta': [{}], time: [{}] });
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
      new GoogleBetaProvider(stack, 'beta', { project: PROJECT, region: 'europe-west4' });
      new TimeProvider(stack, 'clock', {});
      new IntegrityResponder(stack, 'Responder', { projectId: PROJECT });
      const doc = JSON.parse(Testing.synth(stack)) as { provider: Record<string, unknown[]> };
      expect(doc.provider).toEqual({ 'google-beta': [{ project: PROJECT, region: 'europe-west4' }], time: [{}] });
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
        'database',
        'ledgerDatabase',
        'iamPropagation',
      ] as const) {
        expect(r[field]).toBeDefined();
      }
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
