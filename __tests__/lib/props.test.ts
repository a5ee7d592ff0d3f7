import { AnnotationMetadataEntryType, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps, IntegrityResponderPropsError } from '../../lib';
import { resolveProps } from '../../lib/props';

const base: IntegrityResponderProps = { projectId: 'fleet-prod-1234' };

describe('IntegrityResponder props', () => {
  it('resolves the documented defaults', () => {
    expect(resolveProps(base)).toEqual({
      projectId: 'fleet-prod-1234',
      region: 'us-central1',
      namePrefix: 'integrity-responder',
      responseMode: 'relearn-if-known-good',
      runtime: 'nodejs24',
      maxInstanceCount: 3,
      memoryMib: 256,
      maxInstanceRequestConcurrency: 1,
      timeoutSeconds: 60,
      firestoreLocationId: 'us-central1',
      firestoreDeleteProtection: true,
      baselineCollection: 'known_good_measurements',
      requireBaselineApproval: false,
      sourceBucketName: 'fleet-prod-1234-integrity-responder-src',
      logLevel: 'debug',
      maxEventAgeSeconds: 3600,
      relearnMaxAgeSeconds: 300,
      staleEventPolicy: 'fail-closed',
      failureAction: 'stop',
      containment: ['stop'],
      snapshotRetentionDays: 90,
      quarantineRulePriority: 0,
      raiseFindings: false,
      releasePrincipals: [],
      requireReleaseApproval: false,
      enforcement: 'enforce',
      exemptLabel: 'integrity-response=exempt',
      scope: 'projects/fleet-prod-1234',
      excludedProjects: [],
      watchResponderProject: false,
      maxDeliveryAttempts: 20,
      notificationChannels: [],
      instanceGroupAction: 'abandon',
      maxActionsPerWindow: 50,
      actionWindowSeconds: 3600,
      enableApis: false,
      iamPropagationSeconds: 120,
      labels: {},
    });
  });

  it('accepts every failureAction and enforcement', () => {
    expect(resolveProps({ ...base, failureAction: 'suspend', enforcement: 'dry-run' })).toEqual(
      expect.objectContaining({ failureAction: 'suspend', enforcement: 'dry-run' }),
    );
    expect(resolveProps({ ...base, failureAction: 'stop', enforcement: 'enforce' })).toEqual(
      expect.objectContaining({ failureAction: 'stop', enforcement: 'enforce' }),
    );
  });

  it('accepts an exemption label as key=value, the value possibly empty', () => {
    expect(resolveProps({ ...base, exemptLabel: 'ops_hold=keep-running' }).exemptLabel).toBe('ops_hold=keep-running');
    expect(resolveProps({ ...base, exemptLabel: 'ops-hold=' }).exemptLabel).toBe('ops-hold=');
  });

  it("accepts an action budget from 1 to 100000 per window, or 'unlimited'", () => {
    expect(resolveProps({ ...base, maxActionsPerWindow: 1, actionWindowSeconds: 60 })).toEqual(
      expect.objectContaining({ maxActionsPerWindow: 1, actionWindowSeconds: 60 }),
    );
    expect(resolveProps({ ...base, maxActionsPerWindow: 'unlimited' }).maxActionsPerWindow).toBe('unlimited');
  });

  it('leaves availableCpu unset and concurrency at 1 by default', () => {
    const r = resolveProps(base);
    expect(r.maxInstanceRequestConcurrency).toBe(1);
    expect(r).not.toHaveProperty('availableCpu');
  });

  it('accepts concurrency above 1 with at least 1 vCPU', () => {
    expect(resolveProps({ ...base, maxInstanceRequestConcurrency: 8, availableCpu: '1' })).toEqual(
      expect.objectContaining({ maxInstanceRequestConcurrency: 8, availableCpu: '1' }),
    );
    expect(resolveProps({ ...base, maxInstanceRequestConcurrency: 1000, availableCpu: '2' }).maxInstanceRequestConcurrency).toBe(1000);
    expect(resolveProps({ ...base, maxInstanceRequestConcurrency: 1, availableCpu: '0.167' }).availableCpu).toBe('0.167');
  });

  it('accepts the bounds of maxDeliveryAttempts, 5 and 100', () => {
    expect(resolveProps({ ...base, maxDeliveryAttempts: 5 }).maxDeliveryAttempts).toBe(5);
    expect(resolveProps({ ...base, maxDeliveryAttempts: 100 }).maxDeliveryAttempts).toBe(100);
  });

  it('leaves organizationId out of a project scope', () => {
    expect(resolveProps(base)).not.toHaveProperty('organizationId');
  });

  it('accepts a project scope naming another project than the responder’s', () => {
    expect(resolveProps({ ...base, scope: 'projects/fleet-vms-5678' }).scope).toBe('projects/fleet-vms-5678');
  });

  it('accepts an organization scope with excluded projects, domain-scoped ones included', () => {
    const r = resolveProps({ ...base, scope: 'organizations/4242', excludedProjects: ['lab-sandbox-2', 'example.com:lab-sandbox'] });
    expect(r).toEqual(
      expect.objectContaining({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-2', 'example.com:lab-sandbox'] }),
    );
    expect(r).not.toHaveProperty('organizationId');
  });

  it('accepts an organization scope whose organizationId repeats the scope’s number', () => {
    expect(resolveProps({ ...base, scope: 'organizations/4242', organizationId: '4242' }).organizationId).toBe('4242');
  });

  it('accepts a folder scope with its organizationId', () => {
    expect(resolveProps({ ...base, scope: 'folders/5550001', organizationId: '4242' })).toEqual(
      expect.objectContaining({ scope: 'folders/5550001', organizationId: '4242', excludedProjects: [] }),
    );
  });

  it('accepts 9 excluded projects beside the responder’s own, left out by default: the IAM condition then has 10 logical operators of the 12 allowed', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `lab-sandbox-${i}`);
    expect(resolveProps({ ...base, scope: 'organizations/4242', excludedProjects: nine }).excludedProjects).toHaveLength(9);
  });

  it('accepts 10 excluded projects when the responder’s own project is watched', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `lab-sandbox-${i}`);
    const r = resolveProps({ ...base, scope: 'organizations/4242', excludedProjects: ten, watchResponderProject: true });
    expect([r.excludedProjects.length, r.watchResponderProject]).toEqual([10, true]);
  });

  it('contains members of managed instance groups in place by default in a folder or organization scope, abandons them in a project scope', () => {
    expect(resolveProps({ ...base, scope: 'organizations/4242' }).instanceGroupAction).toBe('contain-only');
    expect(resolveProps({ ...base, scope: 'folders/5550001', organizationId: '4242' }).instanceGroupAction).toBe('contain-only');
    expect(resolveProps({ ...base, scope: 'organizations/4242', instanceGroupAction: 'abandon' }).instanceGroupAction).toBe('abandon');
    expect(resolveProps(base).instanceGroupAction).toBe('abandon');
  });

  it('accepts the bounds of iamPropagationSeconds, 0 included', () => {
    expect(resolveProps({ ...base, iamPropagationSeconds: 0 }).iamPropagationSeconds).toBe(0);
    expect(resolveProps({ ...base, iamPropagationSeconds: 600 }).iamPropagationSeconds).toBe(600);
  });

  it.each<[string, Partial<IntegrityResponderProps>, RegExp]>([
    ['projectId is empty', { projectId: '' }, /projectId is required/],
    ['projectId has uppercase', { projectId: 'Fleet' }, /projectId must match .*, got 'Fleet'/],
    ['namePrefix has uppercase', { namePrefix: 'Foo_Bar' }, /namePrefix must match .*, got 'Foo_Bar'/],
    ['namePrefix is longer than 20 characters', { namePrefix: 'a'.repeat(21) }, /namePrefix must match/],
    ['namePrefix ends with a hyphen', { namePrefix: 'fleet-' }, /namePrefix must match/],
    ['region is not a region', { region: 'us-central1-a' }, /region must match .*, got 'us-central1-a'/],
    [
      'responseMode is unknown',
      { responseMode: 'panic' as never },
      /responseMode must be one of 'relearn-if-known-good', 'shutdown', got 'panic'/,
    ],
    ['runtime is unsupported', { runtime: 'nodejs20' as never }, /runtime must be one of 'nodejs22', 'nodejs24', got 'nodejs20'/],
    ['maxInstanceCount is zero', { maxInstanceCount: 0 }, /maxInstanceCount must be an integer from 1 to 100, got 0/],
    ['maxInstanceCount is fractional', { maxInstanceCount: 2.5 }, /maxInstanceCount must be an integer/],
    [
      'maxInstanceRequestConcurrency is zero',
      { maxInstanceRequestConcurrency: 0 },
      /maxInstanceRequestConcurrency must be an integer from 1 to 1000, got 0/,
    ],
    [
      'maxInstanceRequestConcurrency is above 1000',
      { maxInstanceRequestConcurrency: 1001, availableCpu: '1' },
      /maxInstanceRequestConcurrency must be an integer from 1 to 1000, got 1001/,
    ],
    [
      'maxInstanceRequestConcurrency is fractional',
      { maxInstanceRequestConcurrency: 2.5, availableCpu: '1' },
      /maxInstanceRequestConcurrency must be an integer from 1 to 1000, got 2.5/,
    ],
    [
      'maxInstanceRequestConcurrency is above 1 with less than 1 vCPU',
      { maxInstanceRequestConcurrency: 8, availableCpu: '0.583' },
      /maxInstanceRequestConcurrency 8 needs availableCpu of at least '1' \(Cloud Run allows concurrency above 1 only with 1 vCPU or more\), got '0.583'/,
    ],
    [
      'maxInstanceRequestConcurrency is above 1 without availableCpu',
      { maxInstanceRequestConcurrency: 8 },
      /maxInstanceRequestConcurrency 8 needs availableCpu of at least '1' .*, got none/,
    ],
    ['availableCpu is not a Cloud Run value', { availableCpu: '3' }, /availableCpu must be one of '0.083', .*'8', got '3'/],
    ['availableCpu is a number', { availableCpu: 1 as never }, /availableCpu must be one of .*, got 1/],
    [
      'availableCpu is 4 with too little memory',
      { availableCpu: '4', memoryMib: 1024 },
      /availableCpu '4' allows memoryMib from 2048 to 4096, got 1024/,
    ],
    [
      'availableCpu is too small for the memory',
      { availableCpu: '0.167', memoryMib: 2048 },
      /availableCpu '0.167' allows memoryMib from 128 to 256, got 2048/,
    ],
    ['memoryMib is too small', { memoryMib: 64 }, /memoryMib must be an integer from 128 to 4096, got 64/],
    ['timeoutSeconds is too long', { timeoutSeconds: 3600 }, /timeoutSeconds must be an integer from 1 to 540, got 3600/],
    ['firestoreDatabaseId is invalid', { firestoreDatabaseId: 'Default' }, /firestoreDatabaseId must match/],
    ['baselineCollection has a slash', { baselineCollection: 'a/b' }, /baselineCollection must match/],
    [
      'requireBaselineApproval is not a boolean',
      { requireBaselineApproval: 'yes' as never },
      /requireBaselineApproval must be true or false/,
    ],
    [
      'requireBaselineApproval in the shutdown mode',
      { requireBaselineApproval: true, responseMode: 'shutdown' },
      /requireBaselineApproval applies to responseMode 'relearn-if-known-good' only/,
    ],
    ['sourceBucketName is too long', { sourceBucketName: 'b'.repeat(64) }, /sourceBucketName must match/],
    ['logLevel is unknown', { logLevel: 'trace' as never }, /logLevel must be one of/],
    [
      'logLevel is warning, above the relearn lines the alerts count',
      { logLevel: 'warning' },
      /logLevel 'warning' would drop the decision lines the alert policies count .*; use 'notice' or lower/,
    ],
    ['maxEventAgeSeconds is below a minute', { maxEventAgeSeconds: 30 }, /maxEventAgeSeconds must be an integer from 60 to 604800, got 30/],
    [
      'staleEventPolicy is unknown',
      { staleEventPolicy: 'shrug' as never },
      /staleEventPolicy must be one of 'fail-closed', 'fail-open', got 'shrug'/,
    ],
    ['failureAction is unknown', { failureAction: 'delete' as never }, /failureAction must be one of 'stop', 'suspend', got 'delete'/],
    ['enforcement is unknown', { enforcement: 'dryrun' as never }, /enforcement must be one of 'enforce', 'dry-run', got 'dryrun'/],
    [
      'instanceGroupAction is unknown',
      { instanceGroupAction: 'stop' as never },
      /instanceGroupAction must be one of 'abandon', 'contain-only', got 'stop'/,
    ],
    ['exemptLabel has no value part', { exemptLabel: 'integrity-response' }, /exemptLabel must match .*got 'integrity-response'/],
    ['exemptLabel has uppercase', { exemptLabel: 'Integrity-Response=exempt' }, /exemptLabel must match/],
    ['exemptLabel key starts with a digit', { exemptLabel: '1key=exempt' }, /exemptLabel must match/],
    ['exemptLabel value is too long', { exemptLabel: `key=${'v'.repeat(64)}` }, /exemptLabel must match/],
    [
      'maxActionsPerWindow is 0 (not a way to turn the limit off)',
      { maxActionsPerWindow: 0 },
      /maxActionsPerWindow must be an integer from 1 to 100000, or 'unlimited', got 0/,
    ],
    ['maxActionsPerWindow is a fraction', { maxActionsPerWindow: 2.5 }, /maxActionsPerWindow must be an integer .*got 2.5/],
    ['maxActionsPerWindow is another word', { maxActionsPerWindow: 'none' as never }, /maxActionsPerWindow .*or 'unlimited', got 'none'/],
    [
      'actionWindowSeconds is below a minute',
      { actionWindowSeconds: 30 },
      /actionWindowSeconds must be an integer from 60 to 604800, got 30/,
    ],
    ['firestoreLocationId has uppercase', { firestoreLocationId: 'US-Central1' }, /firestoreLocationId must match/],
    ['a label key starts with a digit', { labels: { '1team': 'x' } }, /labels key must match/],
    ['a label value has uppercase', { labels: { team: 'Platform' } }, /labels\['team'\] must match/],
    ['enableApis is the string false', { enableApis: 'false' as never }, /enableApis must be true or false, got 'false'/],
    [
      'firestoreDeleteProtection is a string',
      { firestoreDeleteProtection: 'yes' as never },
      /firestoreDeleteProtection must be true or false, got 'yes'/,
    ],
    ['labels is an array', { labels: [] as never }, /labels must be a map of label keys to values, got \[\]/],
    [
      'labels sets managed-by',
      { labels: { 'managed-by': 'me' } },
      /labels must not set 'managed-by': the construct sets it to 'shielded-vm-integrity-responder'/,
    ],
    [
      'labels sets responder',
      { labels: { responder: 'mine' } },
      /labels must not set 'responder': the construct sets it to the namePrefix on every resource, which tells two responders apart/,
    ],
    [
      'iamPropagationSeconds is above 600',
      { iamPropagationSeconds: 601 },
      /iamPropagationSeconds must be an integer from 0 to 600, got 601/,
    ],
    ['iamPropagationSeconds is negative', { iamPropagationSeconds: -1 }, /iamPropagationSeconds must be an integer from 0 to 600, got -1/],
    [
      'scope is a bare project id',
      { scope: 'fleet-prod-1234' },
      /scope must match .* \('projects\/<project id>', 'folders\/<number>' or 'organizations\/<number>'\), got 'fleet-prod-1234'/,
    ],
    [
      'scope names a folder by its display name',
      { scope: 'folders/security', organizationId: '4242' },
      /scope must match .*, got 'folders\/security'/,
    ],
    ['scope is a billing account', { scope: 'billingAccounts/0123-4567', organizationId: '4242' }, /scope must match/],
    [
      'excludedProjects is a string',
      { scope: 'organizations/4242', excludedProjects: 'lab-sandbox-1' as never },
      /excludedProjects must be a list of project ids, got 'lab-sandbox-1'/,
    ],
    [
      'excludedProjects is given for a project scope',
      { excludedProjects: ['lab-sandbox-1'] },
      /excludedProjects applies to a folder or organization scope only; scope is 'projects\/fleet-prod-1234' \(leave excludedProjects out, or widen the scope\)/,
    ],
    [
      'organizationId is given for a project scope without a quarantine or findings',
      { organizationId: '4242' },
      /organizationId applies to a folder scope only, or to a project scope whose containment lists 'quarantine' or that sets raiseFindings; scope is 'projects\/fleet-prod-1234'/,
    ],
    [
      'an excluded project is not a project id',
      { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'Lab_Sandbox'] },
      /excludedProjects\[1\] must match .* \(a Google Cloud project id\), got 'Lab_Sandbox'/,
    ],
    [
      'excludedProjects names 10 projects while the responder’s own project is left out too',
      { scope: 'organizations/4242', excludedProjects: Array.from({ length: 10 }, (_, i) => `lab-sandbox-${i}`) },
      /excludedProjects may name at most 9 projects besides the responder's own project 'fleet-prod-1234', which is left out too \(the IAM condition that leaves them out allows at most 12 logical operators, and the function at most 10 excluded projects\), got 10/,
    ],
    [
      'excludedProjects names 11 projects',
      {
        scope: 'organizations/4242',
        excludedProjects: Array.from({ length: 11 }, (_, i) => `lab-sandbox-${i}`),
        watchResponderProject: true,
      },
      /excludedProjects may name at most 10 projects \(the IAM condition that leaves them out allows at most 12 logical operators, and the function at most 10 excluded projects\), got 11/,
    ],
    [
      'watchResponderProject is set for a project scope',
      { watchResponderProject: true },
      /watchResponderProject applies to a folder or organization scope only; scope is 'projects\/fleet-prod-1234', which watches exactly the project it names/,
    ],
    [
      'watchResponderProject is not a boolean',
      { scope: 'organizations/4242', watchResponderProject: 'yes' as never },
      /watchResponderProject must be true or false, got 'yes'/,
    ],
    [
      'excludedProjects names a project twice',
      { scope: 'folders/5550001', organizationId: '4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2', 'lab-sandbox-1'] },
      /excludedProjects names 'lab-sandbox-1' twice/,
    ],
    [
      'excludedProjects names the responder’s own project',
      { scope: 'organizations/4242', excludedProjects: ['fleet-prod-1234'] },
      /excludedProjects must not name the responder's own project 'fleet-prod-1234': a folder or organization scope leaves it out unless watchResponderProject is true/,
    ],
    [
      'a folder scope has no organizationId',
      { scope: 'folders/5550001' },
      /scope 'folders\/5550001' needs organizationId, the number of the organization the folder belongs to/,
    ],
    [
      'organizationId is not a number',
      { scope: 'folders/5550001', organizationId: 'acme' },
      /organizationId must match .* \(an organization number\), got 'acme'/,
    ],
    [
      'organizationId has a leading zero',
      { scope: 'folders/5550001', organizationId: '04242' },
      /organizationId must match .*, got '04242'/,
    ],
    [
      'organizationId differs from an organization scope’s number',
      { scope: 'organizations/4242', organizationId: '1111' },
      /organizationId '1111' differs from the scope's organization '4242'; leave organizationId out for an organization scope/,
    ],
    ['maxDeliveryAttempts is below 5', { maxDeliveryAttempts: 4 }, /maxDeliveryAttempts must be an integer from 5 to 100, got 4/],
    ['maxDeliveryAttempts is above 100', { maxDeliveryAttempts: 101 }, /maxDeliveryAttempts must be an integer from 5 to 100, got 101/],
    ['maxDeliveryAttempts is fractional', { maxDeliveryAttempts: 7.5 }, /maxDeliveryAttempts must be an integer from 5 to 100, got 7.5/],
  ])('fails when %s', (_name, props, message) => {
    const stack = new TerraformStack(Testing.app(), 'props');
    expect(() => new IntegrityResponder(stack, 'Responder', { ...base, ...props })).toThrow(message);
  });

  describe('the containment playbook', () => {
    const resolve = (props: Partial<IntegrityResponderProps>) => resolveProps({ ...base, ...props });

    it('is the failure action alone by default, and follows failureAction', () => {
      expect(resolve({})).toEqual(expect.objectContaining({ containment: ['stop'], failureAction: 'stop' }));
      expect(resolve({ failureAction: 'suspend' })).toEqual(
        expect.objectContaining({ containment: ['suspend'], failureAction: 'suspend' }),
      );
    });

    it('takes the failure action from the last step, and accepts a failureAction that agrees', () => {
      const steps = {
        containment: ['snapshot', 'quarantine', 'suspend'],
        forensicsProjectId: 'fleet-forensics-7',
        organizationId: '4242',
      } as const;
      expect(resolve(steps)).toEqual(
        expect.objectContaining({ containment: ['snapshot', 'quarantine', 'suspend'], failureAction: 'suspend' }),
      );
      expect(resolve({ ...steps, failureAction: 'suspend' }).failureAction).toBe('suspend');
    });

    it('takes release principals named one by one or as a group, a workforce pool’s group among them', () => {
      const releasePrincipals = [
        'group:ir@example.com',
        'user:ana@example.com',
        'serviceAccount:release-bot@fleet-sec-1.iam.gserviceaccount.com',
        'principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/ana@example.com',
        'principalSet://iam.googleapis.com/locations/global/workforcePools/staff/group/incident-response',
      ];
      expect(resolve({ scope: 'organizations/4242', containment: ['quarantine', 'stop'], releasePrincipals }).releasePrincipals).toEqual(
        releasePrincipals,
      );
    });

    it('takes a forensics project outside the watched project, or the responder’s own left out of a wider scope', () => {
      expect(
        resolve({ scope: 'projects/fleet-vms-5678', containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-prod-1234' }),
      ).toEqual(expect.objectContaining({ forensicsProjectId: 'fleet-prod-1234' }));
      // Left out of the organization's sink and the runtime's role unless watchResponderProject is set.
      expect(
        resolve({ scope: 'organizations/4242', containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-prod-1234' })
          .forensicsProjectId,
      ).toBe('fleet-prod-1234');
      // Named in excludedProjects: the operator's way to keep a forensics project inside the folder out of the scope.
      expect(
        resolve({
          scope: 'folders/5550001',
          organizationId: '4242',
          excludedProjects: ['fleet-forensics-7'],
          containment: ['snapshot', 'stop'],
          forensicsProjectId: 'fleet-forensics-7',
        }).forensicsProjectId,
      ).toBe('fleet-forensics-7');
    });

    it('takes the forensics project, the retention and the release settings as given', () => {
      expect(
        resolve({
          containment: ['snapshot', 'stop'],
          forensicsProjectId: 'fleet-forensics-7',
          snapshotRetentionDays: 365,
          raiseFindings: true,
          organizationId: '4242',
          releasePrincipals: ['group:ir@example.com', 'principal://iam.googleapis.com/locations/global/workforcePools/p/subject/ana'],
          requireReleaseApproval: true,
        }),
      ).toEqual(
        expect.objectContaining({
          forensicsProjectId: 'fleet-forensics-7',
          snapshotRetentionDays: 365,
          raiseFindings: true,
          releasePrincipals: ['group:ir@example.com', 'principal://iam.googleapis.com/locations/global/workforcePools/p/subject/ana'],
          requireReleaseApproval: true,
        }),
      );
    });

    it('lets a project scope name a folder for its quarantine policy, and a folder scope its organization', () => {
      expect(
        resolve({ containment: ['quarantine', 'stop'], organizationId: '4242', firewallPolicyParent: 'folders/5550001' })
          .firewallPolicyParent,
      ).toBe('folders/5550001');
      expect(
        resolve({
          scope: 'folders/5550001',
          containment: ['quarantine', 'stop'],
          organizationId: '4242',
          firewallPolicyParent: 'organizations/4242',
        }).firewallPolicyParent,
      ).toBe('organizations/4242');
    });

    it('puts the quarantine rules at priorities from 0 by default, or from quarantineRulePriority, in an existing policy if named', () => {
      const quarantine = { scope: 'organizations/4242', containment: ['quarantine', 'stop'] } as const;
      expect(resolve(quarantine)).toEqual(expect.objectContaining({ quarantineRulePriority: 0 }));
      expect(resolve(quarantine).quarantineFirewallPolicy).toBeUndefined();
      expect(
        resolve({ ...quarantine, quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012', quarantineRulePriority: 100 }),
      ).toEqual(
        expect.objectContaining({
          quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
          quarantineRulePriority: 100,
        }),
      );
      // The last of the four rules takes the lowest priority Google allows a rule.
      expect(
        resolve({ ...quarantine, quarantineFirewallPolicy: '123456789012', quarantineRulePriority: 2147483544 }).quarantineRulePriority,
      ).toBe(2147483544);
    });

    it.each<[string, Partial<IntegrityResponderProps>, RegExp]>([
      [
        'containment does not end with the stop or suspend',
        { containment: ['snapshot', 'quarantine'] as never, forensicsProjectId: 'fleet-forensics-7' },
        /containment is not a playbook: it must end with 'stop' or 'suspend': a quarantined VM still reaches its metadata server and keeps the connections it had; add 'stop' or 'suspend' last, e.g\. \['snapshot', 'quarantine', 'stop'\]; got \["snapshot","quarantine"\]/,
      ],
      [
        'containment is the snapshot alone',
        { containment: ['snapshot'] as never, forensicsProjectId: 'fleet-forensics-7' },
        /it must end with 'stop' or 'suspend': .*; add 'stop' or 'suspend' last, e\.g\. \['snapshot', 'stop'\]; got \["snapshot"\]/,
      ],
      [
        'containment puts the suspend before the snapshot',
        { containment: ['suspend', 'snapshot'] as never, forensicsProjectId: 'fleet-forensics-7' },
        /it must end with 'stop' or 'suspend': .*; add 'stop' or 'suspend' last, e\.g\. \['snapshot', 'suspend'\]; got \["suspend","snapshot"\]/,
      ],
      [
        'containment is empty',
        { containment: [] },
        /containment is not a playbook: it must end with 'stop' or 'suspend': .*; add 'stop' or 'suspend' last, e\.g\. \['stop'\]; got \[\]/,
      ],
      [
        'containment holds an unknown step',
        { containment: ['isolate', 'stop'] as never },
        /containment is not a playbook: 'isolate' is not a step; the steps are snapshot, quarantine, stop, suspend; got \["isolate","stop"\]/,
      ],
      [
        'containment quarantines before it snapshots',
        { containment: ['quarantine', 'snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7', organizationId: '4242' },
        /containment is not a playbook: 'snapshot' must come before 'quarantine': evidence is taken before the VM is changed, and the stop comes last/,
      ],
      [
        'containment lists a step twice',
        { containment: ['quarantine', 'quarantine', 'stop'] },
        /containment is not a playbook: 'quarantine' is listed twice/,
      ],
      [
        'containment both stops and suspends',
        { containment: ['stop', 'suspend'] },
        /containment is not a playbook: it holds both 'stop' and 'suspend'; choose one/,
      ],
      ['containment is a string', { containment: 'stop' as never }, /containment must be a list of steps, got 'stop'/],
      [
        'containment and failureAction disagree',
        { containment: ['stop'], failureAction: 'suspend' },
        /containment ends with 'stop' but failureAction is 'suspend': the last step is the failure action, so they must agree \(leave failureAction out\)/,
      ],
      [
        'failureAction is unknown, with a containment',
        { containment: ['stop'], failureAction: 'halt' as never },
        /failureAction must be one of 'stop', 'suspend', got 'halt'/,
      ],
      [
        'the snapshot step has no forensics project',
        { containment: ['snapshot', 'stop'] },
        /containment lists 'snapshot', which needs forensicsProjectId: the project the evidence snapshots are created in \(the runtime may create snapshots there, never read them\)/,
      ],
      [
        'forensicsProjectId is given without the snapshot step',
        { forensicsProjectId: 'fleet-forensics-7' },
        /forensicsProjectId applies to the 'snapshot' step only; containment is \['stop'\]/,
      ],
      [
        'forensicsProjectId is not a project id',
        { containment: ['snapshot', 'stop'], forensicsProjectId: 'Forensics_Vault' },
        /forensicsProjectId must match .* \(a Google Cloud project id\), got 'Forensics_Vault'/,
      ],
      [
        'snapshotRetentionDays is given without the snapshot step',
        { snapshotRetentionDays: 30 },
        /snapshotRetentionDays applies to the 'snapshot' step only; containment is \['stop'\]/,
      ],
      [
        'snapshotRetentionDays is 0',
        { containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7', snapshotRetentionDays: 0 },
        /snapshotRetentionDays must be an integer from 1 to 3650, got 0/,
      ],
      [
        'snapshotRetentionDays is above ten years',
        { containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7', snapshotRetentionDays: 3651 },
        /snapshotRetentionDays must be an integer from 1 to 3650, got 3651/,
      ],
      [
        'a project scope quarantines without an organization',
        { containment: ['quarantine', 'stop'] },
        /^IntegrityResponder at 'props\/Responder': containment lists 'quarantine', whose secure tag key is the organization's \(and so is its firewall policy, unless firewallPolicyParent names a folder\): a project scope needs organizationId, the number of the organization that holds project 'fleet-prod-1234'; set organizationId: '<number>' \(scope 'projects\/fleet-prod-1234' names no organization\)$/,
      ],
      [
        'a project scope raises findings without an organization',
        { raiseFindings: true },
        /^IntegrityResponder at 'props\/Responder': raiseFindings is set, and findings are raised in the organization's Security Command Center: a project scope needs organizationId, the number of the organization that holds project 'fleet-prod-1234'; set organizationId: '<number>' \(scope 'projects\/fleet-prod-1234' names no organization\)$/,
      ],
      [
        'a project scope quarantines and raises findings without an organization',
        { containment: ['quarantine', 'stop'], raiseFindings: true },
        /containment lists 'quarantine', whose secure tag key is the organization's .*; raiseFindings is set, and findings are raised in the organization's Security Command Center: a project scope needs organizationId/,
      ],
      [
        'firewallPolicyParent is given without the quarantine step',
        { firewallPolicyParent: 'folders/5550001' },
        /firewallPolicyParent applies to the 'quarantine' step only; containment is \['stop'\]/,
      ],
      [
        'firewallPolicyParent is given for an organization scope',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], firewallPolicyParent: 'folders/5550001' },
        /firewallPolicyParent applies to a project or folder scope: the quarantine policy of scope 'organizations\/4242' is created and associated there/,
      ],
      [
        'firewallPolicyParent names a project',
        { containment: ['quarantine', 'stop'], organizationId: '4242', firewallPolicyParent: 'projects/fleet-prod-1234' },
        /firewallPolicyParent must be 'folders\/<number>' or 'organizations\/<number>', a node above the watched VMs \(only the number may be a Terraform value\), got 'projects\/fleet-prod-1234'/,
      ],
      [
        'a folder scope’s firewallPolicyParent names another organization',
        {
          scope: 'folders/5550001',
          organizationId: '4242',
          containment: ['quarantine', 'stop'],
          firewallPolicyParent: 'organizations/1111',
        },
        /firewallPolicyParent 'organizations\/1111' is another organization than organizationId '4242'/,
      ],
      [
        'quarantineFirewallPolicy is given without the quarantine step',
        { scope: 'organizations/4242', quarantineFirewallPolicy: '123456789012' },
        /quarantineFirewallPolicy applies to the 'quarantine' step only; containment is \['stop'\]/,
      ],
      [
        'quarantineFirewallPolicy and firewallPolicyParent are both given',
        {
          scope: 'folders/5550001',
          organizationId: '4242',
          containment: ['quarantine', 'stop'],
          firewallPolicyParent: 'organizations/4242',
          quarantineFirewallPolicy: '123456789012',
        },
        /firewallPolicyParent places the firewall policy the construct creates, and with quarantineFirewallPolicy it creates none: the rules go into that existing policy\. Give one of the two \(got 'organizations\/4242' and '123456789012'\)/,
      ],
      [
        'quarantineFirewallPolicy is the policy’s short name',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineFirewallPolicy: 'org-baseline' },
        /quarantineFirewallPolicy must match .* \(a hierarchical firewall policy's numeric id, or 'locations\/global\/firewallPolicies\/<id>'\), got 'org-baseline'/,
      ],
      [
        'quarantineFirewallPolicy is a network firewall policy',
        {
          scope: 'organizations/4242',
          containment: ['quarantine', 'stop'],
          quarantineFirewallPolicy: 'projects/fleet-prod-1234/global/firewallPolicies/123',
        },
        /quarantineFirewallPolicy must match .*, got 'projects\/fleet-prod-1234\/global\/firewallPolicies\/123'/,
      ],
      [
        'quarantineRulePriority is given without the quarantine step',
        { quarantineRulePriority: 10 },
        /quarantineRulePriority applies to the 'quarantine' step only; containment is \['stop'\]/,
      ],
      [
        'quarantineRulePriority is negative',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineRulePriority: -1 },
        /quarantineRulePriority must be an integer from 0 to 2147483544, got -1/,
      ],
      [
        'quarantineRulePriority leaves no room for the fourth rule',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineRulePriority: 2147483545 },
        /quarantineRulePriority must be an integer from 0 to 2147483544, got 2147483545/,
      ],
      [
        'quarantineRulePriority is fractional',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineRulePriority: 1.5 },
        /quarantineRulePriority must be an integer from 0 to 2147483544, got 1.5/,
      ],
      [
        'firewallPolicyParent names a folder by its display name',
        { containment: ['quarantine', 'stop'], organizationId: '4242', firewallPolicyParent: 'folders/security' },
        /firewallPolicyParent must be 'folders\/<number>' or 'organizations\/<number>'.*, got 'folders\/security'/,
      ],
      [
        'firewallPolicyParent names another organization than organizationId',
        { containment: ['quarantine', 'stop'], organizationId: '4242', firewallPolicyParent: 'organizations/1111' },
        /firewallPolicyParent 'organizations\/1111' is another organization than organizationId '4242', the organization of the watched VMs, which holds the quarantine's tag key: a policy of another organization never applies to the watched VMs/,
      ],
      [
        'requireReleaseApproval is set with neither quarantine nor findings, so nothing to release',
        { requireReleaseApproval: true, containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7' },
        /requireReleaseApproval applies with the 'quarantine' step or raiseFindings, the quarantine and the finding a release lifts and closes; containment is \['snapshot', 'stop'\] and raiseFindings is false, so there is nothing to release/,
      ],
      [
        'a user release principal is not an email address',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['user:alice'] },
        /releasePrincipals\[0\] is 'user:alice': a user: member is named by its email address, such as 'user:ana@example\.com'/,
      ],
      [
        'a group release principal has no domain',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['group:ir@example.com', 'group:incident-response'] },
        /releasePrincipals\[1\] is 'group:incident-response': a group: member is named by its email address, such as 'group:incident-response@example\.com'/,
      ],
      [
        'a service account release principal is its account id alone',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['serviceAccount:release-bot'] },
        /releasePrincipals\[0\] is 'serviceAccount:release-bot': a serviceAccount: member is named by its email address, such as 'serviceAccount:release-bot@fleet-ops\.iam\.gserviceaccount\.com'/,
      ],
      [
        "a user release principal's address has no dot in its domain",
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['user:ana@example'] },
        /releasePrincipals\[0\] is 'user:ana@example': a user: member is named by its email address/,
      ],
      [
        'releasePrincipals is given with neither quarantine nor findings',
        { releasePrincipals: ['group:ir@example.com'] },
        /releasePrincipals applies with the 'quarantine' step or raiseFindings, whose tag value and findings source they are granted; containment is \['stop'\] and raiseFindings is false/,
      ],
      [
        'a release principal is public',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['allAuthenticatedUsers'] },
        /releasePrincipals\[0\] is 'allAuthenticatedUsers': releasing a contained VM is never public/,
      ],
      [
        'a release principal is a bare e-mail address',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['group:ir@example.com', 'ana@example.com'] },
        /releasePrincipals\[1\] must be an IAM member such as 'group:incident-response@example.com' \(user:, group:, serviceAccount:, principal:\/\/ or a workforce pool's group, principalSet:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\/<pool>\/group\/<group>\), got 'ana@example.com'/,
      ],
      [
        'a release principal is a whole domain',
        { scope: 'organizations/4242', containment: ['quarantine', 'stop'], releasePrincipals: ['domain:example.com'] },
        /releasePrincipals\[0\] is 'domain:example.com': everyone with an account in the domain would get tagUser on the quarantine tag value, and so could lift any quarantine: the watched projects' admins among them\. Name a group of responders instead, such as 'group:incident-response@example\.com'/,
      ],
      [
        'a release principal is every identity of a workforce pool',
        {
          scope: 'organizations/4242',
          containment: ['quarantine', 'stop'],
          releasePrincipals: ['principalSet://iam.googleapis.com/locations/global/workforcePools/staff/*'],
        },
        /releasePrincipals\[0\] is 'principalSet:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\/staff\/\*', a principal set that can be as wide as a domain .*Name a group of responders instead.*or a workforce pool's group/,
      ],
      [
        'a release principal is everyone with an attribute value in a workforce pool',
        {
          scope: 'organizations/4242',
          raiseFindings: true,
          releasePrincipals: ['principalSet://iam.googleapis.com/locations/global/workforcePools/staff/attribute.department/security'],
        },
        /releasePrincipals\[0\] is 'principalSet:.*attribute\.department\/security', a principal set that can be as wide as a domain/,
      ],
      [
        'a release principal is every service account of the organization',
        {
          scope: 'organizations/4242',
          containment: ['quarantine', 'stop'],
          releasePrincipals: ['principalSet://cloudresourcemanager.googleapis.com/organizations/4242/type/ServiceAccount'],
        },
        /releasePrincipals\[0\] is 'principalSet:\/\/cloudresourcemanager\.googleapis\.com\/organizations\/4242\/type\/ServiceAccount', a principal set/,
      ],
      [
        'the forensics project is the watched project of a project scope',
        { containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-prod-1234' },
        /forensicsProjectId 'fleet-prod-1234' is the project scope 'projects\/fleet-prod-1234' watches: its admins could read or delete the evidence of their own VMs, and whoever writes logs there can make the responder act; take the snapshots into a project outside the watched scope/,
      ],
      [
        'the forensics project is the named project scope',
        { scope: 'projects/fleet-vms-5678', containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-vms-5678' },
        /forensicsProjectId 'fleet-vms-5678' is the project scope 'projects\/fleet-vms-5678' watches/,
      ],
      [
        'the forensics project is the responder’s own project, watched in an organization scope',
        {
          scope: 'organizations/4242',
          watchResponderProject: true,
          containment: ['snapshot', 'stop'],
          forensicsProjectId: 'fleet-prod-1234',
        },
        /forensicsProjectId 'fleet-prod-1234' is the responder's own project, which watchResponderProject puts in the watched scope 'organizations\/4242': its admins could read or delete the evidence.*, or leave watchResponderProject false/,
      ],
      [
        'a release principal is named twice',
        { scope: 'organizations/4242', raiseFindings: true, releasePrincipals: ['group:ir@example.com', 'group:ir@example.com'] },
        /releasePrincipals names 'group:ir@example.com' twice/,
      ],
      ['raiseFindings is not a boolean', { raiseFindings: 'yes' as never }, /raiseFindings must be true or false, got 'yes'/],
      [
        'requireReleaseApproval is not a boolean',
        { requireReleaseApproval: 1 as never },
        /requireReleaseApproval must be true or false, got 1/,
      ],
    ])('fails when %s', (_name, props, message) => {
      const stack = new TerraformStack(Testing.app(), 'props');
      expect(() => new IntegrityResponder(stack, 'Responder', { ...base, ...props })).toThrow(message);
    });

    it.each<[keyof IntegrityResponderProps, string]>([
      ['containment', 'list(string)'],
      ['raiseFindings', 'bool'],
      ['releasePrincipals', 'list(string)'],
      ['requireReleaseApproval', 'bool'],
      ['quarantineRulePriority', 'number'],
    ])('fails when %s is a Terraform value, which it cannot be', (name, type) => {
      const stack = new TerraformStack(Testing.app(), 'tokens');
      const variable = new TerraformVariable(stack, 'v', { type });
      const value = type === 'bool' ? variable.booleanValue : type === 'number' ? variable.numberValue : variable.listValue;
      expect(() => new IntegrityResponder(stack, 'Responder', { ...base, scope: 'organizations/4242', [name]: value })).toThrow(
        new RegExp(`${name} must be written out, not a Terraform value`),
      );
    });

    it('fails when a release principal is a Terraform value: each is a grant of its own, named and checked at synth', () => {
      const stack = new TerraformStack(Testing.app(), 'tokens');
      const releaser = new TerraformVariable(stack, 'releaser', { type: 'string' });
      expect(
        () =>
          new IntegrityResponder(stack, 'Responder', {
            ...base,
            scope: 'organizations/4242',
            containment: ['quarantine', 'stop'],
            releasePrincipals: ['group:ir@example.com', releaser.stringValue],
          }),
      ).toThrow(
        "IntegrityResponder at 'tokens/Responder': releasePrincipals[1] must be written out, not a Terraform value: each release principal is a grant of its own, named after the member, and is checked for who it lets lift a quarantine",
      );
    });

    it('takes the forensics project and the id of the policy parent as Terraform values', () => {
      const stack = new TerraformStack(Testing.app(), 'tokens');
      const forensics = new TerraformVariable(stack, 'forensics', { type: 'string' });
      const folder = new TerraformVariable(stack, 'folder', { type: 'string' });
      expect(
        () =>
          new IntegrityResponder(stack, 'Responder', {
            ...base,
            containment: ['snapshot', 'quarantine', 'stop'],
            forensicsProjectId: forensics.stringValue,
            organizationId: '4242',
            firewallPolicyParent: `folders/${folder.stringValue}`,
          }),
      ).not.toThrow();
    });
  });

  it('fails when labels is null', () => {
    const stack = new TerraformStack(Testing.app(), 'props');
    expect(() => new IntegrityResponder(stack, 'Responder', { ...base, labels: null as never })).toThrow(
      /labels must be a map of label keys to values, got null/,
    );
  });

  it('fails when enableApis is null rather than taking the default', () => {
    const stack = new TerraformStack(Testing.app(), 'props');
    expect(() => new IntegrityResponder(stack, 'Responder', { ...base, enableApis: null as never })).toThrow(
      /enableApis must be true or false, got null/,
    );
  });

  it('names the construct, the prop, the value and what to change', () => {
    const stack = new TerraformStack(Testing.app(), 'security');
    expect(() => new IntegrityResponder(stack, 'Fleet', { ...base, namePrefix: 'Foo_Bar' })).toThrow(
      new IntegrityResponderPropsError(
        "namePrefix must match /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/ (a lowercase letter, then lowercase letters, digits or hyphens, not ending with a hyphen, at most 20 characters), got 'Foo_Bar'",
        'security/Fleet',
      ),
    );
    expect(() => new IntegrityResponder(stack, 'Fleet2', { ...base, namePrefix: 'Foo_Bar' })).toThrow(
      /^IntegrityResponder at 'security\/Fleet2': namePrefix/,
    );
  });

  it('names both the construct and the prefix when two responders share a namePrefix', () => {
    const stack = new TerraformStack(Testing.app(), 'security');
    new IntegrityResponder(stack, 'First', base);
    expect(() => new IntegrityResponder(stack, 'Second', base)).toThrow(
      "IntegrityResponder at 'security/Second': namePrefix 'integrity-responder' is already used by another IntegrityResponder in this stack; give each instance its own namePrefix",
    );
  });

  it.each<[keyof IntegrityResponderProps, string, RegExp]>([
    ['responseMode', 'string', /responseMode must be written out, not a Terraform value: it decides which resources the construct creates/],
    ['enableApis', 'bool', /enableApis must be written out, not a Terraform value: it decides which resources the construct creates/],
    [
      'timeoutSeconds',
      'number',
      /timeoutSeconds must be written out, not a Terraform value: the construct computes other settings from it/,
    ],
    [
      'instanceGroupAction',
      'string',
      /instanceGroupAction must be written out, not a Terraform value: it decides the runtime role's permissions/,
    ],
  ])('fails when %s is a Terraform value, which it cannot be', (name, type, message) => {
    const stack = new TerraformStack(Testing.app(), 'tokens');
    const variable = new TerraformVariable(stack, 'v', { type });
    const value = type === 'number' ? variable.numberValue : type === 'bool' ? variable.booleanValue : variable.stringValue;
    expect(() => new IntegrityResponder(stack, 'Responder', { ...base, [name]: value })).toThrow(message);
  });

  it('skips validation of unresolved tokens', () => {
    const stack = new TerraformStack(Testing.app(), 'tokens');
    const { TerraformVariable } = jest.requireActual('cdktf') as typeof import('cdktf');
    const project = new TerraformVariable(stack, 'project', { type: 'string' });
    expect(
      () => new IntegrityResponder(stack, 'Responder', { projectId: project.stringValue, sourceBucketName: 'fleet-responder-src' }),
    ).not.toThrow();
  });

  describe("the build identity's log writer in the watched project", () => {
    const warnings = (props: Partial<IntegrityResponderProps>) => {
      const stack = new TerraformStack(Testing.app(), 'warnings');
      const responder = new IntegrityResponder(stack, 'Responder', { ...base, ...props });
      return responder.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data));
    };

    it('warns at synth when the responder watches its own project, as by default', () => {
      expect(warnings({})).toEqual([
        expect.stringMatching(/build identity holds roles\/logging\.logWriter in the project this responder watches/),
      ]);
    });

    it('says nothing when the responder lives in a project of its own', () => {
      expect(warnings({ scope: 'projects/fleet-prod-9999' })).toEqual([]);
      expect(warnings({ scope: 'folders/1234', organizationId: '4242' })).toEqual([]);
    });
  });
});
