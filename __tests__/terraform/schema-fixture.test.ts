import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityResponderProps } from '../../lib';
import { REPO_ROOT } from '../support/paths';
import { synthResponders } from '../support/synth';

// The published schemas that the offline Terraform runs serve (testkit/terraform/schemas/,
// written by scripts/terraform-schemas.ts), one file per provider release: every provider the
// plan pins, at the pinned version, with its configuration block; every resource and data-source
// type the configurations use, none left uncovered; every argument they set known to it.

interface Block {
  readonly attributes?: Record<string, { readonly computed?: boolean; readonly optional?: boolean; readonly required?: boolean }>;
  readonly block_types?: Record<string, { readonly nesting_mode: string; readonly block: Block }>;
}
interface Source {
  readonly repository: string;
  readonly commit: string;
  readonly note: string;
}
interface Fixture {
  readonly provider: string;
  readonly version: string;
  readonly source: { readonly provider_schema: Source; readonly types: Source };
  readonly provider_schema?: { readonly version: number; readonly block: Block };
  readonly resource_schemas: Record<string, { readonly block: Block }>;
  readonly data_source_schemas: Record<string, { readonly block: Block }>;
  readonly not_covered: readonly string[];
}
type Body = Record<string, unknown>;
interface Doc {
  readonly terraform: { readonly required_providers: Record<string, { readonly source: string; readonly version: string }> };
  readonly provider: Record<string, Body[]>;
  readonly resource: Record<string, Record<string, Body>>;
  readonly data?: Record<string, Record<string, Body>>;
}

const CONFIGURATIONS: Record<string, Partial<IntegrityResponderProps>[]> = {
  default: [{}],
  shutdown: [{ responseMode: 'shutdown' }],
  'contain-only': [{ instanceGroupAction: 'contain-only' }],
  'APIs enabled, the default database': [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }],
  'two-person rule': [{ requireBaselineApproval: true }],
  'two responders': [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }],
  organization: [
    { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'], notificationChannels: ['projects/p-1234/notificationChannels/1'] },
  ],
  folder: [{ scope: 'folders/5550001', organizationId: '4242', failureAction: 'suspend' }],
  playbook: [
    {
      scope: 'organizations/4242',
      containment: ['snapshot', 'quarantine', 'stop'],
      forensicsProjectId: 'fleet-forensics-7',
      raiseFindings: true,
      releasePrincipals: ['group:incident-response@example.com'],
      requireReleaseApproval: true,
    },
  ],
  'playbook, project scope': [
    {
      scope: 'projects/fleet-vms-5678',
      containment: ['quarantine', 'suspend'],
      organizationId: '800000000001',
      firewallPolicyParent: 'folders/5550001',
      raiseFindings: true,
    },
  ],
};
const META = new Set(['provider', 'depends_on', 'lifecycle', 'count', 'for_each', '//', 'connection', 'provisioner']);
const PROVIDER_META = new Set(['alias', 'version', '//']);
const SCHEMAS = join(REPO_ROOT, 'testkit', 'terraform', 'schemas');

const doc = (props: Partial<IntegrityResponderProps>[]) => JSON.parse(synthResponders(...props).json) as Doc;
const localNameOf = (type: string, body: Body) => String(body.provider ?? type.split('_')[0]).replace(/\..*$/, '');

/** The registry address Terraform reads a required provider's source as: `google` is registry.terraform.io/hashicorp/google. */
function registryAddress(source: string): string {
  const parts = source.toLowerCase().split('/');
  return [...['registry.terraform.io', 'hashicorp'].slice(0, 3 - parts.length), ...parts].join('/');
}

/** The arguments of `value` that `block` does not know, as paths. */
function unknownArguments(block: Block, value: Body, at: string, meta: ReadonlySet<string>): string[] {
  return Object.entries(value).flatMap(([name, v]) => {
    if (at === '' && meta.has(name)) return [];
    if (block.attributes?.[name] !== undefined) return [];
    const nested = block.block_types?.[name];
    if (nested === undefined || name === 'dynamic') return name === 'dynamic' ? [] : [`${at}${name}`];
    return (Array.isArray(v) ? v : [v]).flatMap((item, i) =>
      typeof item === 'object' && item !== null ? unknownArguments(nested.block, item as Body, `${at}${name}[${i}].`, new Set()) : [],
    );
  });
}

