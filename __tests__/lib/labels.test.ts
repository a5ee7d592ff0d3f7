import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformResource, TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';

const PROJECT = 'fleet-prod-1234';

/**
 * The attribute a resource class takes labels in, read from the generated class itself (a
 * `labels`, or for alert policies `userLabels`, setter of the provider's schema); undefined for
 * a type without labels.
 */
function labelAttribute(resource: TerraformResource): 'labels' | 'user_labels' | undefined {
  const proto = Object.getPrototypeOf(resource) as object;
  if (Object.getOwnPropertyDescriptor(proto, 'labels')?.set !== undefined) return 'labels';
  if (Object.getOwnPropertyDescriptor(proto, 'userLabels')?.set !== undefined) return 'user_labels';
  return undefined;
}

interface Labelled {
  readonly address: string;
  /** The namePrefix of the responder the resource belongs to. */
  readonly prefix: string;
  readonly labels: unknown;
}

/** Every resource of the responders whose type takes labels, with the labels it was synthesized with. */
function labelledResources(...propsList: Partial<IntegrityResponderProps>[]): { labelled: Labelled[]; types: Set<string> } {
  const stack = new TerraformStack(Testing.app(), 'labels');
  new GoogleProvider(stack, 'google', {});
  const responders = propsList.map(
    (props, i) =>
      [
        props.namePrefix ?? 'integrity-responder',
        new IntegrityResponder(stack, `Responder${i}`, { projectId: PROJECT, ...props }),
      ] as const,
  );
  const doc = JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  const labelled: Labelled[] = [];
  const types = new Set<string>();
  for (const [prefix, responder] of responders) {
    for (const c of responder.node.findAll()) {
      if (!TerraformResource.isTerraformResource(c)) continue;
      const attribute = labelAttribute(c);
      if (attribute === undefined) continue;
      types.add(c.terraformResourceType);
      const id = stack.getLogicalId(c);
      labelled.push({
        address: `${c.terraformResourceType}.${id}`,
        prefix,
        labels: doc.resource[c.terraformResourceType]![id]![attribute],
      });
    }
  }
  return { labelled, types };
}

describe('labels', () => {
  it.each<[string, Partial<IntegrityResponderProps>[]]>([
    ['the default configuration', [{}]],
    [
      'the shutdown mode with APIs enabled and a user label',
      [{ responseMode: 'shutdown', enableApis: true, labels: { team: 'platform' } }],
    ],
    ['an organization scope with baseline approval', [{ scope: 'organizations/4242', requireBaselineApproval: true }]],
    [
      'two responders in one stack',
      [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', scope: 'folders/5550001', organizationId: '4242' }],
    ],
  ])('puts managed-by and responder=<namePrefix> on every resource whose type takes labels, in %s', (_name, propsList) => {
    const { labelled } = labelledResources(...propsList);
    expect(labelled.length).toBeGreaterThan(10 * propsList.length);
    for (const { address, prefix, labels } of labelled) {
      const user = propsList.find((p) => (p.namePrefix ?? 'integrity-responder') === prefix)!.labels ?? {};
      expect({ address, labels }).toEqual({
        address,
        labels: { ...user, 'managed-by': 'shielded-vm-integrity-responder', responder: prefix },
      });
    }
  });

  it('finds the labelled types from the provider classes: the function, topics, subscriptions, bucket, repository and alert policies, not the Firestore databases', () => {
    const { types } = labelledResources({});
    expect([...types].sort()).toEqual([
      'google_artifact_registry_repository',
      'google_cloudfunctions2_function',
      'google_monitoring_alert_policy',
      'google_pubsub_subscription',
      'google_pubsub_topic',
      'google_storage_bucket',
    ]);
  });
});
