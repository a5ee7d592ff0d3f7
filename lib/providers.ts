import type { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import type { GoogleBetaProviderConfig } from '@cdktf/provider-google-beta/lib/provider';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { Annotations, IAspect, TerraformDataSource, TerraformProvider, TerraformResource, TerraformStack } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { IntegrityResponderPropsError } from './errors';

/**
 * The Terraform provider configurations a responder's resources use. Each one left out is
 * chosen from the stack when it is synthesized (so a provider declared after the responder
 * counts); see {@link IntegrityResponderProps.providers}.
 */
export interface ResponderProviders {
  /**
   * Provider of every `google_*` resource and data source of the responder (all of them but the
   * Pub/Sub service agent). Give it where the stack's `google` providers all have an alias, e.g.
   * one per impersonated identity.
   * @default - the stack's `google` provider without an alias; synth fails when there is none
   */
  readonly google?: GoogleProvider;

  /**
   * Provider of the Pub/Sub service agent (`google_project_service_identity`, google-beta only).
   * @default - the stack's `google-beta` provider with the same alias as the `google` provider in use (none for an unaliased one); without one, the responder adds it, with that provider's alias and identity settings
   */
  readonly googleBeta?: GoogleBetaProvider;

  /**
   * Provider of the IAM propagation wait (`time_sleep`).
   * @default - the stack's `time` provider without an alias; without one, the responder adds one
   */
  readonly time?: TimeProvider;
}

/** Terraform's name of each provider, by the prop that sets it. */
const PROVIDER_TYPES = { google: 'google', googleBeta: 'google-beta', time: 'time' } as const;

/**
 * Settings of the `google` provider that decide who the provider is and whom it bills: a
 * `google-beta` provider the responder adds copies them, so that one plan acts with one identity.
 * Names as the generated provider classes spell them (both classes have each).
 */
export const IDENTITY_SETTINGS = [
  'credentials',
  'accessToken',
  'externalCredentials',
  'impersonateServiceAccount',
  'impersonateServiceAccountDelegates',
  'scopes',
  'billingProject',
  'userProjectOverride',
  'universeDomain',
] as const satisfies readonly (keyof GoogleProvider & keyof GoogleBetaProviderConfig)[];

function nameOf(provider: TerraformProvider): string {
  return `'${provider.node.path}'${provider.alias !== undefined ? ` (alias '${provider.alias}')` : ''}`;
}

/**
 * Checks the `providers` prop: each entry a provider of its kind in the responder's stack.
 * Returns what is wrong, or undefined.
 */
export function providersProblem(providers: ResponderProviders | undefined, stack: TerraformStack): string | undefined {
  if (providers === undefined) return undefined;
  if (typeof providers !== 'object' || providers === null) {
    return `providers must be an object such as { google: myGoogleProvider }, got ${String(providers)}`;
  }
  for (const [key, type] of Object.entries(PROVIDER_TYPES) as [keyof ResponderProviders, string][]) {
    const provider: unknown = providers[key];
    if (provider === undefined) continue;
    if (!TerraformProvider.isTerraformProvider(provider) || provider.terraformResourceType !== type) {
      const got = TerraformProvider.isTerraformProvider(provider) ? `a '${provider.terraformResourceType}' provider` : String(provider);
      return `providers.${key} must be a '${type}' provider construct, got ${got}`;
    }
    if (TerraformStack.of(provider) !== stack) {
      return `providers.${key} must belong to the responder's stack '${stack.node.path}', got ${nameOf(provider)} of stack '${TerraformStack.of(provider).node.path}'`;
    }
  }
  return undefined;
}

/** The resources and data sources below a construct, with the name of their provider. */
function terraformBlocks(scope: IConstruct): (TerraformResource | TerraformDataSource)[] {
  return scope.node
    .findAll()
    .filter(
      (c): c is TerraformResource | TerraformDataSource =>
        TerraformResource.isTerraformResource(c) || TerraformDataSource.isTerraformDataSource(c),
    );
}

/**
 * Gives every resource and data source of a responder its provider when the stack is
 * synthesized, adding a `google-beta` or `time` provider the stack lacks.
 *
 * An aspect rather than a choice in the constructor: the providers a stack declares after the
 * responder exist only by then. A resource names its provider unless Terraform would pick that
 * one by itself (an unaliased `google` provider for a `google_*` resource), so a stack with one
 * plain `google` provider synthesizes exactly as before. A resource whose provider is already set
 * (by the stack's own code or aspect) keeps it.
 */
export class ProviderAssignment implements IAspect {
  constructor(
    private readonly responder: Construct,
    private readonly given: ResponderProviders,
  ) {}

  visit(node: IConstruct): void {
    if (node !== this.responder) return;
    const stack = TerraformStack.of(this.responder);
    const providers = stack.node
      .findAll()
      .filter((c): c is TerraformProvider => TerraformProvider.isTerraformProvider(c) && TerraformStack.of(c) === stack);
    const ofType = (type: string) => providers.filter((p) => p.terraformResourceType === type);

    const google = this.given.google ?? ofType('google').find((p) => p.alias === undefined);
    if (google === undefined) {
      const aliased = ofType('google');
      throw new IntegrityResponderPropsError(
        aliased.length === 0
          ? `stack '${stack.node.path}' has no google provider: declare one (new GoogleProvider(stack, 'google', { … })) or set providers.google`
          : `stack '${stack.node.path}' has no google provider without an alias, only ${aliased.map(nameOf).join(', ')}: set providers.google to the one the responder's resources should use`,
        this.responder.node.path,
      );
    }
    const found = this.given.googleBeta ?? ofType('google-beta').find((p) => p.alias === google.alias);
    if (found !== undefined) this.warnOnOtherIdentity(google as GoogleProvider, found as GoogleBetaProvider);
    const googleBeta = found ?? this.addGoogleBeta(google as GoogleProvider);
    const time = this.given.time ?? ofType('time').find((p) => p.alias === undefined) ?? this.addTime();

    const byType: Record<string, TerraformProvider> = { google, 'google-beta': googleBeta, time };
    for (const block of terraformBlocks(this.responder)) {
      if (block.provider !== undefined) continue;
      const provider = byType[block.terraformGeneratorMetadata?.providerName ?? ''];
      // Terraform gives a `google_*` block the unaliased google provider by itself.
      if (provider === undefined || (provider === google && google.alias === undefined)) continue;
      block.provider = provider;
    }
  }

  /**
   * One plan, one identity: a google-beta provider whose identity settings differ from the
   * google provider's would create the Pub/Sub service agent as someone else. Said at synth,
   * naming the settings, since a stack may mean it (a separate billing project, say).
   */
  private warnOnOtherIdentity(google: GoogleProvider, googleBeta: GoogleBetaProvider): void {
    const differ = IDENTITY_SETTINGS.filter((setting) => JSON.stringify(google[setting]) !== JSON.stringify(googleBeta[setting]));
    if (differ.length === 0) return;
    Annotations.of(this.responder).addWarning(
      `the google-beta provider ${nameOf(googleBeta)} and the google provider ${nameOf(google)} differ in ${differ.join(', ')}: ` +
        `the Pub/Sub service agent is created with the google-beta identity, everything else with the google one`,
    );
  }

  private addGoogleBeta(google: GoogleProvider): TerraformProvider {
    const config: Record<string, unknown> = {};
    for (const setting of IDENTITY_SETTINGS) {
      if (google[setting] !== undefined) config[setting] = google[setting];
    }
    const added = new GoogleBetaProvider(this.responder, 'GoogleBetaProvider', {
      ...(config as GoogleBetaProviderConfig),
      ...(google.alias !== undefined && { alias: google.alias }),
    });
    Annotations.of(this.responder).addInfo(
      `added a google-beta provider${google.alias !== undefined ? ` with alias '${google.alias}'` : ''} for the Pub/Sub service agent, ` +
        `with the identity settings of the google provider ${nameOf(google)}; to use one of your own, declare it with the same alias or set providers.googleBeta`,
    );
    return added;
  }

  private addTime(): TerraformProvider {
    const added = new TimeProvider(this.responder, 'TimeProvider', {});
    Annotations.of(this.responder).addInfo(
      'added a time provider for the IAM propagation wait (time_sleep); to use one of your own, declare it without an alias or set providers.time',
    );
    return added;
  }
}
