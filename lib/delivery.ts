import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import type { ITerraformDependable, Precondition } from 'cdktf';
import type { Construct } from 'constructs';

/** Shortest wait before a refused delivery is retried. */
const RETRY_MINIMUM_BACKOFF = '10s';
/** Longest wait between retries (Pub/Sub's maximum). */
const RETRY_MAXIMUM_BACKOFF = '600s';
/** How long an undelivered event, or a dead letter, is kept: seven days (Pub/Sub's maximum). */
const RETENTION = '604800s';

interface TopicInputs {
  readonly project: string;
  readonly namePrefix: string;
  readonly labels: Record<string, string>;
  /** What the topic waits for (the APIs, when the construct enables them). */
  readonly dependsOn?: ITerraformDependable[];
  /** Checks of the props given as Terraform values, made by Terraform before anything is planned. */
  readonly preconditions: Precondition[];
}

/**
 * Creates the topic the sink publishes integrity log entries to, `<namePrefix>-events`. It keeps
 * what the function cannot take for as long as Pub/Sub allows, so nothing expires in a long outage.
 */
export function eventTopic(c: Construct, inputs: TopicInputs): PubsubTopic {
  const { preconditions } = inputs;
  return new PubsubTopic(c, 'Topic', {
    project: inputs.project,
    name: `${inputs.namePrefix}-events`,
    labels: inputs.labels,
    messageRetentionDuration: RETENTION,
    dependsOn: inputs.dependsOn,
    ...(preconditions.length > 0 && { lifecycle: { precondition: preconditions } }),
  });
}

interface DeliveryInputs {
  readonly project: string;
  readonly namePrefix: string;
  readonly labels: Record<string, string>;
  /** Topic the sink publishes to. */
  readonly topic: PubsubTopic;
  /** The function's `run.app` URL. */
  readonly endpoint: string;
  /** Identity whose OIDC token the push carries; holds `run.invoker` on the function. */
  readonly pushServiceAccountEmail: string;
  /** `serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com` */
  readonly pubsubAgentMember: string;
  /** Seconds the push waits for the function: its timeout. */
  readonly ackDeadlineSeconds: number;
  readonly maxDeliveryAttempts: number;
  /** What the topics wait for (the APIs, when the construct enables them). */
  readonly dependsOn?: ITerraformDependable[];
  /** What the push subscription waits for: the invoker grant, so that the first pushes are admitted. */
  readonly subscriptionDependsOn: ITerraformDependable[];
}

/** The subscription that delivers events to the function, and where those it gives up on go. */
export interface Delivery {
  readonly subscription: PubsubSubscription;
  readonly deadLetterTopic: PubsubTopic;
  /** Pull subscription holding dead letters for an operator to inspect and replay. */
  readonly deadLetterSubscription: PubsubSubscription;
}

/**
 * A push subscription of our own instead of an Eventarc trigger: Eventarc creates and owns its
 * subscription, so its retry backoff and dead-letter policy cannot be declared in the plan
 * (docs/adr/0011). Pub/Sub pushes to the function's `run.app` URL, which internal-only ingress
 * admits for Pub/Sub in the same project (cloud.google.com/run/docs/securing/ingress), with an
 * OIDC token of the trigger identity. A refused delivery is retried with exponential backoff;
 * after `maxDeliveryAttempts` the event is moved to the dead-letter topic, whose own subscription
 * keeps it for seven days. The Pub/Sub service agent needs to publish to the dead-letter topic
 * and to acknowledge on the source subscription (cloud.google.com/pubsub/docs/handling-failures).
 */
export function deliver(c: Construct, inputs: DeliveryInputs): Delivery {
  const { project, namePrefix, labels, dependsOn } = inputs;
  const deadLetterTopic = new PubsubTopic(c, 'DeadLetterTopic', {
    project,
    name: `${namePrefix}-dead-letters`,
    labels,
    messageRetentionDuration: RETENTION,
    dependsOn,
  });
  // Messages published to a topic without subscriptions are lost: this one keeps them.
  const deadLetterSubscription = new PubsubSubscription(c, 'DeadLetterSubscription', {
    project,
    name: `${namePrefix}-dead-letters`,
    topic: deadLetterTopic.id,
    labels,
    ackDeadlineSeconds: 60,
    messageRetentionDuration: RETENTION,
    retainAckedMessages: false,
    expirationPolicy: { ttl: '' },
  });
  const subscription = new PubsubSubscription(c, 'Subscription', {
    project,
    name: `${namePrefix}-deliveries`,
    topic: inputs.topic.id,
    labels,
    ackDeadlineSeconds: inputs.ackDeadlineSeconds,
    messageRetentionDuration: RETENTION,
    expirationPolicy: { ttl: '' },
    pushConfig: {
      // The path names the topic, as Eventarc's does: the Functions Framework reads the
      // CloudEvent's source from it (without it, it warns on every delivery).
      pushEndpoint: `${inputs.endpoint}/projects/${project}/topics/${inputs.topic.name}`,
      // Cloud Run checks the token's audience against the service URL, not the full endpoint.
      oidcToken: { serviceAccountEmail: inputs.pushServiceAccountEmail, audience: inputs.endpoint },
    },
    retryPolicy: { minimumBackoff: RETRY_MINIMUM_BACKOFF, maximumBackoff: RETRY_MAXIMUM_BACKOFF },
    deadLetterPolicy: { deadLetterTopic: deadLetterTopic.id, maxDeliveryAttempts: inputs.maxDeliveryAttempts },
    dependsOn: inputs.subscriptionDependsOn,
  });
  new PubsubTopicIamMember(c, 'PubsubAgentPublishesDeadLetters', {
    project,
    topic: deadLetterTopic.name,
    role: 'roles/pubsub.publisher',
    member: inputs.pubsubAgentMember,
  });
  new PubsubSubscriptionIamMember(c, 'PubsubAgentForwardsDeadLetters', {
    project,
    subscription: subscription.name,
    role: 'roles/pubsub.subscriber',
    member: inputs.pubsubAgentMember,
  });
  return { subscription, deadLetterTopic, deadLetterSubscription };
}
