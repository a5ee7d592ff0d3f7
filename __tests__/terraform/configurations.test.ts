import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { synthResponders } from '../support/synth';
import { describeWithTerraform, resourceCount } from '../support/terraform';
import { startStandIns, StandIns, workspace } from '../../testkit/terraform/workspace';

/*
 * Every configuration the construct's tests synthesize, handed to the real Terraform: init,
 * validate and plan, offline, against stand-ins serving the pinned providers' published schemas.
 * (The examples and the README's snippet are planned from the packed package in
 * __tests__/package/package.test.ts.)
 */

const CONFIGURATIONS: Record<string, Partial<IntegrityResponderProps>[]> = {
  default: [{}],
  shutdown: [{ responseMode: 'shutdown' }],
  suspend: [{ failureAction: 'suspend' }],
  'dry-run': [{ enforcement: 'dry-run' }],
  'contain-only, two-person rule': [{ instanceGroupAction: 'contain-only', requireBaselineApproval: true }],
  'APIs enabled, default database': [{ enableApis: true, firestoreDatabaseId: '(default)' }],
  folder: [{ scope: 'folders/5550001', organizationId: '4242' }],
  organization: [
    { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'], notificationChannels: ['projects/p-1234/notificationChannels/1'] },
  ],
  'two responders': [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }],
  playbook: [
    {
      scope: 'organizations/4242',
      containment: ['snapshot', 'quarantine', 'stop'],
      forensicsProjectId: 'fleet-forensics-7',
      raiseFindings: true,
      releasePrincipals: ['group:incident-response@example.com'],
      requireReleaseApproval: true,
    },
  ],
  'playbook, project scope': [
    {
      scope: 'projects/fleet-vms-5678',
      containment: ['quarantine', 'suspend'],
      organizationId: '800000000001',
      firewallPolicyParent: 'folders/5550001',
      raiseFindings: true,
    },
  ],
  'playbook, rules in an existing policy': [
    {
      scope: 'folders/5550001',
      organizationId: '4242',
      containment: ['quarantine', 'stop'],
      quarantineFirewallPolicy: 'locations/global/firewallPolicies/123456789012',
      quarantineRulePriority: 1000,
    },
  ],
};

/** The token-fed configuration: props given as Terraform variables, set on the command line at plan. */
function tokenFed(): { json: string; vars: Record<string, string> } {
  const stack = new TerraformStack(Testing.app(), 'tokens');
  new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234' });
  const v = (name: string, type: string): TerraformVariable => new TerraformVariable(stack, name, { type });
  new IntegrityResponder(stack, 'Responder', {
    projectId: v('project', 'string').stringValue,
    region: v('region', 'string').stringValue,
    namePrefix: v('prefix', 'string').stringValue,
    scope: `organizations/${v('organization', 'string').stringValue}`,
    excludedProjects: v('excluded', 'list(string)').listValue,
  });
  return {
    json: Testing.synth(stack),
    vars: { project: 'fleet-prod-1234', region: 'europe-west1', prefix: 'fleet-x', organization: '4242', excluded: '["lab-sandbox-1"]' },
  };
}

describeWithTerraform('Terraform on every configuration the tests synthesize (offline, published schemas)', () => {
  let standIns: StandIns;
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(() => standIns.close());

  it.each(Object.keys(CONFIGURATIONS))('%s: init, validate and plan every resource', async (name) => {
    const plan = synthResponders(...CONFIGURATIONS[name]!);
    const ws = workspace(standIns, { files: { 'cdk.tf.json': plan.json } });
    expect((await ws.init()).code).toBe(0);
    const validated = await ws.validate();
    expect(validated.stdout + validated.stderr).toContain('Success! The configuration is valid.');
    const planned = await ws.plan();
    expect(planned.stderr).toBe('');
    const expected = resourceCount(plan.doc);
    expect(planned.summary).toBe(`Plan: ${expected} to add, 0 to change, 0 to destroy.`);
    // Every resource the synth declares is planned as a create, under its own address.
    const creates = planned.show!.resource_changes!.filter((c) => c.mode === 'managed').map((c) => c.address);
    expect(creates.sort()).toEqual(
      plan
        .all()
        .map(([type, id]) => `${type}.${id}`)
        .sort(),
    );
  });

  it('the token-fed configuration: validate, and plan with the variables set', async () => {
    const { json, vars } = tokenFed();
    const ws = workspace(standIns, { files: { 'cdk.tf.json': json } });
    expect((await ws.init()).code).toBe(0);
    expect((await ws.validate()).stdout).toContain('Success! The configuration is valid.');
    const planned = await ws.plan(vars);
    expect(planned.stderr).toBe('');
    expect(planned.summary).toBe(`Plan: ${resourceCount(JSON.parse(json))} to add, 0 to change, 0 to destroy.`);
    const sink = planned.show!.resource_changes!.find((c) => c.type === 'google_logging_organization_sink');
    expect(sink?.change.after).toMatchObject({ org_id: '4242' });
  });
});
