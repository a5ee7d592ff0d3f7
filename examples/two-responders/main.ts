import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// One security stack, two fleets with different policies, each watched in its own project:
// - 'fleet' watches the application project: VMs whose late-boot measurements are known good
//   relearn after a kernel rollout, the rest are stopped;
// - 'appliances' watches a project of fixed-image appliances that never change their boot
//   chain: any failed report, early or late boot, stops the VM.
class SecurityStack extends TerraformStack {
  constructor(scope: Construct, id: string, fleetProject: string, applianceProject: string) {
    super(scope, id);
    new GoogleProvider(this, 'google', { region: 'europe-west1' });
    const fleet = new IntegrityResponder(this, 'Fleet', {
      projectId: fleetProject,
      region: 'europe-west1',
      namePrefix: 'fleet',
      labels: { team: 'platform' },
    });
    const appliances = new IntegrityResponder(this, 'Appliances', {
      projectId: applianceProject,
      region: 'europe-west1',
      namePrefix: 'appliances',
      responseMode: 'shutdown',
      maxInstanceCount: 1,
      logLevel: 'info',
    });
    new TerraformOutput(this, 'fleet_baselines', { value: fleet.databaseId });
    new TerraformOutput(this, 'appliances_function', { value: appliances.function.name });
  }
}

const app = new App();
new SecurityStack(
  app,
  'two-responders',
  process.env.FLEET_PROJECT ?? 'fleet-prod-1234',
  process.env.APPLIANCE_PROJECT ?? 'appliances-prod-5678',
);
app.synth();
