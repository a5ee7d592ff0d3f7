import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { AnnotationMetadataEntryType, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { PLANNED } from '../../scripts/terraform-plans';
import { PROJECT, Plan, synthResponders } from '../support/synth';

/*
 * The containment playbook in the plan (ADR 0031): what each step adds, and nothing more. The
 * expected values are written out here, not read from lib/ or the contract.
 */

const FULL: Partial<IntegrityResponderProps> = {
  scope: 'organizations/4242',
  containment: ['snapshot', 'quarantine', 'stop'],
  forensicsProjectId: 'fleet-forensics-7',
  raiseFindings: true,
  releasePrincipals: ['group:incident-response@example.com'],
  requireReleaseApproval: true,
};
const RUNTIME = 'serviceAccount:${google_service_account.Responder_RuntimeServiceAccount_6041DCDC.email}';
const TAG_VALUE_ID = '${google_tags_tag_value.Responder_QuarantineTagValue_6E1A8719.id}';
const PLAYBOOK_VARIABLES = ['CONTAINMENT_STEPS', 'FORENSICS_PROJECT', 'SNAPSHOT_RETENTION_DAYS', 'QUARANTINE_TAG_VALUE', 'FINDINGS_SOURCE'];

/** The resource of a type whose logical id starts with `Responder_<name>_`. */
function named(plan: Plan, type: string, name: string): { at: string; body: Record<string, any> } {
  const found = Object.entries(plan.resources(type)).filter(([id]) => id.startsWith(`Responder_${name}_`));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return { at: `${type}.${found[0]![0]}`, body: found[0]![1] };
}

const environment = (plan: Plan): Record<string, string> =>
  (plan.only('google_cloudfunctions2_function') as any).service_config.environment_variables;
const sleepWaitsFor = (plan: Plan): string[] => (plan.only('time_sleep') as any).depends_on;
const instancePermissions = (plan: Plan): string[] =>
  (
    Object.values({ ...plan.resources('google_organization_iam_custom_role'), ...plan.resources('google_project_iam_custom_role') }).find(
      (role) => String(role.role_id).endsWith('_instances'),
    ) as any
  ).permissions;

const PLAYBOOK_TYPES = [
  'google_tags_tag_key',
  'google_tags_tag_value',
  'google_tags_tag_value_iam_member',
  'google_compute_firewall_policy',
  'google_compute_firewall_policy_rule',
  'google_compute_firewall_policy_association',
  'google_scc_v2_organization_source',
  'google_scc_v2_organization_source_iam_member',
  'google_firestore_document',
];

describe('the containment playbook in the plan', () => {
  it('adds nothing, and none of its variables, without a playbook', () => {
    for (const props of [{}, { failureAction: 'suspend' }, { containment: ['suspend'] }, FULL.scope && { scope: FULL.scope }] as const) {
      const plan = synthResponders(props as Partial<IntegrityResponderProps>);
      for (const type of PLAYBOOK_TYPES) expect({ type, resources: plan.resources(type) }).toEqual({ type, resources: {} });
      expect(Object.keys(environment(plan)).filter((v) => PLAYBOOK_VARIABLES.includes(v))).toEqual([]);
      expect(Object.keys(plan.resources('google_project_iam_custom_role')).filter((id) => id.includes('Evidence'))).toEqual([]);
    }
  });

  it('tells the function the whole playbook once it has one: steps, forensics project, retention, tag value and findings source', () => {
    const env = environment(synthResponders(FULL));
    expect(env).toEqual(
      expect.objectContaining({
        CONTAINMENT_STEPS: 'snapshot,quarantine',
        FAILURE_ACTION: 'stop',
        FORENSICS_PROJECT: 'fleet-forensics-7',
        SNAPSHOT_RETENTION_DAYS: '90',
        QUARANTINE_TAG_VALUE: TAG_VALUE_ID,
        FINDINGS_SOURCE: '${google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568.name}',
      }),
    );
    // A playbook's variables are written together, the unused ones as 'none'.
    expect(environment(synthResponders({ scope: 'organizations/4242', raiseFindings: true }))).toEqual(
      expect.objectContaining({
        CONTAINMENT_STEPS: 'none',
        FORENSICS_PROJECT: 'none',
        QUARANTINE_TAG_VALUE: 'none',
        SNAPSHOT_RETENTION_DAYS: '90',
      }),
    );
    expect(
      environment(
        synthResponders({ containment: ['snapshot', 'suspend'], forensicsProjectId: 'fleet-forensics-7', snapshotRetentionDays: 30 }),
      ),
    ).toEqual(
      expect.objectContaining({
        CONTAINMENT_STEPS: 'snapshot',
        FAILURE_ACTION: 'suspend',
        SNAPSHOT_RETENTION_DAYS: '30',
        FINDINGS_SOURCE: 'none',
      }),
    );
  });

  describe('snapshot', () => {
    const plan = synthResponders({ containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7' });

    it('gives the runtime a role in the forensics project that creates, labels and waits for snapshots, and cannot read, list or delete them', () => {
      const role = named(plan, 'google_project_iam_custom_role', 'EvidenceRole').body;
      expect(role).toEqual(expect.objectContaining({ project: 'fleet-forensics-7', role_id: 'integrity_responder_evidence', stage: 'GA' }));
      expect([...role.permissions].sort()).toEqual([
        'compute.globalOperations.get',
        'compute.snapshots.create',
        'compute.snapshots.get',
        'compute.snapshots.setLabels',
      ]);
      expect(named(plan, 'google_project_iam_member', 'RuntimeTakesEvidence').body).toEqual({
        project: 'fleet-forensics-7',
        role: '${google_project_iam_custom_role.Responder_EvidenceRole_CC609349.name}',
        member: RUNTIME,
      });
    });

    it('lets the runtime snapshot a disk where the VMs live, and nothing else of disks', () => {
      expect(instancePermissions(plan)).toContain('compute.disks.createSnapshot');
      expect(instancePermissions(plan).filter((p) => p.startsWith('compute.disks.') || p.startsWith('compute.snapshots.'))).toEqual([
        'compute.disks.createSnapshot',
      ]);
      expect(instancePermissions(plan).filter((p) => p.includes('TagBinding'))).toEqual([]);
    });

    it('waits for the forensics grant before the function', () => {
      expect(sleepWaitsFor(plan)).toContain('google_project_iam_member.Responder_RuntimeTakesEvidence_78B89B56');
    });
  });

  describe('quarantine', () => {
    const plan = synthResponders(FULL);

    it('creates an organization tag key for firewalls on every network, named after the responder, with one value', () => {
      expect(named(plan, 'google_tags_tag_key', 'QuarantineTagKey').body).toEqual(
        expect.objectContaining({
          parent: 'organizations/4242',
          short_name: 'integrity-responder-quarantine',
          purpose: 'GCE_FIREWALL',
          purpose_data: { organization: 'auto' },
        }),
      );
      // The prefix, then what the key is for: 'ir' reads 'ir-quarantine', never 'ir-integrity-integrity-quarantine'.
      const ir = synthResponders({ ...FULL, namePrefix: 'ir' });
      expect(named(ir, 'google_tags_tag_key', 'QuarantineTagKey').body.short_name).toBe('ir-quarantine');
      expect(named(plan, 'google_tags_tag_value', 'QuarantineTagValue').body).toEqual(
        expect.objectContaining({ parent: '${google_tags_tag_key.Responder_QuarantineTagKey_51758193.id}', short_name: 'quarantined' }),
      );
    });

    it('lets only the runtime and the release principals bind the value, as tag users', () => {
      const grants = Object.values(plan.resources('google_tags_tag_value_iam_member')).map((g) => [g.member, g.role, g.tag_value]);
      expect(grants.sort()).toEqual(
        [
          [RUNTIME, 'roles/resourcemanager.tagUser', '${google_tags_tag_value.Responder_QuarantineTagValue_6E1A8719.name}'],
          [
            'group:incident-response@example.com',
            'roles/resourcemanager.tagUser',
            '${google_tags_tag_value.Responder_QuarantineTagValue_6E1A8719.name}',
          ],
        ].sort(),
      );
    });

    it('denies all traffic of a tagged VM at the organization: ingress and egress, IPv4 and IPv6, at the highest priorities', () => {
      const policy = named(plan, 'google_compute_firewall_policy', 'QuarantinePolicy');
      expect(policy.body).toEqual(expect.objectContaining({ parent: 'organizations/4242', short_name: 'integrity-responder-quarantine' }));
      const rules = (Object.values(plan.resources('google_compute_firewall_policy_rule')) as Record<string, any>[]).map((r) => ({
        direction: r.direction,
        action: r.action,
        priority: r.priority,
        ranges: r.match.src_ip_ranges ?? r.match.dest_ip_ranges,
        protocols: r.match.layer4_configs,
        targets: r.target_secure_tags,
        policy: r.firewall_policy,
        logging: r.enable_logging,
      }));
      const rule = (direction: string, priority: number, range: string) => ({
        direction,
        action: 'deny',
        priority,
        ranges: [range],
        protocols: [{ ip_protocol: 'all' }],
        targets: [{ name: TAG_VALUE_ID }],
        policy: '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}',
        logging: true,
      });
      expect(rules.sort((a, b) => a.priority - b.priority)).toEqual([
        rule('INGRESS', 0, '0.0.0.0/0'),
        rule('INGRESS', 1, '::/0'),
        rule('EGRESS', 2, '0.0.0.0/0'),
        rule('EGRESS', 3, '::/0'),
      ]);
      expect(named(plan, 'google_compute_firewall_policy_association', 'QuarantinePolicyAssociation').body).toEqual({
        firewall_policy: '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.id}',
        attachment_target: 'organizations/4242',
        name: 'integrity-responder-quarantine',
      });
    });

    it('lets the runtime bind and list tags on VMs where they live and read their project number, and never remove a binding', () => {
      expect(instancePermissions(plan)).toEqual(
        expect.arrayContaining(['compute.instances.createTagBinding', 'compute.instances.listTagBindings', 'resourcemanager.projects.get']),
      );
      // The function never lifts a quarantine; a stolen runtime identity, a tag user of the value, must not either.
      expect(instancePermissions(plan).filter((p) => p.includes('TagBinding'))).toEqual([
        'compute.instances.createTagBinding',
        'compute.instances.listTagBindings',
      ]);
    });

    it('binds the value only once the rules and the association exist and the tag grant propagated', () => {
      expect(sleepWaitsFor(plan)).toEqual(
        expect.arrayContaining([
          'google_tags_tag_value_iam_member.Responder_RuntimeBindsQuarantineTag_388C6E0D',
          'google_compute_firewall_policy_association.Responder_QuarantinePolicyAssociation_94548F31',
          'google_compute_firewall_policy_rule.Responder_QuarantineDeniesIngressIpv4_15DA7F84',
          'google_compute_firewall_policy_rule.Responder_QuarantineDeniesEgressIpv6_209FF979',
        ]),
      );
    });

    it('puts a folder scope’s policy at the folder and its tag key in organizationId', () => {
      const folder = synthResponders({ scope: 'folders/5550001', organizationId: '4242', containment: ['quarantine', 'stop'] });
      expect(named(folder, 'google_tags_tag_key', 'QuarantineTagKey').body.parent).toBe('organizations/4242');
      expect(named(folder, 'google_compute_firewall_policy', 'QuarantinePolicy').body.parent).toBe('folders/5550001');
      expect(named(folder, 'google_compute_firewall_policy_association', 'QuarantinePolicyAssociation').body.attachment_target).toBe(
        'folders/5550001',
      );
    });

    it('puts a project scope’s policy at firewallPolicyParent, by default its organization', () => {
      const project = { scope: 'projects/fleet-vms-5678', containment: ['quarantine', 'stop'], organizationId: '800000000001' } as const;
      const byDefault = synthResponders(project);
      expect(named(byDefault, 'google_compute_firewall_policy', 'QuarantinePolicy').body.parent).toBe('organizations/800000000001');
      expect(named(byDefault, 'google_tags_tag_key', 'QuarantineTagKey').body.parent).toBe('organizations/800000000001');
      const atFolder = synthResponders({ ...project, firewallPolicyParent: 'folders/5550001' });
      expect(named(atFolder, 'google_compute_firewall_policy', 'QuarantinePolicy').body.parent).toBe('folders/5550001');
      expect(named(atFolder, 'google_compute_firewall_policy_association', 'QuarantinePolicyAssociation').body.attachment_target).toBe(
        'folders/5550001',
      );
      // The project role gains the tag-binding permissions; no organization role is created.
      expect(instancePermissions(atFolder)).toContain('compute.instances.createTagBinding');
      expect(atFolder.resources('google_organization_iam_custom_role')).toEqual({});
    });
  });

  describe('quarantine in an existing hierarchical firewall policy', () => {
    const EXISTING = {
      scope: 'folders/5550001',
      organizationId: '4242',
      containment: ['quarantine', 'stop'],
      quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
      quarantineRulePriority: 1000,
    } as const;
    const plan = synthResponders(EXISTING);
    const rules = (p: Plan) =>
      (Object.values(p.resources('google_compute_firewall_policy_rule')) as Record<string, any>[])
        .map((r) => ({
          policy: r.firewall_policy,
          priority: r.priority,
          direction: r.direction,
          action: r.action,
          targets: r.target_secure_tags,
        }))
        .sort((a, b) => a.priority - b.priority);

    it('creates no policy and no association, only the four deny rules in that policy, from quarantineRulePriority on', () => {
      expect(plan.resources('google_compute_firewall_policy')).toEqual({});
      expect(plan.resources('google_compute_firewall_policy_association')).toEqual({});
      const rule = (priority: number, direction: string) => ({
        policy: '123456789012',
        priority,
        direction,
        action: 'deny',
        targets: [{ name: TAG_VALUE_ID }],
      });
      expect(rules(plan)).toEqual([rule(1000, 'INGRESS'), rule(1001, 'INGRESS'), rule(1002, 'EGRESS'), rule(1003, 'EGRESS')]);
    });

    it('takes the policy by its numeric id as well, and keeps the tag key and the grants of a created policy', () => {
      const byId = synthResponders({ ...EXISTING, quarantineFirewallPolicy: '123456789012' });
      expect(rules(byId)).toEqual(rules(plan));
      expect(named(plan, 'google_tags_tag_key', 'QuarantineTagKey').body).toEqual(
        expect.objectContaining({ parent: 'organizations/4242', purpose: 'GCE_FIREWALL', purpose_data: { organization: 'auto' } }),
      );
      expect(Object.values(plan.resources('google_tags_tag_value_iam_member')).map((g) => [g.member, g.role])).toEqual([
        [RUNTIME, 'roles/resourcemanager.tagUser'],
      ]);
    });

    it('waits for the rules and the tag grant before the function, with no association to wait for', () => {
      expect(
        sleepWaitsFor(plan)
          .filter((d) => /Quarantine/.test(d))
          .sort(),
      ).toEqual([
        'google_compute_firewall_policy_rule.Responder_QuarantineDeniesEgressIpv4_6B48B124',
        'google_compute_firewall_policy_rule.Responder_QuarantineDeniesEgressIpv6_209FF979',
        'google_compute_firewall_policy_rule.Responder_QuarantineDeniesIngressIpv4_15DA7F84',
        'google_compute_firewall_policy_rule.Responder_QuarantineDeniesIngressIpv6_D9D69D67',
        'google_tags_tag_value_iam_member.Responder_RuntimeBindsQuarantineTag_388C6E0D',
      ]);
    });

    it('exposes the rules, and no policy', () => {
      const stack = new TerraformStack(Testing.app(), 'fields');
      new GoogleProvider(stack, 'google', { project: PROJECT });
      const responder = new IntegrityResponder(stack, 'Responder', { projectId: PROJECT, ...EXISTING });
      expect(responder.quarantinePolicy).toBeUndefined();
      expect(responder.quarantineRules.map((r) => r.node.id)).toEqual([
        'QuarantineDeniesIngressIpv4',
        'QuarantineDeniesIngressIpv6',
        'QuarantineDeniesEgressIpv4',
        'QuarantineDeniesEgressIpv6',
      ]);
      const created = new IntegrityResponder(stack, 'Created', {
        projectId: PROJECT,
        namePrefix: 'created',
        scope: 'organizations/4242',
        containment: ['quarantine', 'stop'],
      });
      expect(created.quarantinePolicy).toBeDefined();
      expect(created.quarantineRules).toHaveLength(4);
      expect(new IntegrityResponder(stack, 'None', { projectId: PROJECT, namePrefix: 'none' }).quarantineRules).toEqual([]);
    });

    it('moves the rules of a created policy by quarantineRulePriority too', () => {
      const created = synthResponders({ scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineRulePriority: 7 });
      expect(rules(created).map((r) => [r.priority, r.policy])).toEqual([
        [7, '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}'],
        [8, '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}'],
        [9, '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}'],
        [10, '${google_compute_firewall_policy.Responder_QuarantinePolicy_6D6E4DE1.name}'],
      ]);
    });

    it('lets a folder scope create its policy at the organization, whose rules Google evaluates before the folder’s', () => {
      const atOrganization = synthResponders({
        scope: 'folders/5550001',
        organizationId: '4242',
        containment: ['quarantine', 'stop'],
        firewallPolicyParent: 'organizations/4242',
      });
      expect(named(atOrganization, 'google_compute_firewall_policy', 'QuarantinePolicy').body.parent).toBe('organizations/4242');
      expect(
        named(atOrganization, 'google_compute_firewall_policy_association', 'QuarantinePolicyAssociation').body.attachment_target,
      ).toBe('organizations/4242');
    });
  });

  describe('findings', () => {
    const plan = synthResponders(FULL);

    it('creates an organization source named after the responder, and lets the runtime and the release principals edit its findings only', () => {
      expect(named(plan, 'google_scc_v2_organization_source', 'FindingsSource').body).toEqual(
        expect.objectContaining({ organization: '4242', display_name: 'integrity-responder' }),
      );
      const grants = Object.values(plan.resources('google_scc_v2_organization_source_iam_member')).map((g) => [
        g.member,
        g.role,
        g.organization,
        g.source,
      ]);
      const source = '${google_scc_v2_organization_source.Responder_FindingsSource_EEC2A568.name}';
      expect(grants.sort()).toEqual(
        [
          [RUNTIME, 'roles/securitycenter.findingsEditor', '4242', source],
          ['group:incident-response@example.com', 'roles/securitycenter.findingsEditor', '4242', source],
        ].sort(),
      );
      expect(sleepWaitsFor(plan)).toContain('google_scc_v2_organization_source_iam_member.Responder_RuntimeEditsFindings_3878BB37');
    });

    it('enables the Security Command Center API with enableApis', () => {
      const services = (props: Partial<IntegrityResponderProps>) =>
        Object.values(synthResponders({ ...props, enableApis: true }).resources('google_project_service')).map((s) => s.service);
      expect(services({ scope: 'organizations/4242', raiseFindings: true })).toContain('securitycenter.googleapis.com');
      expect(services({})).not.toContain('securitycenter.googleapis.com');
    });
  });

  describe('release', () => {
    it('writes the release policy into the decision ledger with requireReleaseApproval', () => {
      const plan = synthResponders({ scope: 'organizations/4242', raiseFindings: true, requireReleaseApproval: true });
      expect(named(plan, 'google_firestore_document', 'ReleasePolicy').body).toEqual({
        project: PROJECT,
        database: 'integrity-responder-decisions',
        collection: 'integrity_responder_policies',
        document_id: 'release',
        fields: JSON.stringify({ requireApproval: { booleanValue: true } }),
        depends_on: ['google_firestore_database.Responder_LedgerDatabase_CC41B944'],
      });
      expect(synthResponders({}).resources('google_firestore_document')).toEqual({});
    });

    it('grants the release principals nothing beyond the tag value, the findings source and the decision ledger', () => {
      const plan = synthResponders(FULL);
      const theirs = plan
        .all()
        .filter(([type, , body]) => /_iam_(member|binding|policy)$/.test(type) && body.member === 'group:incident-response@example.com')
        .map(([type]) => type);
      expect(theirs.sort()).toEqual([
        'google_project_iam_member',
        'google_scc_v2_organization_source_iam_member',
        'google_tags_tag_value_iam_member',
      ]);
    });

    it('lets each release principal read, query and update the decision ledger’s documents, in that database alone', () => {
      const plan = synthResponders({ ...FULL, releasePrincipals: ['group:incident-response@example.com', 'user:ana@example.com'] });
      const role = named(plan, 'google_project_iam_custom_role', 'ReleaseRole').body;
      expect(role).toEqual(expect.objectContaining({ project: PROJECT, role_id: 'integrity_responder_release', stage: 'GA' }));
      // Never create or delete: the tool records a release in a document that exists, and erases nothing.
      expect([...role.permissions].sort()).toEqual([
        'datastore.databases.get',
        'datastore.entities.get',
        'datastore.entities.list',
        'datastore.entities.update',
      ]);
      const grants = Object.values(plan.resources('google_project_iam_member')).filter((g) => String(g.role).includes('ReleaseRole'));
      const ledgerOnly = {
        title: 'integrity-responder decision ledger only',
        description: 'Access limited to the database holding the decision ledger',
        expression: `resource.name == "projects/${PROJECT}/databases/integrity-responder-decisions"`,
      };
      expect(grants.sort((a, b) => String(a.member).localeCompare(String(b.member)))).toEqual([
        {
          project: PROJECT,
          role: '${google_project_iam_custom_role.Responder_ReleaseRole_07E5CA66.name}',
          member: 'group:incident-response@example.com',
          condition: ledgerOnly,
        },
        {
          project: PROJECT,
          role: '${google_project_iam_custom_role.Responder_ReleaseRole_07E5CA66.name}',
          member: 'user:ana@example.com',
          condition: ledgerOnly,
        },
      ]);
      // The condition is the runtime's own ledger grant's: the baselines' database is out of reach of both.
      expect(named(plan, 'google_project_iam_member', 'RuntimeWritesLedger').body.condition).toEqual(ledgerOnly);
      // The function does not wait for the release principals' grants.
      expect(sleepWaitsFor(plan).filter((d) => d.includes('Releaser'))).toEqual([]);
    });

    it('creates no release role without release principals', () => {
      const plan = synthResponders({ ...FULL, releasePrincipals: [] });
      expect(Object.keys(plan.resources('google_project_iam_custom_role')).filter((id) => id.includes('Release'))).toEqual([]);
    });
  });

  describe('warnings at synth', () => {
    /** The playbook's warnings, leaving out the build identity's (a responder watching its own project). */
    const warnings = (props: Partial<IntegrityResponderProps>, stack = new TerraformStack(Testing.app(), 'warnings')) => {
      const responder = new IntegrityResponder(stack, 'Responder', { projectId: PROJECT, ...props });
      return responder.node.metadata
        .filter((m) => m.type === AnnotationMetadataEntryType.WARN)
        .map((m) => String(m.data))
        .filter((w) => !w.includes('build identity'));
    };
    const SNAPSHOT_ORG = {
      scope: 'organizations/4242',
      containment: ['snapshot', 'stop'],
      forensicsProjectId: 'fleet-forensics-7',
    } as const;

    it('warns when a folder or organization scope does not exclude its forensics project', () => {
      expect(warnings(SNAPSHOT_ORG)).toEqual([
        "forensicsProjectId 'fleet-forensics-7' is not in excludedProjects of the organization scope 'organizations/4242'. If that project is in the organization, the runtime could contain the forensics project's own VMs, and whoever writes logs there could make the responder act. List it in excludedProjects, or keep it outside the scope",
      ]);
      expect(
        warnings({
          scope: 'folders/5550001',
          organizationId: '4242',
          containment: ['snapshot', 'stop'],
          forensicsProjectId: 'fleet-forensics-7',
        }),
      ).toEqual([
        expect.stringMatching(
          /^forensicsProjectId 'fleet-forensics-7' is not in excludedProjects of the folder scope 'folders\/5550001'\. If that project is in the folder, /,
        ),
      ]);
    });

    it('says nothing of a forensics project that is excluded, left out as the responder’s own, or of a project scope', () => {
      expect(warnings({ ...SNAPSHOT_ORG, excludedProjects: ['lab-sandbox-1', 'fleet-forensics-7'] })).toEqual([]);
      expect(warnings({ ...SNAPSHOT_ORG, forensicsProjectId: PROJECT })).toEqual([]);
      expect(
        warnings({ scope: 'projects/fleet-vms-5678', containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7' }),
      ).toEqual([]);
      expect(warnings({ scope: 'organizations/4242', raiseFindings: true })).toEqual([]);
    });

    it('says nothing it cannot know: a forensics project or exclusions given as Terraform values', () => {
      const stack = new TerraformStack(Testing.app(), 'tokens');
      const forensics = new TerraformVariable(stack, 'forensics', { type: 'string' }).stringValue;
      expect(warnings({ ...SNAPSHOT_ORG, forensicsProjectId: forensics }, stack)).toEqual([]);
      const other = new TerraformStack(Testing.app(), 'tokens');
      const excluded = new TerraformVariable(other, 'excluded', { type: 'list(string)' }).listValue;
      expect(warnings({ ...SNAPSHOT_ORG, excludedProjects: excluded }, other)).toEqual([]);
    });

    it('is raised by none of the configurations the plan pages show, whose playbook leaves its forensics project out', () => {
      for (const { props } of Object.values(PLANNED)) expect(warnings(props)).toEqual([]);
      expect(PLANNED.playbook!.props.excludedProjects).toContain(PLANNED.playbook!.props.forensicsProjectId);
      expect(PLANNED.playbook!.code).toContain("excludedProjects: ['lab-sandbox-1', 'fleet-forensics-7'],");
    });

    it('warns when the quarantine policy is created at a folder, below the organization’s policy', () => {
      const folder = { scope: 'folders/5550001', organizationId: '4242', containment: ['quarantine', 'stop'] } as const;
      const atFolder =
        "the quarantine's firewall policy is created and associated at 'folders/5550001', a folder: Google evaluates the organization's policy first, and an allow rule there that matches a quarantined VM's traffic ends the evaluation before the folder's deny is reached (cloud.google.com/firewall/docs/firewall-policies-rule-eval-order). Set firewallPolicyParent: 'organizations/4242', or quarantineFirewallPolicy to the organization's existing policy";
      expect(warnings(folder)).toEqual([atFolder]);
      // A project scope whose firewallPolicyParent names a folder runs the same risk.
      expect(
        warnings({
          scope: 'projects/fleet-vms-5678',
          organizationId: '4242',
          containment: ['quarantine', 'stop'],
          firewallPolicyParent: 'folders/5550001',
        }),
      ).toEqual([atFolder]);
      expect(warnings({ ...folder, firewallPolicyParent: 'organizations/4242' })).toEqual([]);
      expect(warnings({ ...folder, quarantineFirewallPolicy: '123456789012' })).toEqual([]);
      expect(warnings({ scope: 'organizations/4242', containment: ['quarantine', 'stop'] })).toEqual([]);
      expect(warnings({ scope: 'projects/fleet-vms-5678', organizationId: '4242', containment: ['quarantine', 'stop'] })).toEqual([]);
    });
  });
});
