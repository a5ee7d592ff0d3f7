import { synthResponders } from '../support/synth';
import { describeWithTerraform } from '../support/terraform';
import { startStandIns, StandIns, workspace } from '../../testkit/terraform/workspace';

/*
 * What Terraform itself catches in a synthesized configuration, shown once per kind of mistake:
 * each mutation below changes one thing in the default configuration, and `terraform validate`
 * (or, where validation cannot see it, `terraform plan`) must fail naming it. The unmutated
 * configuration passes both, so a failure is the mutation's.
 */

type Doc = Record<string, any>;

const SUBSCRIPTION = 'google_pubsub_subscription';

/** The logical id of the events subscription in the default configuration. */
function deliveries(doc: Doc): Doc {
  const [, body] = Object.entries(doc.resource[SUBSCRIPTION] as Record<string, Doc>).find(([id]) =>
    id.startsWith('Responder_Subscription_'),
  )!;
  return body;
}

interface Mutation {
  readonly name: string;
  readonly mutate: (doc: Doc) => void;
  /** The command that must fail, and what its error must say. */
  readonly failing: 'init' | 'validate' | 'plan';
  readonly error: RegExp;
}

const MUTATIONS: Mutation[] = [
  {
    name: 'a misspelled attribute (message_retention_duraton)',
    mutate: (doc) => {
      const s = deliveries(doc);
      s.message_retention_duraton = s.message_retention_duration;
      delete s.message_retention_duration;
    },
    failing: 'validate',
    error:
      /Error: Extraneous JSON object property .* No argument or block type is named "message_retention_duraton"\. Did you mean "message_retention_duration"\?/,
  },
  {
    name: 'a wrong type (ack_deadline_seconds = "sixty")',
    mutate: (doc) => void (deliveries(doc).ack_deadline_seconds = 'sixty'),
    failing: 'validate',
    error: /Error: Incorrect attribute value type .* Inappropriate value for attribute "ack_deadline_seconds": a number is required/,
  },
  {
    name: 'a missing required argument (the subscription without name)',
    mutate: (doc) => void delete deliveries(doc).name,
    failing: 'validate',
    error: /Error: Missing required argument .* The argument "name" is required/,
  },
  {
    name: 'a second block where the schema allows one (two push_config)',
    mutate: (doc) => {
      const s = deliveries(doc);
      s.push_config = [s.push_config, s.push_config];
    },
    failing: 'validate',
    error: /Error: Too many push_config blocks/,
  },
  {
    name: 'a depends_on naming nothing',
    mutate: (doc) => void deliveries(doc).depends_on.push('google_pubsub_topic.Nothing'),
    failing: 'validate',
    error: /Error: Reference to undeclared resource .* A managed resource "google_pubsub_topic" "Nothing" has not been declared/,
  },
  {
    name: 'a duplicate default provider (a second google without alias)',
    mutate: (doc) => void doc.provider.google.push({ project: 'another-project' }),
    // Terraform reads the providers before anything else: init already refuses it.
    failing: 'init',
    error: /Error: Duplicate provider configuration .* A default \(non-aliased\) provider configuration for "google" was already given/,
  },
];

describeWithTerraform('Terraform catches a single mistake in a synthesized configuration', () => {
  let standIns: StandIns;
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(() => standIns.close());

  /** Runs init, validate and plan on a configuration; returns the output of the first that fails. */
  async function firstFailure(doc: Doc): Promise<{ command: string; output: string } | undefined> {
    const ws = workspace(standIns, { files: { 'cdk.tf.json': JSON.stringify(doc) } });
    for (const command of ['init', 'validate', 'plan'] as const) {
      const result = await ws[command]();
      if (result.code !== 0) return { command, output: result.stdout + result.stderr };
    }
    return undefined;
  }

  it('passes validate and plan unmutated', async () => {
    expect(await firstFailure(JSON.parse(synthResponders({}).json) as Doc)).toBeUndefined();
  });

  it.each(MUTATIONS.map((m) => [m.name, m] as const))('fails on %s', async (_name, mutation) => {
    const doc = JSON.parse(synthResponders({}).json) as Doc;
    mutation.mutate(doc);
    const failure = await firstFailure(doc);
    // Compared as one string, so a mismatch prints what Terraform said (its lines joined, without
    // the configuration it quotes), not the whole configuration.
    const said = failure?.output.replace(/^.*"cdk\.tf\.json".*$/gm, '').replace(/\s+/g, ' ');
    expect(`${failure?.command}: ${said}`).toMatch(new RegExp(`^${mutation.failing}: .*${mutation.error.source}`));
  });
});
