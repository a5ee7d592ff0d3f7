import { ConfigError, loadConfig } from '../../../function/runtime/config';
import { FUNCTION_VARIABLES, PLAYBOOK_SETTINGS, SETTINGS, computeTimeoutFor, functionEnvironment } from '../../../function/contract';
import { synthResponders } from '../../support/synth';

/** Every variable the construct sets, with valid values. */
const COMPLETE = {
  RESPONSE_MODE: 'shutdown',
  FIRESTORE_DATABASE: 'integrity-baselines',
  BASELINE_COLLECTION: 'baselines',
  BASELINE_APPROVAL: 'two-person',
  LEDGER_DATABASE: 'integrity-decisions',
  GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
  LOG_LEVEL: 'info',
  MAX_EVENT_AGE_SECONDS: '600',
  STALE_EVENT_POLICY: 'fail-open',
  RELEARN_MAX_AGE_SECONDS: '240',
  COMPUTE_TIMEOUT_SECONDS: '5',
  FAILURE_ACTION: 'suspend',
  ENFORCEMENT: 'dry-run',
  EXEMPT_LABEL: 'keep=yes',
  SCOPE: 'organizations/4242',
  EXCLUDED_PROJECTS: 'lab-sandbox-1,lab-sandbox-2',
  INSTANCE_GROUP_ACTION: 'contain-only',
  MAX_ACTIONS_PER_WINDOW: '10',
  ACTION_WINDOW_SECONDS: '600',
  CONTAINMENT_STEPS: 'snapshot,quarantine',
  FORENSICS_PROJECT: 'forensics-vault-01',
  SNAPSHOT_RETENTION_DAYS: '30',
  QUARANTINE_TAG_VALUE: 'tagValues/281474976710656',
  FINDINGS_SOURCE: 'organizations/4242/sources/987654321',
};

function planEnvironment(props = {}): Record<string, string> {
  const fn = synthResponders(props).only('google_cloudfunctions2_function') as {
    service_config: { environment_variables: Record<string, string> };
  };
  return fn.service_config.environment_variables;
}

