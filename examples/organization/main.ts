import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// A security project watching every Shielded VM of an organization. The responder's own
// resources (function, databases, topics, alerts) live in the security project; the sink is an
// organization sink that includes every project below it, and the runtime's Compute role is an
// organization role bound at the organization. Sandbox projects are left out: their entries are
// excluded from the sink, the role binding's condition leaves them out, and the function refuses
// them. It starts in dry-run: every decision is logged and alerted on as "would stop", nothing is
// touched, until the platform team switches `enforcement` to 'enforce'. A baseline recorded by
// one operator matches only once another has approved it (requireBaselineApproval).
// Terraform acts as a deployer service account, through a google provider with an alias of its
// own (the way an organization stack keeps its identities apart): the responder is told to use
// it, and adds a google-beta provider with the same alias and impersonation.
interface OrganizationSettings {
  readonly securityProject: string;
  readonly deployer: string;
  readonly organizationId: string;
  readonly excludedProjects: string[];
  readonly notificationChannels: string[];
}

class OrganizationStack extends TerraformStack {
  constructor(scope: Construct, id: string, s: OrganizationSettings) {
    super(scope, id);
    const deployer = new GoogleProvider(this, 'deployer', {
      alias: 'deployer',
      project: s.securityProject,
      region: 'europe-west1',
      impersonateServiceAccount: s.deployer,
    });
    const responder = new IntegrityResponder(this, 'Organization', {
      providers: { google: deployer },
      projectId: s.securityProject,
      region: 'europe-west1',
      namePrefix: 'org-integrity',
      scope: `organizations/${s.organizationId}`,
      excludedProjects: s.excludedProjects,
      enforcement: 'dry-run',
      // Baselines trusted across the whole organization: each needs a second person's approval.
      requireBaselineApproval: true,
      notificationChannels: s.notificationChannels,
      labels: { team: 'security' },
    });
    new TerraformOutput(this, 'sink_writer_identity', { value: responder.sink.writerIdentity });
    new TerraformOutput(this, 'instance_role', { value: responder.instanceRole.name });
    new TerraformOutput(this, 'dead_letter_subscription', { value: responder.delivery.deadLetterSubscription.id });
  }
}

const list = (value: string | undefined, fallback: string[]): string[] =>
  value === undefined
    ? fallback
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');

const app = new App();
new OrganizationStack(app, 'organization', {
  securityProject: process.env.SECURITY_PROJECT ?? 'sec-ops-1234',
  deployer: process.env.DEPLOYER_SERVICE_ACCOUNT ?? 'integrity-deployer@sec-ops-1234.iam.gserviceaccount.com',
  organizationId: process.env.ORGANIZATION_ID ?? '123456789012',
  excludedProjects: list(process.env.EXCLUDED_PROJECTS, ['lab-sandbox-1', 'lab-sandbox-2']),
  notificationChannels: list(process.env.NOTIFICATION_CHANNELS, ['projects/sec-ops-1234/notificationChannels/4242424242']),
});
app.synth();