describe('the provider schema fixtures', () => {
  const files = readdirSync(SCHEMAS).filter((name) => name.endsWith('.json'));
  const fixtures = new Map(
    files.map((file) => {
      const fixture = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as Fixture;
      return [fixture.provider, { file, fixture }] as const;
    }),
  );
  const docs = Object.entries(CONFIGURATIONS).map(([name, props]) => [name, doc(props)] as const);
  /** The fixture of the provider a configuration names by its local name. */
  const fixtureOf = (d: Doc, local: string) =>
    fixtures.get(registryAddress(d.terraform.required_providers[local]?.source ?? local))?.fixture;
  /** Every resource and data-source block of a configuration, with the fixture of its provider. */
  const blocksOf = (d: Doc) =>
    (
      [
        ['resource', d.resource],
        ['data', d.data ?? {}],
      ] as const
    ).flatMap(([kind, blocks]) =>
      Object.entries(blocks).flatMap(([type, byId]) =>
        Object.entries(byId).map(([id, body]) => {
          const fixture = fixtureOf(d, localNameOf(type, body));
          const schemas = kind === 'resource' ? fixture?.resource_schemas : fixture?.data_source_schemas;
          return { kind, type, id, body, fixture, schema: schemas?.[type] };
        }),
      ),
    );

  it('has one fixture per provider release, named <provider>-<version>.json', () => {
    expect(fixtures.size).toBe(files.length);
    for (const { file, fixture } of fixtures.values()) expect(file).toBe(`${fixture.provider.split('/').at(-1)}-${fixture.version}.json`);
  });

  it('has, for every provider the plan pins, a fixture at the pinned version with its configuration block and its sources', () => {
    const problems: string[] = [];
    const pinned = new Set<string>();
    for (const [name, d] of docs) {
      for (const [local, { source, version }] of Object.entries(d.terraform.required_providers)) {
        pinned.add(`${registryAddress(source)} ${version}`);
        const fixture = fixtures.get(registryAddress(source))?.fixture;
        if (fixture === undefined) problems.push(`${name}: no fixture for ${local} (${registryAddress(source)})`);
        else if (fixture.version !== version)
          problems.push(`${name}: ${local} is pinned at ${version}, its fixture is of ${fixture.version}`);
        else if (typeof fixture.provider_schema?.version !== 'number' || typeof fixture.provider_schema.block !== 'object') {
          problems.push(`${name}: the ${local} fixture has no provider_schema`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...pinned].sort()).toEqual([
      'registry.terraform.io/hashicorp/google 6.50.0',
      'registry.terraform.io/hashicorp/google-beta 6.50.0',
      'registry.terraform.io/hashicorp/time 0.13.1',
    ]);
    for (const { fixture } of fixtures.values()) {
      const source = {
        repository: expect.stringMatching(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/),
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
        note: expect.any(String),
      };
      expect(fixture.source).toEqual({ provider_schema: expect.objectContaining(source), types: expect.objectContaining(source) });
    }
  });

  it('holds every resource and data-source type the configurations use, and leaves none uncovered', () => {
    const missing = docs.flatMap(([name, d]) =>
      blocksOf(d)
        .filter((b) => b.schema === undefined)
        .map((b) => `${name}: ${b.kind} ${b.type}`),
    );
    expect([...new Set(missing)]).toEqual([]);
    expect([...fixtures.values()].flatMap(({ fixture }) => fixture.not_covered.map((n) => `${fixture.provider}: ${n}`))).toEqual([]);
  });

  it('knows every argument the configurations set on a resource or data source', () => {
    const unknown = docs.flatMap(([name, d]) =>
      blocksOf(d).flatMap((b) =>
        b.schema === undefined
          ? []
          : unknownArguments(b.schema.block, b.body, '', META).map((p) => `${name}: ${b.kind} ${b.type}.${b.id}.${p}`),
      ),
    );
    expect(unknown).toEqual([]);
  });

  it('knows every argument the configurations set in a provider block', () => {
    const unknown = docs.flatMap(([name, d]) =>
      Object.entries(d.provider).flatMap(([local, configs]) =>
        configs.flatMap((config, i) => {
          const block = fixtureOf(d, local)?.provider_schema?.block;
          if (block === undefined) return [`${name}: provider ${local} has no provider_schema`];
          return unknownArguments(block, config, '', PROVIDER_META).map((p) => `${name}: provider ${local}[${i}].${p}`);
        }),
      ),
    );
    expect(unknown).toEqual([]);
  });
});
