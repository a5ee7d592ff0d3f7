import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { ContainmentStep, Enforcement, FailureAction, InstanceGroupAction, IntegrityResponder, ResponseMode } from './lib';

/**
 * Example deployment: one responder watching one project, or (with `SCOPE`) a folder or an
 * organization from this project.
 *
 * Configuration comes from the environment or from cdktf context (`context` in cdktf.json,
 * or `CDKTF_CONTEXT_JSON` when the app runs without the CLI); environment wins. Without any,
 * it synthesizes for the placeholder project `my-shielded-vm-project` so the plan can be
 * read offline.
 */
class ResponderStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Context values may be JSON booleans (`"enableApis": true`): read them as their text.
    const setting = (env: string, context: string): string | undefined => {
      const value = process.env[env] || (this.node.tryGetContext(context) as string | boolean | undefined);
      return value === undefined || value === '' ? undefined : String(value);
    };
    const projectId = setting('GOOGLE_CLOUD_PROJECT', 'projectId') ?? 'my-shielded-vm-project';
    const region = setting('GOOGLE_CLOUD_REGION', 'region') ?? 'us-central1';
    // A number where the text is one; anything else goes to the construct as written, which names it.
    const count = (text: string | undefined) => (text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : text);
    // A list written with commas, `a,b`: the construct names whatever it does not accept.
    const list = (text: string | undefined) =>
      text
        ?.split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');

    new GoogleProvider(this, 'google', { project: projectId, region });
    const responder = new IntegrityResponder(this, 'Responder', {
      projectId,
      region,
      responseMode: setting('RESPONSE_MODE', 'responseMode') as ResponseMode | undefined,
      failureAction: setting('FAILURE_ACTION', 'failureAction') as FailureAction | undefined,
      enforcement: setting('ENFORCEMENT', 'enforcement') as Enforcement | undefined,
      instanceGroupAction: setting('INSTANCE_GROUP_ACTION', 'instanceGroupAction') as InstanceGroupAction | undefined,
      firestoreDatabaseId: setting('FIRESTORE_DATABASE', 'firestoreDatabaseId'),
      exemptLabel: setting('EXEMPT_LABEL', 'exemptLabel'),
      scope: setting('SCOPE', 'scope'),
      organizationId: setting('ORGANIZATION_ID', 'organizationId'),
      excludedProjects: list(setting('EXCLUDED_PROJECTS', 'excludedProjects')),
      maxActionsPerWindow: count(setting('MAX_ACTIONS_PER_WINDOW', 'maxActionsPerWindow')) as number | 'unlimited' | undefined,
      actionWindowSeconds: count(setting('ACTION_WINDOW_SECONDS', 'actionWindowSeconds')) as number | undefined,
      requireBaselineApproval: setting('REQUIRE_BASELINE_APPROVAL', 'requireBaselineApproval') === 'true',
      enableApis: setting('ENABLE_APIS', 'enableApis') === 'true',
      // The containment playbook (ADR 0031), e.g. CONTAINMENT=snapshot,quarantine,stop.
      containment: list(setting('CONTAINMENT', 'containment')) as ContainmentStep[] | undefined,
      forensicsProjectId: setting('FORENSICS_PROJECT_ID', 'forensicsProjectId'),
      firewallPolicyParent: setting('FIREWALL_POLICY_PARENT', 'firewallPolicyParent'),
      quarantineFirewallPolicy: setting('QUARANTINE_FIREWALL_POLICY', 'quarantineFirewallPolicy'),
      quarantineRulePriority: count(setting('QUARANTINE_RULE_PRIORITY', 'quarantineRulePriority')) as number | undefined,
      raiseFindings: setting('RAISE_FINDINGS', 'raiseFindings') === 'true',
      releasePrincipals: list(setting('RELEASE_PRINCIPALS', 'releasePrincipals')),
      requireReleaseApproval: setting('REQUIRE_RELEASE_APPROVAL', 'requireReleaseApproval') === 'true',
    });

    new TerraformOutput(this, 'function_name', { value: responder.function.name });
    new TerraformOutput(this, 'topic', { value: responder.topic.id });
    new TerraformOutput(this, 'scope', { value: responder.scope });
    new TerraformOutput(this, 'dead_letter_subscription', { value: responder.delivery.deadLetterSubscription.id });
    new TerraformOutput(this, 'sink_writer_identity', { value: responder.sink.writerIdentity });
    new TerraformOutput(this, 'runtime_service_account', { value: responder.runtimeServiceAccount.email });
    new TerraformOutput(this, 'baseline_database', { value: responder.databaseId });
    new TerraformOutput(this, 'baseline_collection', { value: responder.baselineCollection });
  }
}

const app = new App();
new ResponderStack(app, 'integrity-responder');
app.synth();
