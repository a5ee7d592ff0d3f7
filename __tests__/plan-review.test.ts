import { IntegrityResponderProps } from '../lib';
import { reviewPlan } from './support/plan-review';
import { synthResponders } from './support/synth';

const configurations: Array<[string, Partial<IntegrityResponderProps>[]]> = [
  ['the default configuration', [{}]],
  ['shutdown mode on the (default) database', [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)' }]],
  ['enabled APIs and sizing', [{ enableApis: true, maxInstanceCount: 10, memoryMib: 512, region: 'europe-west4' }]],
  ['two responders in one stack', [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }]],
];

describe('plan review', () => {
  it.each(configurations)('finds nothing to object to in %s', (_name, props) => {
    expect(reviewPlan(synthResponders(...props).doc)).toEqual([]);
  });

  // The review must be able to fail: each tampering below is one a reviewer has to catch.
  const tamper = (fn: (resource: Record<string, Record<string, Record<string, any>>>) => void) => {
    const doc = JSON.parse(synthResponders({}).json);
    fn(doc.resource);
    return reviewPlan(doc);
  };
  const first = (r: Record<string, Record<string, any>> | undefined) => Object.values(r ?? {})[0]!;

  it.each<[string, (r: Record<string, Record<string, Record<string, any>>>) => void, RegExp]>([
    ['a primitive role', (r) => (first(r.google_project_iam_member).role = 'roles/editor'), /primitive role roles\/editor/],
    ['a public member', (r) => (first(r.google_pubsub_topic_iam_member).member = 'allUsers'), /to allUsers/],
    [
      'an undocumented project-wide role',
      (r) => (first(r.google_project_iam_member).role = 'roles/compute.instanceAdmin.v1'),
      /not in the documented list/,
    ],
    [
      'a dropped IAM condition',
      (r) =>
        Object.values(r.google_project_iam_member!)
          .filter((g) => g.condition)
          .forEach((g) => delete g.condition),
      /without its IAM condition/,
    ],
    [
      'an extra permission in the custom role',
      (r) => first(r.google_project_iam_custom_role).permissions.push('compute.instances.delete'),
      /compute\.instances\.delete/,
    ],
    [
      'an authoritative binding',
      (r) => (r.google_project_iam_binding = { X: { role: 'roles/run.invoker', members: [] } }),
      /authoritative/,
    ],
    [
      'a bucket without uniform access',
      (r) => (first(r.google_storage_bucket).uniform_bucket_level_access = false),
      /uniform bucket-level access/,
    ],
    [
      'a bucket without public access prevention',
      (r) => (first(r.google_storage_bucket).public_access_prevention = 'inherited'),
      /public access prevention/,
    ],
    [
      'public ingress',
      (r) => (first(r.google_cloudfunctions2_function).service_config.ingress_settings = 'ALLOW_ALL'),
      /accepts traffic from outside/,
    ],
    [
      'the default compute service account',
      (r) => (first(r.google_cloudfunctions2_function).event_trigger.service_account_email = '1234-compute@developer.gserviceaccount.com'),
      /default compute service account/,
    ],
    [
      'an identity left to the default',
      (r) => delete first(r.google_cloudfunctions2_function).build_config.service_account,
      /leaves build_config.service_account unset/,
    ],
    [
      'a foreign service account',
      (r) => (first(r.google_cloudfunctions2_function).service_config.service_account_email = 'someone@other.iam.gserviceaccount.com'),
      /not a service account of this plan/,
    ],
  ])('catches %s', (_name, fn, expected) => {
    expect(tamper(fn).join('\n')).toMatch(expected);
  });
});
