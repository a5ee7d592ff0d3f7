import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../lib';

const USAGE = `usage: npx tsx scripts/terraform-schemas.ts <checkout of lonegunmanb/terraform-google-schema> | --help

Writes testkit/terraform/schemas/google-<version>.json: the published schemas of the
hashicorp/google resource and data-source types that the construct's configurations use (the
default, shutdown, contain-only, APIs enabled with the default database, two responders, an
organization and a folder scope), taken from a git checkout of lonegunmanb/terraform-google-schema
at the provider version the plan pins, with the repository, commit and paths they came from.
Types of other providers (google-beta, time) are listed as not covered by that source.
`;

/** The configurations whose resource types the fixture must cover. */
const CONFIGURATIONS: Partial<IntegrityResponderProps>[][] = [
  [{}],
  [{ responseMode: 'shutdown' }],
  [{ instanceGroupAction: 'contain-only' }],
  [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }],
  [{ requireBaselineApproval: true }],
  [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }],
  [{ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'], notificationChannels: ['projects/p-1234/notificationChannels/1'] }],
  [{ scope: 'folders/5550001', organizationId: '4242', failureAction: 'suspend' }],
];

interface Synthesized {
  readonly resource?: Record<string, Record<string, { provider?: string }>>;
  readonly data?: Record<string, Record<string, { provider?: string }>>;
  readonly terraform: { readonly required_providers: Record<string, { source: string; version: string }> };
}

/** Every block type the configurations use, by kind, with the provider configuration that serves it. */
function typesUsed(): { resources: Map<string, string>; dataSources: Map<string, string>; googleVersion: string } {
  const resources = new Map<string, string>();
  const dataSources = new Map<string, string>();
  let googleVersion = '';
  for (const propsList of CONFIGURATIONS) {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'schemas');
    new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234' });
    propsList.forEach((p, i) => new IntegrityResponder(stack, `Responder${i}`, { projectId: 'fleet-prod-1234', ...p }));
    const doc = JSON.parse(Testing.synth(stack)) as Synthesized;
    googleVersion = doc.terraform.required_providers.google!.version;
    const note = (into: Map<string, string>, blocks: Synthesized['resource']) => {
      for (const [type, byId] of Object.entries(blocks ?? {})) {
        for (const body of Object.values(byId)) into.set(type, (body.provider ?? type.split('_')[0]!).split('.')[0]!);
      }
    };
    note(resources, doc.resource);
    note(dataSources, doc.data);
  }
  return { resources, dataSources, googleVersion };
}

/** `googleCloudfunctions2Function` for `google_cloudfunctions2_function`: the source's file names. */
function fileNameOf(type: string): string {
  return type.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The schema JSON a generated Go file of the source holds in its one raw-string constant. */
function schemaIn(checkout: string, commit: string, path: string): unknown {
  const go = execFileSync('git', ['-C', checkout, 'show', `${commit}:${path}`], { encoding: 'utf8' });
  const match = /= `(\{[\s\S]*\})`/.exec(go);
  if (match === null) throw new Error(`${path} holds no schema constant`);
  return JSON.parse(match[1]!);
}

function main(): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const [checkout, ...rest] = args;
  if (checkout === undefined || checkout.startsWith('-') || rest.length > 0) {
    process.stderr.write(`terraform-schemas: give one checkout of the schema repository\n\n${USAGE}`);
    process.exit(2);
  }
  const { resources, dataSources, googleVersion } = typesUsed();
  const git = (...a: string[]) => execFileSync('git', ['-C', checkout, ...a], { encoding: 'utf8' }).trim();
  const commit = git('log', '-1', '--format=%H', '--fixed-strings', `--grep=update schema to version ${googleVersion}`);
  if (commit === '') throw new Error(`no commit of ${checkout} updates the schema to ${googleVersion}`);
  const fixture = {
    provider: 'registry.terraform.io/hashicorp/google',
    version: googleVersion,
    source: {
      repository: 'https://github.com/lonegunmanb/terraform-google-schema',
      commit,
      note: '`terraform providers schema -json` of the provider release, kept by that repository as one Go string constant per type',
    },
    resource_schemas: {} as Record<string, unknown>,
    data_source_schemas: {} as Record<string, unknown>,
    paths: {} as Record<string, string>,
    not_covered: [] as string[],
  };
  for (const [kind, types, into] of [
    ['resource', resources, fixture.resource_schemas],
    ['data', dataSources, fixture.data_source_schemas],
  ] as const) {
    for (const [type, provider] of [...types].sort(([a], [b]) => a.localeCompare(b))) {
      if (provider !== 'google') {
        fixture.not_covered.push(`${kind} ${type} (${provider})`);
        continue;
      }
      const path = `generated/${kind}/${fileNameOf(type)}.go`;
      into[type] = schemaIn(checkout, commit, path);
      fixture.paths[`${kind} ${type}`] = path;
    }
  }
  const out = join('testkit', 'terraform', 'schemas', `google-${googleVersion}.json`);
  writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
  process.stdout.write(
    `terraform-schemas: wrote ${out}: ${Object.keys(fixture.resource_schemas).length} resource and ` +
      `${Object.keys(fixture.data_source_schemas).length} data-source schemas from ${commit.slice(0, 7)}; ` +
      `not covered by that source: ${fixture.not_covered.join(', ') || 'none'}\n`,
  );
}

main();
