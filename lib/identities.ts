import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { GoogleProjectServiceIdentity } from '@cdktf/provider-google-beta/lib/google-project-service-identity';
import { Sleep } from '@cdktf/provider-time/lib/sleep';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';

/** The responder's identities: one per job, none of them the default compute service account. */
export interface Identities {
  /** Identity the function runs as. */
  readonly runtime: ServiceAccount;
  /** Identity whose OIDC token Pub/Sub presents when it pushes an event to the function. */
  readonly trigger: ServiceAccount;
  /** Identity the function's Cloud Build runs as. */
  readonly build: ServiceAccount;
}

/** Creates the runtime, trigger and build identities, `<namePrefix>-runtime`, `-trigger` and `-build`. */
export function createIdentities(c: Construct, project: string, namePrefix: string, dependsOn?: ITerraformDependable[]): Identities {
  const account = (id: string, suffix: string, displayName: string) =>
    new ServiceAccount(c, id, {
      project,
      accountId: `${namePrefix}-${suffix}`,
      displayName,
      description: `Integrity responder '${namePrefix}': ${displayName}`,
      dependsOn,
    });
  return {
    runtime: account('RuntimeServiceAccount', 'runtime', 'Runtime identity of the function'),
    trigger: account('TriggerServiceAccount', 'trigger', 'Pub/Sub push identity invoking the function'),
    build: account('BuildServiceAccount', 'build', 'Cloud Build identity building the function'),
  };
}

/** The Pub/Sub service agent of the responder's project and its grant on the trigger identity. */
interface PubsubAgent {
  /** `serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com` */
  readonly member: string;
  /** The agent itself and its grant, both waited for before the function and its trigger. */
  readonly grants: ITerraformDependable[];
}

/**
 * Creates the Pub/Sub service agent, before anything relies on it: it mints the OIDC tokens of
 * the push identity (required in projects whose agent predates 2021-04-08, harmless elsewhere)
 * and moves dead letters. Its google-beta provider, like every resource's provider, is set at
 * synth (ProviderAssignment).
 */
export function createPubsubAgent(c: Construct, project: string, trigger: ServiceAccount, dependsOn?: ITerraformDependable[]): PubsubAgent {
  const agent = new GoogleProjectServiceIdentity(c, 'PubsubServiceAgent', {
    project,
    service: 'pubsub.googleapis.com',
    dependsOn,
  });
  const mintsTokens = new ServiceAccountIamMember(c, 'PubsubAgentMintsTriggerTokens', {
    serviceAccountId: trigger.name,
    role: 'roles/iam.serviceAccountTokenCreator',
    member: agent.member,
  });
  return { member: agent.member, grants: [agent, mintsTokens] };
}

/**
 * The wait between the grants (and service agents) and what relies on them: IAM changes take
 * effect after about two minutes, sometimes longer, and a build or a trigger started before
 * then fails (see docs/adr/0008).
 */
export function awaitPropagation(c: Construct, seconds: number, grants: ITerraformDependable[]): Sleep {
  return new Sleep(c, 'IamPropagation', { createDuration: `${seconds}s`, dependsOn: grants });
}