describe('loadConfig', () => {
  it('reads every variable', () => {
    expect(loadConfig({ ...COMPLETE, COMPUTE_API_ENDPOINT: 'http://127.0.0.1:8089' })).toEqual({
      mode: 'shutdown',
      firestoreDatabase: 'integrity-baselines',
      baselineCollection: 'baselines',
      baselineApproval: 'two-person',
      ledgerDatabase: 'integrity-decisions',
      projectId: 'fleet-prod-1234',
      computeEndpoint: { protocol: 'http', host: '127.0.0.1', port: 8089 },
      logLevel: 'info',
      maxEventAgeSeconds: 600,
      staleEventPolicy: 'fail-open',
      relearnMaxAgeSeconds: 240,
      computeTimeoutSeconds: 5,
      failureAction: 'suspend',
      enforcement: 'dry-run',
      exemptLabel: 'keep=yes',
      scope: 'organizations/4242',
      excludedProjects: 'lab-sandbox-1,lab-sandbox-2',
      instanceGroupAction: 'contain-only',
      maxActionsPerWindow: 10,
      actionWindowSeconds: 600,
      containmentSteps: 'snapshot,quarantine',
      forensicsProject: 'forensics-vault-01',
      snapshotRetentionDays: 30,
      quarantineTagValue: 'tagValues/281474976710656',
      findingsSource: 'organizations/4242/sources/987654321',
    });
  });

  it('reads the endpoints of Resource Manager and Security Command Center', () => {
    const config = loadConfig({
      ...COMPLETE,
      RESOURCE_MANAGER_API_ENDPOINT: 'http://127.0.0.1:8090',
      SECURITY_CENTER_API_ENDPOINT: 'https://scc.example.internal',
    });
    expect(config.resourceManagerEndpoint).toEqual({ protocol: 'http', host: '127.0.0.1', port: 8090 });
    expect(config.securityCenterEndpoint).toEqual({ protocol: 'https', host: 'scc.example.internal', port: 443 });
    expect(() => loadConfig({ ...COMPLETE, SECURITY_CENTER_API_ENDPOINT: 'http://127.0.0.1:1/v2' })).toThrow(
      /SECURITY_CENTER_API_ENDPOINT must be http\(s\):\/\/host\[:port\] with no path/,
    );
  });

  it('refuses a playbook step without what it acts with, and what a step acts with without the step', () => {
    expect(() => loadConfig({ ...COMPLETE, FORENSICS_PROJECT: 'none' })).toThrow(
      "CONTAINMENT_STEPS lists snapshot, so FORENSICS_PROJECT must be set; it is 'none'",
    );
    expect(() => loadConfig({ ...COMPLETE, QUARANTINE_TAG_VALUE: 'none' })).toThrow(
      "CONTAINMENT_STEPS lists quarantine, so QUARANTINE_TAG_VALUE must be set; it is 'none'",
    );
    expect(() => loadConfig({ ...COMPLETE, CONTAINMENT_STEPS: 'quarantine' })).toThrow(
      "FORENSICS_PROJECT is 'forensics-vault-01', but CONTAINMENT_STEPS ('quarantine') does not list snapshot",
    );
    expect(() => loadConfig({ ...COMPLETE, CONTAINMENT_STEPS: 'quarantine,snapshot' })).toThrow(
      /CONTAINMENT_STEPS must be 'none', 'snapshot', 'quarantine' or 'snapshot,quarantine'; got 'quarantine,snapshot'/,
    );
    expect(() => loadConfig({ ...COMPLETE, FINDINGS_SOURCE: 'organizations/4242/sources/x' })).toThrow(/FINDINGS_SOURCE must be/);
  });

  it('refuses excluded projects under a project scope, where they mean nothing', () => {
    expect(() => loadConfig({ ...COMPLETE, SCOPE: 'projects/fleet-prod-1234' })).toThrow(
      "EXCLUDED_PROJECTS applies to a folder or organization SCOPE only; SCOPE is 'projects/fleet-prod-1234'",
    );
    expect(loadConfig({ ...COMPLETE, SCOPE: 'projects/fleet-prod-1234', EXCLUDED_PROJECTS: 'none' }).scope).toBe(
      'projects/fleet-prod-1234',
    );
  });

  it("reads MAX_ACTIONS_PER_WINDOW 'unlimited' as no limit", () => {
    expect(loadConfig({ ...COMPLETE, MAX_ACTIONS_PER_WINDOW: 'unlimited' }).maxActionsPerWindow).toBe('unlimited');
  });

  const PLAYBOOK_VARIABLES = PLAYBOOK_SETTINGS.map((key) => SETTINGS[key].env);

  it.each(Object.keys(COMPLETE).filter((name) => !PLAYBOOK_VARIABLES.includes(name)))(
    'refuses to start without %s instead of falling back to a default',
    (name) => {
      const env: Record<string, string> = { ...COMPLETE };
      delete env[name];
      expect(() => loadConfig(env)).toThrow(new RegExp(`${name} is not set`));
    },
  );

  it('reads absent playbook variables as their defaults: a responder without a playbook is given none of them', () => {
    const env: Record<string, string> = { ...COMPLETE };
    for (const name of PLAYBOOK_VARIABLES) delete env[name];
    const config = loadConfig(env);
    for (const key of PLAYBOOK_SETTINGS) expect({ [key]: config[key] }).toEqual({ [key]: SETTINGS[key].default });
  });

  it('names the variable a misspelled one was meant to be', () => {
    const { STALE_EVENT_POLICY, ...rest } = COMPLETE;
    expect(() => loadConfig({ ...rest, STALE_EVENT_POLICEY: STALE_EVENT_POLICY })).toThrow(
      /STALE_EVENT_POLICEY is not a variable of this function; did you mean STALE_EVENT_POLICY\?.*STALE_EVENT_POLICY is not set/,
    );
  });

  it('names INSTANCE_GROUP_ACTION when it is misspelled', () => {
    const { INSTANCE_GROUP_ACTION, ...rest } = COMPLETE;
    expect(() => loadConfig({ ...rest, INSTANCE_GROUPS_ACTION: INSTANCE_GROUP_ACTION })).toThrow(
      /INSTANCE_GROUPS_ACTION is not a variable of this function; did you mean INSTANCE_GROUP_ACTION\?.*INSTANCE_GROUP_ACTION is not set/,
    );
  });

  it('refuses a near-miss even when the real variable is also set', () => {
    expect(() => loadConfig({ ...COMPLETE, RESPONSE_MOD: 'shutdown' })).toThrow(ConfigError);
  });

  it('leaves unrelated variables of the platform alone', () => {
    expect(() =>
      loadConfig({ ...COMPLETE, K_SERVICE: 'x', FUNCTION_TARGET: 'y', LOG_EXECUTION_ID: 'z', PATH: '/usr/bin', NODE_OPTIONS: '' }),
    ).not.toThrow();
  });

  it('defaults the port of an https endpoint to 443', () => {
    expect(loadConfig({ ...COMPLETE, COMPUTE_API_ENDPOINT: 'https://compute.example.internal' }).computeEndpoint).toEqual({
      protocol: 'https',
      host: 'compute.example.internal',
      port: 443,
    });
  });

  it.each([
    ['RESPONSE_MODE', 'suspend-everything', /RESPONSE_MODE must be one of/],
    ['FIRESTORE_DATABASE', 'Bad DB', /FIRESTORE_DATABASE/],
    ['BASELINE_COLLECTION', 'a/b', /BASELINE_COLLECTION/],
    ['LEDGER_DATABASE', 'Bad DB', /LEDGER_DATABASE must be a database id/],
    ['GOOGLE_CLOUD_PROJECT', 'Not_A_Project', /GOOGLE_CLOUD_PROJECT must be a Google Cloud project id/],
    ['COMPUTE_API_ENDPOINT', 'not a url', /COMPUTE_API_ENDPOINT/],
    ['COMPUTE_API_ENDPOINT', 'ftp://127.0.0.1:21', /COMPUTE_API_ENDPOINT/],
    ['COMPUTE_API_ENDPOINT', 'http://127.0.0.1:8089/compute/v1', /no path/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL/],
    ['MAX_EVENT_AGE_SECONDS', '10', /MAX_EVENT_AGE_SECONDS must be an integer from 60/],
    ['MAX_EVENT_AGE_SECONDS', '1h', /MAX_EVENT_AGE_SECONDS/],
    ['STALE_EVENT_POLICY', 'maybe', /STALE_EVENT_POLICY must be one of fail-closed, fail-open/],
    ['COMPUTE_TIMEOUT_SECONDS', '0', /COMPUTE_TIMEOUT_SECONDS/],
    ['FAILURE_ACTION', 'delete', /FAILURE_ACTION must be one of stop, suspend/],
    ['ENFORCEMENT', 'dryrun', /ENFORCEMENT must be one of enforce, dry-run/],
    ['EXEMPT_LABEL', 'integrity-response', /EXEMPT_LABEL must be a GCE label as key=value/],
    ['EXEMPT_LABEL', 'Integrity-Response=exempt', /EXEMPT_LABEL must be a GCE label/],
    ['EXEMPT_LABEL', '1key=exempt', /EXEMPT_LABEL must be a GCE label/],
    ['EXEMPT_LABEL', 'key=a=b', /EXEMPT_LABEL must be a GCE label/],
    ['EXEMPT_LABEL', `key=${'v'.repeat(64)}`, /EXEMPT_LABEL must be a GCE label/],
    ['SCOPE', 'fleet-prod-1234', /SCOPE must be 'projects\/<project id>', 'folders\/<number>' or 'organizations\/<number>'/],
    ['SCOPE', 'folders/abc', /SCOPE must be/],
    ['SCOPE', 'organizations/0123', /SCOPE must be/],
    ['EXCLUDED_PROJECTS', 'a,b', /EXCLUDED_PROJECTS must be 'none' or up to 10 project ids separated by commas/],
    ['EXCLUDED_PROJECTS', 'lab-sandbox-1, lab-sandbox-2', /EXCLUDED_PROJECTS must be/],
    ['EXCLUDED_PROJECTS', Array.from({ length: 11 }, (_, i) => `lab-sandbox-${i}`).join(','), /EXCLUDED_PROJECTS must be/],
    ['INSTANCE_GROUP_ACTION', 'stop', /INSTANCE_GROUP_ACTION must be one of abandon, contain-only; got 'stop'/],
    ['MAX_ACTIONS_PER_WINDOW', '0', /MAX_ACTIONS_PER_WINDOW must be an integer from 1 to 100000, or 'unlimited'; got '0'/],
    ['MAX_ACTIONS_PER_WINDOW', '100001', /MAX_ACTIONS_PER_WINDOW must be an integer from 1 to 100000/],
    ['MAX_ACTIONS_PER_WINDOW', 'Unlimited', /MAX_ACTIONS_PER_WINDOW must be an integer/],
    ['MAX_ACTIONS_PER_WINDOW', '2.5', /MAX_ACTIONS_PER_WINDOW must be an integer/],
    ['ACTION_WINDOW_SECONDS', '59', /ACTION_WINDOW_SECONDS must be an integer from 60 to 604800/],
    ['ACTION_WINDOW_SECONDS', 'unlimited', /ACTION_WINDOW_SECONDS must be an integer/],
  ])('fails when %s is %s', (name, value, message) => {
    expect(() => loadConfig({ ...COMPLETE, [name]: value })).toThrow(message);
  });
});

