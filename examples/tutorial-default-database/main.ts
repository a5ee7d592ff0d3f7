import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// For projects set up with Google's Shielded VM integrity tutorial: the baselines already
// live in the project's (default) Firestore database, collection known_good_measurements,
// as documents typed by hand. The responder reads them where they are; no database is created.
class SecurityStack extends TerraformStack {
  constructor(scope: Construct, id: string, projectId: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: projectId, region: 'us-central1' });
    new IntegrityResponder(this, 'IntegrityResponder', {
      projectId,
      firestoreDatabaseId: '(default)',
      baselineCollection: 'known_good_measurements',
      enableApis: true,
    });
  }
}

const app = new App();
new SecurityStack(app, 'tutorial', process.env.GOOGLE_CLOUD_PROJECT ?? 'fleet-prod-1234');
app.synth();
