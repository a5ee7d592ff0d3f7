import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// One project watched by one responder with every default: a dedicated baseline database,
// relearn known-good measurements, stop everything else.
class SecurityStack extends TerraformStack {
  constructor(scope: Construct, id: string, projectId: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: projectId, region: 'us-central1' });
    const responder = new IntegrityResponder(this, 'IntegrityResponder', { projectId });
    new TerraformOutput(this, 'baseline_database', { value: responder.databaseId });
    new TerraformOutput(this, 'runtime_service_account', { value: responder.runtimeServiceAccount.email });
  }
}

const app = new App();
new SecurityStack(app, 'minimal', process.env.GOOGLE_CLOUD_PROJECT ?? 'fleet-prod-1234');
app.synth();
