import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { AnnotationMetadataEntryType, App, TerraformDataSource, TerraformResource, TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { IDENTITY_SETTINGS } from '../../lib/providers';

const PROJECT = 'fleet-prod-1234';
const DEPLOYER = 'deployer@sec-admin-4242.iam.gserviceaccount.com';

type Block = Record<string, unknown>;
interface Doc {
  provider: Record<string, Block[]>;
  resource: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
}

function synth(stack: TerraformStack): Doc {
  return JSON.parse(Testing.synth(stack)) as Doc;
}

/** Every resource and data source of the plan, as [address, provider]. */
function providersInPlan(doc: Doc): [string, unknown][] {
  const blocks = (kind: string, byType: Doc['resource'] | undefined) =>
    Object.entries(byType ?? {}).flatMap(([type, byId]) =>
      Object.entries(byId).map(([id, body]) => [`${kind}${type}.${id}`, body.provider] as [string, unknown]),
    );
  return [...blocks('', doc.resource), ...blocks('data.', doc.data)];
}

/** Terraform's provider name of each resource and data source type the responder creates, read from its constructs. */
function providerNames(responder: IntegrityResponder): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of responder.node.findAll()) {
    if (TerraformResource.isTerraformResource(c) || TerraformDataSource.isTerraformDataSource(c)) {
      names.set(c.terraformResourceType, c.terraformGeneratorMetadata!.providerName);
    }
  }
  return names;
}

/** An organization stack whose google providers all impersonate someone, under an alias. */
function impersonatingStack(): { stack: TerraformStack; admin: GoogleProvider } {
  const stack = new TerraformStack(Testing.app(), 'org');
  const admin = new GoogleProvider(stack, 'admin', {
    alias: 'admin',
    impersonateServiceAccount: DEPLOYER,
    billingProject: 'sec-admin-4242',
    userProjectOverride: true,
  });
  new GoogleProvider(stack, 'audit', { alias: 'audit', impersonateServiceAccount: 'auditor@sec-admin-4242.iam.gserviceaccount.com' });
  return { stack, admin };
}

const responder = (stack: TerraformStack, id = 'Responder', props: Partial<IntegrityResponderProps> = {}) =>
  new IntegrityResponder(stack, id, { projectId: PROJECT, ...props });

