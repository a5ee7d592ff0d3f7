import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { IntegrityResponder } from 'shielded-vm-integrity-responder';

// A security project containing the Shielded VMs of an organization the way an incident
// responder would (ADR 0031): every persistent disk of a VM whose boot is not vetted is
// snapshotted into a forensics project first, then the VM is quarantined by a secure tag that a
// hierarchical firewall policy at the organization denies all traffic to, then stopped, and a
// finding is opened in Security Command Center. The incident-response group may release a VM
// after the investigation, two of its members together.
interface IncidentResponseSettings {
  readonly securityProject: string;
  readonly forensicsProject: string;
  readonly organizationId: string;
  readonly responders: string;
}

class IncidentResponseStack extends TerraformStack {
  constructor(scope: Construct, id: string, s: IncidentResponseSettings) {
    super(scope, id);
    new GoogleProvider(this, 'google', { project: s.securityProject, region: 'europe-west1' });
    const responder = new IntegrityResponder(this, 'Organization', {
      projectId: s.securityProject,
      region: 'europe-west1',
      namePrefix: 'ir-integrity',
      scope: `organizations/${s.organizationId}`,
      // The forensics project lies in the organization: left out, so that nothing there is contained.
      excludedProjects: [s.forensicsProject],
      containment: ['snapshot', 'quarantine', 'stop'],
      // The runtime creates snapshots there; it can neither read, list nor delete them.
      forensicsProjectId: s.forensicsProject,
      snapshotRetentionDays: 180,
      raiseFindings: true,
      releasePrincipals: [`group:${s.responders}`],
      requireReleaseApproval: true,
      labels: { team: 'incident-response' },
    });
    new TerraformOutput(this, 'runtime_service_account', { value: responder.runtimeServiceAccount.email });
    new TerraformOutput(this, 'decision_ledger', { value: responder.ledgerDatabaseId });
  }
}

const app = new App();
new IncidentResponseStack(app, 'incident-response', {
  securityProject: process.env.SECURITY_PROJECT ?? 'sec-ops-1234',
  forensicsProject: process.env.FORENSICS_PROJECT ?? 'sec-forensics-1234',
  organizationId: process.env.ORGANIZATION_ID ?? '123456789012',
  responders: process.env.RESPONDERS_GROUP ?? 'incident-response@example.com',
});
app.synth();
