import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// Two responders side by side in one project stack, each with its own name prefix:
// - 'fleet' relearns VMs whose late-boot measurements are known good and stops the rest;
// - 'strict' stops any VM on any failed report, and keeps its own baseline database empty.
// In a real project both would watch the same log; give each a role you can tell apart in
// the logs (for example: 'strict' in a project of appliances that never change kernels).
class SecurityStack extends TerraformStack {
  constructor(scope: Construct, id: string, projectId: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: projectId, region: 'europe-west1' });
    new IntegrityResponder(this, 'Fleet', {
      projectId,
      region: 'europe-west1',
      namePrefix: 'fleet',
      labels: { team: 'platform' },
    });
    new IntegrityResponder(this, 'Strict', {
      projectId,
      region: 'europe-west1',
      namePrefix: 'strict',
      responseMode: 'shutdown',
      maxInstanceCount: 1,
      logLevel: 'info',
    });
  }
}

const app = new App();
new SecurityStack(app, 'two-responders', process.env.GOOGLE_CLOUD_PROJECT ?? 'fleet-prod-1234');
app.synth();