describe('providers', () => {
  describe('a stack whose google providers all have an alias', () => {
    it('fails at synth with a sentence naming providers.google and the aliases found', () => {
      const { stack } = impersonatingStack();
      responder(stack);
      expect(() => Testing.synth(stack)).toThrow(
        "IntegrityResponder at 'org/Responder': stack 'org' has no google provider without an alias, only 'org/admin' (alias 'admin'), 'org/audit' (alias 'audit'): set providers.google to the one the responder's resources should use",
      );
    });

    it('puts every resource and data source on providers.google, and google-beta on a copy of its identity with its alias', () => {
      const { stack, admin } = impersonatingStack();
      const r = responder(stack, 'Responder', { providers: { google: admin } });
      const doc = synth(stack);
      const names = providerNames(r);
      const expected: Record<string, string> = { google: 'google.admin', 'google-beta': 'google-beta.admin', time: 'time' };
      const blocks = providersInPlan(doc);
      expect(blocks.length).toBeGreaterThan(30);
      for (const [address, provider] of blocks) {
        const type = address.replace(/^data\./, '').split('.')[0]!;
        expect({ address, provider }).toEqual({ address, provider: expected[names.get(type)!] });
      }
      expect(doc.provider['google-beta']).toEqual([
        { alias: 'admin', impersonate_service_account: DEPLOYER, billing_project: 'sec-admin-4242', user_project_override: true },
      ]);
      expect(doc.provider.google).toHaveLength(2);
      expect(doc.provider.time).toEqual([{}]);
    });
  });

  it('uses a google-beta provider the stack declares after the responder, under the id google-beta, and adds none', () => {
    const stack = new TerraformStack(Testing.app(), 'late');
    new GoogleProvider(stack, 'google', { project: PROJECT });
    responder(stack);
    new GoogleBetaProvider(stack, 'google-beta', { project: PROJECT, region: 'europe-west4' });
    const doc = synth(stack);
    expect(doc.provider['google-beta']).toEqual([{ project: PROJECT, region: 'europe-west4' }]);
    expect(Object.values(doc.resource.google_project_service_identity!).map((b) => b.provider)).toEqual(['google-beta']);
  });

  it('warns at synth when the google-beta provider it finds acts as someone else than the google one', () => {
    const stack = new TerraformStack(Testing.app(), 'two-identities');
    new GoogleProvider(stack, 'google', { project: PROJECT, impersonateServiceAccount: DEPLOYER });
    const r = responder(stack);
    new GoogleBetaProvider(stack, 'google-beta', { project: PROJECT });
    synth(stack);
    const warnings = (c: IntegrityResponder) =>
      c.node.metadata
        .filter((m) => m.type === AnnotationMetadataEntryType.WARN && /google-beta/.test(String(m.data)))
        .map((m) => String(m.data));
    expect(warnings(r)).toEqual([
      "the google-beta provider 'two-identities/google-beta' and the google provider 'two-identities/google' differ in impersonateServiceAccount: " +
        'the Pub/Sub service agent is created with the google-beta identity, everything else with the google one',
    ]);

    // The same identity on both: nothing to say.
    const same = new TerraformStack(Testing.app(), 'one-identity');
    new GoogleProvider(same, 'google', { project: PROJECT, impersonateServiceAccount: DEPLOYER });
    const quiet = responder(same);
    new GoogleBetaProvider(same, 'google-beta', { project: PROJECT, impersonateServiceAccount: DEPLOYER });
    synth(same);
    expect(warnings(quiet)).toEqual([]);
  });

  it('uses the time provider the stack declares, after the responder too, and adds no second one', () => {
    const stack = new TerraformStack(Testing.app(), 'clock');
    new GoogleProvider(stack, 'google', {});
    responder(stack);
    new TimeProvider(stack, 'time', {});
    const doc = synth(stack);
    expect(doc.provider.time).toEqual([{}]);
    expect(stack.node.tryFindChild('Responder')!.node.tryFindChild('TimeProvider')).toBeUndefined();
    expect(Object.values(doc.resource.time_sleep!).map((b) => b.provider)).toEqual(['time']);
  });

  it('adds the google-beta and time providers once for two responders in one stack, and both use them', () => {
    const stack = new TerraformStack(Testing.app(), 'two');
    new GoogleProvider(stack, 'google', { impersonateServiceAccount: DEPLOYER });
    responder(stack, 'First', { namePrefix: 'fleet-a' });
    responder(stack, 'Second', { namePrefix: 'fleet-b' });
    const doc = synth(stack);
    expect(doc.provider).toEqual({
      google: [{ impersonate_service_account: DEPLOYER }],
      'google-beta': [{ impersonate_service_account: DEPLOYER }],
      time: [{}],
    });
    expect(Object.values(doc.resource.google_project_service_identity!).map((b) => b.provider)).toEqual(['google-beta', 'google-beta']);
    expect(Object.values(doc.resource.time_sleep!).map((b) => b.provider)).toEqual(['time', 'time']);
  });

  it('leaves google_* resources on the unaliased google provider without naming it, as Terraform would pick it', () => {
    const stack = new TerraformStack(Testing.app(), 'plain');
    new GoogleProvider(stack, 'google', {});
    responder(stack);
    const named = providersInPlan(synth(stack)).filter(([, provider]) => provider !== undefined);
    expect(named.map(([address, provider]) => `${address.split('.')[0]} ${String(provider)}`).sort()).toEqual([
      'google_project_service_identity google-beta',
      'time_sleep time',
    ]);
  });

  it('says at synth, as an info annotation on the responder, which providers it added', () => {
    const stack = new TerraformStack(Testing.app(), 'info');
    new GoogleProvider(stack, 'google', {});
    const r = responder(stack);
    Testing.synth(stack);
    const infos = r.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.INFO).map((m) => String(m.data));
    expect(infos).toEqual([
      "added a google-beta provider for the Pub/Sub service agent, with the identity settings of the google provider 'info/google'; to use one of your own, declare it with the same alias or set providers.googleBeta",
      'added a time provider for the IAM propagation wait (time_sleep); to use one of your own, declare it without an alias or set providers.time',
    ]);
  });

  it('synthesizes the same twice: a second synth adds nothing', () => {
    const stack = new TerraformStack(Testing.app(), 'again');
    new GoogleProvider(stack, 'google', {});
    responder(stack);
    expect(Testing.synth(stack)).toBe(Testing.synth(stack));
  });

  it('keeps a provider the stack set on one of its resources', () => {
    const stack = new TerraformStack(Testing.app(), 'own');
    new GoogleProvider(stack, 'google', {});
    const other = new GoogleProvider(stack, 'other', { alias: 'other' });
    const r = responder(stack);
    r.topic.provider = other;
    const doc = synth(stack);
    const topics = Object.entries(doc.resource.google_pubsub_topic!).map(([id, b]) => [id.split('_')[1], b.provider]);
    expect(topics).toEqual([
      ['DeadLetterTopic', undefined],
      ['Topic', 'google.other'],
    ]);
  });

  it('takes the identity settings it copies from the generated provider classes, which both have', () => {
    for (const setting of IDENTITY_SETTINGS) {
      expect([setting, setting in GoogleProvider.prototype, setting in GoogleBetaProvider.prototype]).toEqual([setting, true, true]);
    }
  });

  describe('the providers prop', () => {
    it.each<[string, (stack: TerraformStack) => IntegrityResponderProps['providers'], RegExp]>([
      [
        'providers.google is a google-beta provider',
        (stack) => ({ google: new GoogleBetaProvider(stack, 'beta', {}) as never }),
        /providers\.google must be a 'google' provider construct, got a 'google-beta' provider/,
      ],
      [
        'providers.time is not a construct',
        () => ({ time: 'time' as never }),
        /providers\.time must be a 'time' provider construct, got time/,
      ],
      [
        'providers.google belongs to another stack',
        (stack) => ({ google: new GoogleProvider(new TerraformStack(stack.node.scope!, 'elsewhere'), 'google', {}) }),
        /providers\.google must belong to the responder's stack 'props', got 'elsewhere\/google' of stack 'elsewhere'/,
      ],
    ])('fails at construction when %s', (_name, providers, message) => {
      const stack = new TerraformStack(Testing.app(), 'props');
      expect(() => responder(stack, 'Responder', { providers: providers(stack) })).toThrow(message);
    });
  });

  it('assigns the providers in an app synthesized to disk as in Testing.synth (app.synth, as the cdktf CLI runs it)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'providers-'));
    try {
      const app = new App({ outdir, skipValidation: false });
      const stack = new TerraformStack(app, 'org');
      responder(stack);
      new GoogleProvider(stack, 'google', { alias: 'admin', impersonateServiceAccount: DEPLOYER });
      expect(() => app.synth()).toThrow(/set providers\.google/);

      const app2 = new App({ outdir, skipValidation: false });
      const stack2 = new TerraformStack(app2, 'org');
      const admin = new GoogleProvider(stack2, 'admin', { alias: 'admin', impersonateServiceAccount: DEPLOYER });
      responder(stack2, 'Responder', { providers: { google: admin } });
      app2.synth();
      const doc = JSON.parse(readFileSync(join(outdir, 'stacks', 'org', 'cdk.tf.json'), 'utf8')) as Doc;
      expect(doc.provider['google-beta']).toEqual([{ alias: 'admin', impersonate_service_account: DEPLOYER }]);
      expect(new Set(providersInPlan(doc).map(([, provider]) => provider))).toEqual(new Set(['google.admin', 'google-beta.admin', 'time']));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
