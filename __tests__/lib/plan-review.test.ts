import { REPO_ROOT } from '../support/paths';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityResponderProps } from '../../lib';
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

const PLAYBOOK: Partial<IntegrityResponderProps> = {
  scope: 'organizations/4242',
  excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'],
  containment: ['snapshot', 'quarantine', 'stop'],
  forensicsProjectId: 'fleet-forensics-7',
  raiseFindings: true,
  releasePrincipals: ['group:incident-response@example.com'],
  requireReleaseApproval: true,
};
const PLAYBOOK_PROJECT: Partial<IntegrityResponderProps> = {
  scope: 'projects/fleet-vms-5678',
  containment: ['quarantine', 'suspend'],
  organizationId: '800000000001',
  firewallPolicyParent: 'folders/5550001',
};

const PLAYBOOK_EXISTING_POLICY: Partial<IntegrityResponderProps> = {
  scope: 'folders/5550001',
  organizationId: '4242',
  containment: ['quarantine', 'stop'],
  quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
  quarantineRulePriority: 1000,
};

const configurations: Array<[string, Partial<IntegrityResponderProps>[], PlanExpectation]> = [
  ['the default configuration', [{}], EXPECTED_DEFAULT],
  ['the shutdown mode', [{ responseMode: 'shutdown' }], EXPECTED_SHUTDOWN],
  ['managed-instance-group members contained only', [{ instanceGroupAction: 'contain-only' }], EXPECTED_CONTAIN_ONLY],
  [
    'the tutorial setup: shutdown on (default), APIs enabled',
    [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }],
    EXPECTED_TUTORIAL,
  ],
  [
    'two responders in one stack',
    [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }],
    EXPECTED_TWO_RESPONDERS,
  ],
  [
    'an organization scope with two projects excluded',
    [{ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'] }],
    EXPECTED_ORGANIZATION,
  ],
  ['a folder scope', [{ scope: 'folders/5550001', organizationId: '4242' }], EXPECTED_FOLDER],
  ['an organization scope with the whole containment playbook', [PLAYBOOK], EXPECTED_PLAYBOOK],
  ['a project scope that quarantines, its policy at a folder', [PLAYBOOK_PROJECT], EXPECTED_PLAYBOOK_PROJECT],
  [
    'a folder scope whose quarantine rules go into the organization’s existing policy',
    [PLAYBOOK_EXISTING_POLICY],
    EXPECTED_PLAYBOOK_EXISTING_POLICY,
  ],
];

const plan = (...props: Partial<IntegrityResponderProps>[]) => JSON.parse(synthResponders(...props).json) as PlanDoc;

describe('plan review', () => {
  it.each(configurations)('finds nothing to object to in %s', (_name, props, expected) => {
    expect(reviewPlan(plan(...props), expected)).toEqual([]);
  });

  it('keeps its expectations literal: neither the review nor its tests import lib/ or function/ for them', () => {
    for (const file of ['__tests__/support/plan-review.ts', '__tests__/lib/plan-mutations.test.ts']) {
      const source = readFileSync(join(REPO_ROOT, file), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      expect({ file, imports: imports.filter((i) => /(^|\/)(lib|function)(\/|$)/.test(i)) }).toEqual({ file, imports: [] });
    }
    // This file imports only the props type from lib/, to synthesize.
    const own = [...readFileSync(__filename, 'utf8').matchAll(/^import (.*) from '\.\.\/\.\.\/lib';$/gm)].map((m) => m[1]);
    expect(own).toEqual(['{ IntegrityResponderProps }']);
  });

  it('names every check it runs once', () => {
    expect(new Set(CHECKS).size).toBe(CHECKS.length);
  });

  it('tells the modes apart: the default expectation rejects the shutdown plan, check by check', () => {
    const findings = reviewPlan(plan({ responseMode: 'shutdown' }), EXPECTED_DEFAULT);
    expect([...new Set(findings.map((f) => f.check))].sort()).toEqual([
      'custom-role-permissions',
      'firestore-databases',
      'function-depends-on',
      'function-environment',
      'iam-inventory',
      'iam-propagation-wait',
    ]);
    expect(findings).toContainEqual({
      check: 'custom-role-permissions',
      problem: 'google_project_iam_custom_role.Responder_InstanceRole_788A6F78 lacks compute.instances.setShieldedInstanceIntegrityPolicy',
    });
    expect(findings).toContainEqual({
      check: 'iam-inventory',
      problem:
        'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D (roles/datastore.viewer for serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}) is missing',
    });
  });

  it('and the shutdown expectation rejects the relearn plan: the role would be broader than the mode needs', () => {
    const findings = reviewPlan(plan({}), EXPECTED_SHUTDOWN);
    expect(findings).toContainEqual({
      check: 'custom-role-permissions',
      problem:
        'google_project_iam_custom_role.Responder_InstanceRole_788A6F78 holds compute.instances.setShieldedInstanceIntegrityPolicy beyond compute.instanceGroupManagers.get, compute.instanceGroupManagers.update, compute.instances.get, compute.instances.stop, compute.zoneOperations.get',
    });
    expect(findings).toContainEqual({
      check: 'iam-inventory',
      problem: 'google_project_iam_member.Responder_RuntimeReadsBaselines_0DF1D71D is an IAM resource the review does not expect',
    });
  });

  it('tells the instance-group actions apart: contain-only holds no group permission, abandon needs both', () => {
    expect(reviewPlan(plan({ instanceGroupAction: 'contain-only' }), EXPECTED_DEFAULT)).toEqual([
      {
        check: 'custom-role-permissions',
        problem:
          'google_project_iam_custom_role.Responder_InstanceRole_788A6F78 lacks compute.instanceGroupManagers.get, compute.instanceGroupManagers.update',
      },
      {
        check: 'function-environment',
        problem: expect.stringContaining('INSTANCE_GROUP_ACTION'),
      },
    ]);
    expect(reviewPlan(plan({}), EXPECTED_CONTAIN_ONLY)).toContainEqual({
      check: 'custom-role-permissions',
      problem: expect.stringMatching(
        /^google_project_iam_custom_role\.Responder_InstanceRole_788A6F78 holds compute\.instanceGroupManagers\.get, compute\.instanceGroupManagers\.update beyond /,
      ),
    });
  });

  it('compares conditions as exact strings, and says what it expected', () => {
    const doc = plan({});
    doc.resource!.google_project_iam_member!.Responder_RuntimeWritesLedger_D426AFAF!.condition.expression +=
      ' || resource.name.startsWith("projects/fleet-prod-1234/databases/")';
    expect(reviewPlan(doc, EXPECTED_DEFAULT)).toEqual([
      {
        check: 'iam-condition',
        problem:
          'google_project_iam_member.Responder_RuntimeWritesLedger_D426AFAF has condition \'resource.name == "projects/fleet-prod-1234/databases/integrity-responder-decisions" || resource.name.startsWith("projects/fleet-prod-1234/databases/")\'; expected resource.name == "projects/fleet-prod-1234/databases/integrity-responder-decisions"',
      },
    ]);
  });

  it('notices a changed wait, not only a missing one', () => {
    const findings = reviewPlan(plan({ iamPropagationSeconds: 30 }), EXPECTED_DEFAULT);
    expect(findings).toEqual([
      { check: 'iam-propagation-wait', problem: "time_sleep.Responder_IamPropagation_9489DE8C waits '30s'; expected 120s" },
    ]);
  });

  it('tells the scopes apart: the organization expectation rejects the folder plan', () => {
    const findings = reviewPlan(plan({ scope: 'folders/5550001', organizationId: '4242' }), EXPECTED_ORGANIZATION);
    expect([...new Set(findings.map((f) => f.check))].sort()).toEqual([
      'function-environment',
      'iam-inventory',
      'iam-member',
      'iam-propagation-wait',
      'sink-inventory',
    ]);
    expect(findings).toContainEqual({
      check: 'sink-inventory',
      problem: 'google_logging_organization_sink.Responder_Sink_86F16188 is missing',
    });
    expect(findings).toContainEqual({
      check: 'function-environment',
      problem:
        "google_cloudfunctions2_function.Responder_Function_73C2D4D9 environment variable SCOPE is 'folders/5550001'; expected 'organizations/4242'",
    });
  });

  it('and the project expectation rejects the organization plan: sink, role and binding all moved up', () => {
    const findings = reviewPlan(plan({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'] }), EXPECTED_DEFAULT);
    expect(findings).toContainEqual({
      check: 'custom-role-inventory',
      problem: 'google_organization_iam_custom_role.Responder_InstanceRole_788A6F78 is not expected',
    });
    expect(findings).toContainEqual({
      check: 'iam-inventory',
      problem: 'google_organization_iam_member.Responder_RuntimeActsOnInstances_174DAA77 is an IAM resource the review does not expect',
    });
    expect(findings).toContainEqual({
      check: 'sink-inventory',
      problem: 'google_logging_organization_sink.Responder_Sink_86F16188 is not expected',
    });
  });

  it('reads an organization sink that excludes fewer projects than expected as a wider scope', () => {
    const findings = reviewPlan(plan({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'] }), EXPECTED_ORGANIZATION);
    expect(findings.filter((f) => f.check === 'sink-exclusions' || f.check === 'iam-condition')).toEqual([
      {
        check: 'iam-condition',
        problem:
          'google_organization_iam_member.Responder_RuntimeActsOnInstances_174DAA77 has condition \'!(resource.name.startsWith("projects/fleet-prod-1234/") || resource.name.startsWith("projects/lab-sandbox-1/"))\'; expected !(resource.name.startsWith("projects/fleet-prod-1234/") || resource.name.startsWith("projects/lab-sandbox-1/") || resource.name.startsWith("projects/lab-sandbox-2/"))',
      },
      {
        check: 'sink-exclusions',
        problem:
          'google_logging_organization_sink.Responder_Sink_86F16188 excludes [{"name":"skip-responder-project","filter":"logName=\\"projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity\\""},{"name":"skip-lab-sandbox-1","filter":"resource.labels.project_id=\\"lab-sandbox-1\\""}]; expected [{"name":"skip-responder-project","filter":"logName=\\"projects/fleet-prod-1234/logs/compute.googleapis.com%2Fshielded_vm_integrity\\""},{"name":"skip-lab-sandbox-1","filter":"resource.labels.project_id=\\"lab-sandbox-1\\""},{"name":"skip-lab-sandbox-2","filter":"resource.labels.project_id=\\"lab-sandbox-2\\""}]',
      },
    ]);
  });

  it('notices a changed number of delivery attempts, and nothing else', () => {
    expect(reviewPlan(plan({ maxDeliveryAttempts: 5 }), EXPECTED_DEFAULT)).toEqual([
      {
        check: 'delivery-dead-letter',
        problem: 'google_pubsub_subscription.Responder_Subscription_4E2A55E0 dead_letter_policy.max_delivery_attempts is 5; expected 20',
      },
    ]);
  });

  it('follows the function timeout into the ack deadline', () => {
    const findings = reviewPlan(plan({ timeoutSeconds: 120 }), EXPECTED_DEFAULT);
    expect(findings).toContainEqual({
      check: 'delivery-ack-deadline',
      problem: 'google_pubsub_subscription.Responder_Subscription_4E2A55E0 ack_deadline_seconds is 120; expected 60',
    });
  });

  describe('log writers where a sink reads the integrity log (ADR 0023)', () => {
    const BUILD_WRITES_LOGS = 'google_project_iam_member.Responder_BuildWritesLogs_25230EE5';
    const writers = (findings: { check: string; problem: string }[]) => findings.filter((f) => f.check === 'log-writer-in-watched-scope');

    it('names the build identity’s log writer in the project it watches, the default, unless the expectation says why it stays', () => {
      expect(writers(reviewPlan(plan({}), { ...EXPECTED_DEFAULT, logWritersInScope: {} }))).toEqual([
        {
          check: 'log-writer-in-watched-scope',
          problem:
            "google_project_iam_member.Responder_BuildWritesLogs_25230EE5 lets 'serviceAccount:${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}' write log entries (roles/logging.logWriter) in project fleet-prod-1234, whose integrity log google_logging_project_sink.Responder_Sink_86F16188 reads: it can write entries that read as Shielded VM integrity reports, and the responder acts on them",
        },
      ]);
      expect(EXPECTED_DEFAULT.logWritersInScope[BUILD_WRITES_LOGS]).toMatch(/without roles\/logging\.logWriter the build fails/);
    });

    it('finds none when the responder watches another project', () => {
      const elsewhere = plan({ scope: 'projects/fleet-vms-5678' });
      expect(writers(reviewPlan(elsewhere, { ...EXPECTED_DEFAULT, logWritersInScope: {} }))).toEqual([]);
      // and says so when the expectation still accepts one
      expect(writers(reviewPlan(elsewhere, EXPECTED_DEFAULT))).toEqual([
        {
          check: 'log-writer-in-watched-scope',
          problem: `${BUILD_WRITES_LOGS} is accepted as a log writer in the watched scope, but the plan has no such writer where a sink reads the integrity log: drop it from the expectation`,
        },
      ]);
    });

    it.each([
      ['folder', { scope: 'folders/5550001', organizationId: '4242' }, 'google_logging_folder_sink'],
      ['organization', { scope: 'organizations/4242' }, 'google_logging_organization_sink'],
    ] as const)(
      'finds none in a %s scope, which leaves the responder’s project out, and names it when watchResponderProject is set',
      (_kind, props, type) => {
        const expected = { ...EXPECTED_DEFAULT, logWritersInScope: {} };
        expect(writers(reviewPlan(plan(props), expected))).toEqual([]);
        expect(writers(reviewPlan(plan({ ...props, watchResponderProject: true }), expected))).toEqual([
          {
            check: 'log-writer-in-watched-scope',
            problem: expect.stringContaining(
              `${BUILD_WRITES_LOGS} lets 'serviceAccount:\${google_service_account.Responder_BuildServiceAccount_FEC806E6.email}' write log entries (roles/logging.logWriter) in project fleet-prod-1234, whose integrity log ${type}.Responder_Sink_86F16188 reads`,
            ),
          },
        ]);
      },
    );
  });

  it('tells a playbook from none: the organization expectation rejects the playbook plan, naming what it adds', () => {
    const findings = reviewPlan(plan(PLAYBOOK), EXPECTED_ORGANIZATION);
    expect([...new Set(findings.map((f) => f.check))].sort()).toEqual([
      'custom-role-inventory',
      'custom-role-permissions',
      'findings-sources',
      'function-environment',
      'iam-inventory',
      'iam-propagation-wait',
      'quarantine-inventory',
    ]);
    expect(findings).toContainEqual({
      check: 'iam-inventory',
      problem:
        'google_tags_tag_value_iam_member.Responder_ReleaserUnbindsQuarantineTag-groupincident-responseexamplecom_142AB3E8 is an IAM resource the review does not expect',
    });
    expect(findings).toContainEqual({
      check: 'quarantine-inventory',
      problem: 'google_compute_firewall_policy_rule.Responder_QuarantineDeniesEgressIpv6_209FF979 is not expected',
    });
    // and the playbook expectation rejects a plan without it
    expect(
      reviewPlan(plan({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'] }), EXPECTED_PLAYBOOK),
    ).toContainEqual({
      check: 'quarantine-inventory',
      problem: 'google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_94548F31 is missing',
    });
  });

  it('tells rules in an existing policy from a policy of their own: the existing-policy expectation names the created policy and association', () => {
    const created = plan({ ...PLAYBOOK_EXISTING_POLICY, quarantineFirewallPolicy: undefined, quarantineRulePriority: undefined });
    const findings = reviewPlan(created, EXPECTED_PLAYBOOK_EXISTING_POLICY).filter((f) => f.check === 'quarantine-existing-policy');
    expect(findings).toEqual([
      {
        check: 'quarantine-existing-policy',
        problem:
          "google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1 creates a policy: the quarantine's rules belong in the existing policy '123456789012'",
      },
      {
        check: 'quarantine-existing-policy',
        problem:
          "google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_94548F31 associates a policy with 'folders/5550001', which holds one association at most: the existing policy '123456789012' needs none",
      },
      ...['EgressIpv4_6B48B124', 'EgressIpv6_209FF979', 'IngressIpv4_15DA7F84', 'IngressIpv6_D9D69D67'].map((rule) => ({
        check: 'quarantine-existing-policy',
        problem: `google_compute_firewall_policy_rule.Responder_QuarantineDenies${rule} is in policy '\${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}'; expected the existing policy '123456789012'`,
      })),
      {
        check: 'quarantine-existing-policy',
        problem:
          "the quarantine rules take priorities [0,1,2,3]; expected [1000,1001,1002,1003], the four from the one chosen above the existing policy's rules",
      },
    ]);
    // and a created policy's expectation finds the existing-policy plan short of its policy and association
    expect(
      reviewPlan(plan(PLAYBOOK_EXISTING_POLICY), { ...EXPECTED_PLAYBOOK_EXISTING_POLICY, quarantine: undefined }).filter(
        (f) => f.check === 'quarantine-inventory',
      ),
    ).toHaveLength(6);
  });

  it('objects to a plan that is missing the responder entirely, rather than finding nothing to check', () => {
    const findings = reviewPlan({ resource: {} }, EXPECTED_DEFAULT);
    expect(new Set(findings.map((f) => f.check))).toEqual(
      new Set([
        'iam-inventory',
        'project-lookup',
        'custom-role-inventory',
        'sink-inventory',
        'topic-inventory',
        'subscription-inventory',
        'function-inventory',
        'bucket-inventory',
        'iam-propagation-wait',
        'log-writer-in-watched-scope',
        'service-identities',
        'firestore-databases',
      ]),
    );
  });
});