describe('the contract between construct and function', () => {
  it('has the construct set exactly the variables the function requires, the playbook ones only with a playbook', () => {
    const playbook = PLAYBOOK_SETTINGS.map((key) => SETTINGS[key].env);
    expect(Object.keys(planEnvironment()).sort()).toEqual(FUNCTION_VARIABLES.filter((name) => !playbook.includes(name)).sort());
    const withPlaybook = planEnvironment({ containment: ['snapshot', 'stop'], forensicsProjectId: 'forensics-vault-01' });
    expect(Object.keys(withPlaybook).sort()).toEqual([...FUNCTION_VARIABLES].sort());
    expect(loadConfig(withPlaybook)).toEqual(
      expect.objectContaining({ containmentSteps: 'snapshot', forensicsProject: 'forensics-vault-01', snapshotRetentionDays: 90 }),
    );
  });

  it('tells the function its decision ledger, the database the construct creates for it', () => {
    expect(FUNCTION_VARIABLES).toContain('LEDGER_DATABASE');
    expect(planEnvironment().LEDGER_DATABASE).toBe('integrity-responder-decisions');
    expect(planEnvironment({ namePrefix: 'fleet-x' }).LEDGER_DATABASE).toBe('fleet-x-decisions');
    expect(planEnvironment({ responseMode: 'shutdown', firestoreDatabaseId: '(default)' }).LEDGER_DATABASE).toBe(
      'integrity-responder-decisions',
    );
  });

  it('gives the function a configuration it accepts, with the documented defaults', () => {
    expect(loadConfig(planEnvironment())).toEqual({
      mode: SETTINGS.responseMode.default,
      firestoreDatabase: 'integrity-responder-baselines',
      baselineCollection: SETTINGS.baselineCollection.default,
      baselineApproval: 'none',
      ledgerDatabase: 'integrity-responder-decisions',
      projectId: 'fleet-prod-1234',
      logLevel: SETTINGS.logLevel.default,
      maxEventAgeSeconds: SETTINGS.maxEventAgeSeconds.default,
      staleEventPolicy: SETTINGS.staleEventPolicy.default,
      relearnMaxAgeSeconds: 300,
      computeTimeoutSeconds: 15,
      failureAction: 'stop',
      enforcement: 'enforce',
      exemptLabel: 'integrity-response=exempt',
      scope: 'projects/fleet-prod-1234',
      excludedProjects: 'none',
      instanceGroupAction: 'abandon',
      maxActionsPerWindow: SETTINGS.maxActionsPerWindow.default,
      actionWindowSeconds: SETTINGS.actionWindowSeconds.default,
      containmentSteps: 'none',
      forensicsProject: 'none',
      snapshotRetentionDays: SETTINGS.snapshotRetentionDays.default,
      quarantineTagValue: 'none',
      findingsSource: 'none',
    });
    expect(SETTINGS.maxActionsPerWindow.default).toBe(50);
    expect(SETTINGS.actionWindowSeconds.default).toBe(3600);
  });

  it('carries every prop the function reads through to its variable', () => {
    const env = planEnvironment({
      responseMode: 'shutdown',
      logLevel: 'notice',
      maxEventAgeSeconds: 120,
      staleEventPolicy: 'fail-open',
      timeoutSeconds: 540,
      baselineCollection: 'kg',
      firestoreDatabaseId: '(default)',
      namePrefix: 'fleet-x',
      failureAction: 'suspend',
      enforcement: 'dry-run',
      exemptLabel: 'team_a=no-response',
      instanceGroupAction: 'contain-only',
      maxActionsPerWindow: 7,
      actionWindowSeconds: 900,
    });
    expect(loadConfig(env)).toEqual(
      expect.objectContaining({
        instanceGroupAction: 'contain-only',
        maxActionsPerWindow: 7,
        actionWindowSeconds: 900,
        exemptLabel: 'team_a=no-response',
        failureAction: 'suspend',
        enforcement: 'dry-run',
        mode: 'shutdown',
        logLevel: 'notice',
        maxEventAgeSeconds: 120,
        staleEventPolicy: 'fail-open',
        computeTimeoutSeconds: 20,
        baselineCollection: 'kg',
        firestoreDatabase: '(default)',
        ledgerDatabase: 'fleet-x-decisions',
      }),
    );
  });

  it('tells the function the two-person rule for baselines when requireBaselineApproval is set', () => {
    expect(planEnvironment().BASELINE_APPROVAL).toBe('none');
    const env = planEnvironment({ requireBaselineApproval: true });
    expect(env.BASELINE_APPROVAL).toBe('two-person');
    expect(loadConfig(env).baselineApproval).toBe('two-person');
  });

  it('tells the function its scope and excluded projects, sorted', () => {
    expect(planEnvironment()).toMatchObject({ SCOPE: 'projects/fleet-prod-1234', EXCLUDED_PROJECTS: 'none' });
    const env = planEnvironment({ scope: 'folders/5550001', organizationId: '4242', excludedProjects: ['lab-b-0001', 'lab-a-0001'] });
    // The responder's own project is left out as well (watchResponderProject false).
    expect(env).toMatchObject({ SCOPE: 'folders/5550001', EXCLUDED_PROJECTS: 'fleet-prod-1234,lab-a-0001,lab-b-0001' });
    expect(loadConfig(env)).toMatchObject({ scope: 'folders/5550001', excludedProjects: 'fleet-prod-1234,lab-a-0001,lab-b-0001' });
  });

  it('accepts at the construct exactly the exemption labels the function accepts', () => {
    expect(planEnvironment({ exemptLabel: 'keep=' }).EXEMPT_LABEL).toBe('keep=');
    expect(loadConfig(planEnvironment({ exemptLabel: 'keep=' })).exemptLabel).toBe('keep=');
    expect(() => planEnvironment({ exemptLabel: 'Keep=yes' })).toThrow(/exemptLabel must match .*a GCE label as key=value.*got 'Keep=yes'/);
    expect(() => loadConfig({ ...COMPLETE, EXEMPT_LABEL: 'Keep=yes' })).toThrow(/EXEMPT_LABEL must be a GCE label as key=value/);
  });

  it('accepts at the construct exactly the range the function accepts', () => {
    const { min, max } = SETTINGS.maxEventAgeSeconds;
    expect(() => planEnvironment({ maxEventAgeSeconds: min - 1 })).toThrow(/maxEventAgeSeconds must be an integer from 60 to 604800/);
    expect(() => planEnvironment({ maxEventAgeSeconds: max + 1 })).toThrow(/maxEventAgeSeconds/);
    expect(loadConfig(planEnvironment({ maxEventAgeSeconds: max })).maxEventAgeSeconds).toBe(max);
  });

  it('bounds relearnMaxAgeSeconds by its own range and by maxEventAgeSeconds', () => {
    const { min, max } = SETTINGS.relearnMaxAgeSeconds;
    expect(() => planEnvironment({ relearnMaxAgeSeconds: min - 1 })).toThrow(/relearnMaxAgeSeconds must be an integer from 60 to 3600/);
    expect(() => planEnvironment({ relearnMaxAgeSeconds: max + 1 })).toThrow(/relearnMaxAgeSeconds/);
    expect(() => planEnvironment({ maxEventAgeSeconds: 600, relearnMaxAgeSeconds: 601 })).toThrow(
      /relearnMaxAgeSeconds must be at most maxEventAgeSeconds \(600\), got 601/,
    );
    expect(loadConfig(planEnvironment({ relearnMaxAgeSeconds: 120 })).relearnMaxAgeSeconds).toBe(120);
    expect(() => loadConfig({ ...COMPLETE, RELEARN_MAX_AGE_SECONDS: '59' })).toThrow(/RELEARN_MAX_AGE_SECONDS/);
  });

  it('accepts at the construct exactly the action budgets the function accepts', () => {
    const { min, max } = SETTINGS.maxActionsPerWindow;
    expect(loadConfig(planEnvironment({ maxActionsPerWindow: 'unlimited' })).maxActionsPerWindow).toBe('unlimited');
    expect(loadConfig(planEnvironment({ maxActionsPerWindow: max })).maxActionsPerWindow).toBe(max);
    expect(loadConfig(planEnvironment({ maxActionsPerWindow: min })).maxActionsPerWindow).toBe(min);
    expect(() => planEnvironment({ maxActionsPerWindow: min - 1 })).toThrow(
      /maxActionsPerWindow must be an integer from 1 to 100000, or 'unlimited', got 0/,
    );
    expect(() => planEnvironment({ maxActionsPerWindow: max + 1 })).toThrow(/maxActionsPerWindow/);
    expect(() => loadConfig({ ...COMPLETE, MAX_ACTIONS_PER_WINDOW: String(max + 1) })).toThrow(/MAX_ACTIONS_PER_WINDOW/);
    const window = SETTINGS.actionWindowSeconds;
    expect(loadConfig(planEnvironment({ actionWindowSeconds: window.min })).actionWindowSeconds).toBe(window.min);
    expect(() => planEnvironment({ actionWindowSeconds: window.min - 1 })).toThrow(
      /actionWindowSeconds must be an integer from 60 to 604800/,
    );
    expect(() => loadConfig({ ...COMPLETE, ACTION_WINDOW_SECONDS: String(window.max + 1) })).toThrow(/ACTION_WINDOW_SECONDS/);
  });

  it('keeps the Compute deadline of every function timeout inside the range the function accepts', () => {
    for (const timeout of [1, 3, 4, 59, 60, 80, 81, 540]) {
      const seconds = computeTimeoutFor(timeout);
      expect(seconds).toBeGreaterThanOrEqual(SETTINGS.computeTimeoutSeconds.min);
      expect(seconds * 3).toBeLessThanOrEqual(Math.max(timeout, 3));
    }
  });

  it('writes one variable per setting', () => {
    const env = functionEnvironment({
      responseMode: 'shutdown',
      firestoreDatabase: '(default)',
      baselineCollection: 'c',
      baselineApproval: 'none',
      ledgerDatabase: 'fleet-x-decisions',
      projectId: 'fleet-prod-1234',
      logLevel: 'info',
      maxEventAgeSeconds: 60,
      staleEventPolicy: 'fail-open',
      relearnMaxAgeSeconds: 60,
      computeTimeoutSeconds: 1,
      failureAction: 'suspend',
      enforcement: 'dry-run',
      exemptLabel: 'integrity-response=exempt',
      scope: 'folders/77',
      excludedProjects: 'none',
      instanceGroupAction: 'abandon',
      maxActionsPerWindow: 'unlimited',
      actionWindowSeconds: 60,
      containmentSteps: 'none',
      forensicsProject: 'none',
      snapshotRetentionDays: 90,
      quarantineTagValue: 'none',
      findingsSource: 'none',
    });
    expect(Object.keys(env)).toEqual(FUNCTION_VARIABLES);
    expect(env.MAX_ACTIONS_PER_WINDOW).toBe('unlimited');
  });
});
