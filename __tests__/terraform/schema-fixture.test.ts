import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityResponderProps } from '../../lib';
import { REPO_ROOT } from '../support/paths';
import { synthResponders } from '../support/synth';

// The published schemas of hashicorp/google that the offline Terraform runs serve
// (testkit/terraform/schemas/, written by scripts/terraform-schemas.ts): the version the plan
// pins, every google type the configurations use, and every argument they set known to it.

interface Block {
  readonly attributes?: Record<string, { readonly computed?: boolean; readonly optional?: boolean; readonly required?: boolean }>;
  readonly block_types?: Record<string, { readonly nesting_mode: string; readonly block: Block }>;
}
interface Fixture {
  readonly version: string;
  readonly source: { readonly repository: string; readonly commit: string };
  readonly resource_schemas: Record<string, { readonly block: Block }>;
  readonly data_source_schemas: Record<string, { readonly block: Block }>;
  readonly not_covered: readonly string[];
}
interface Doc {
  readonly terraform: { readonly required_providers: Record<string, { readonly version: string }> };
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
}

const CONFIGURATIONS: Record<string, Partial<IntegrityResponderProps>[]> = {
  default: [{}],
  shutdown: [{ responseMode: 'shutdown' }],
  'APIs enabled, the default database': [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }],
  'two-person rule': [{ requireBaselineApproval: true }],
  'two responders': [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b' }],
  organization: [
    { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'], notificationChannels: ['projects/p-1234/notificationChannels/1'] },
  ],
  folder: [{ scope: 'folders/5550001', organizationId: '4242', failureAction: 'suspend' }],
};
const META = new Set(['provider', 'depends_on', 'lifecycle', 'count', 'for_each', '//', 'connection', 'provisioner']);

const doc = (props: Partial<IntegrityResponderProps>[]) => JSON.parse(synthResponders(...props).json) as Doc;
const providerOf = (type: string, body: Record<string, unknown>) => String(body.provider ?? type.split('_')[0]).replace(/\..*$/, '');

/** The arguments of `value` that `block` does not know, as paths. */
function unknownArguments(block: Block, value: Record<string, unknown>, at: string): string[] {
  return Object.entries(value).flatMap(([name, v]) => {
    if (at === '' && META.has(name)) return [];
    if (block.attributes?.[name] !== undefined) return [];
    const nested = block.block_types?.[name];
    if (nested === undefined || name === 'dynamic') return name === 'dynamic' ? [] : [`${at}${name}`];
    return (Array.isArray(v) ? v : [v]).flatMap((item, i) =>
      typeof item === 'object' && item !== null
        ? unknownArguments(nested.block, item as Record<string, unknown>, `${at}${name}[${i}].`)
        : [],
    );
  });
}

describe('the hashicorp/google schema fixture', () => {
  const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'testkit', 'terraform', 'schemas', 'google-6.50.0.json'), 'utf8')) as Fixture;
  const docs = Object.entries(CONFIGURATIONS).map(([name, props]) => [name, doc(props)] as const);

  it('is of the provider version the plan pins, from a named commit of its source', () => {
    for (const [, d] of docs) expect(d.terraform.required_providers.google!.version).toBe(fixture.version);
    expect(fixture.source).toEqual({
      repository: 'https://github.com/lonegunmanb/terraform-google-schema',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      note: expect.any(String),
    });
  });

  it('holds every google resource and data-source type the configurations use, and names the others it does not cover', () => {
    const missing: string[] = [];
    const others = new Set<string>();
    for (const [name, d] of docs) {
      for (const [kind, blocks, schemas] of [
        ['resource', d.resource, fixture.resource_schemas],
        ['data', d.data ?? {}, fixture.data_source_schemas],
      ] as const) {
        for (const [type, byId] of Object.entries(blocks)) {
          const provider = providerOf(type, Object.values(byId)[0]!);
          if (provider !== 'google') others.add(`${kind} ${type} (${provider})`);
          else if (schemas[type] === undefined) missing.push(`${name}: ${kind} ${type}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect([...others].sort()).toEqual([...fixture.not_covered].sort());
  });

  it('knows every argument the configurations set on a google resource', () => {
    const unknown = docs.flatMap(([name, d]) =>
      Object.entries(d.resource).flatMap(([type, byId]) =>
        Object.entries(byId)
          .filter(([, body]) => providerOf(type, body) === 'google')
          .flatMap(([id, body]) =>
            unknownArguments(fixture.resource_schemas[type]!.block, body, '').map((p) => `${name}: ${type}.${id}.${p}`),
          ),
      ),
    );
    expect(unknown).toEqual([]);
  });
});
