import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../lib';

const USAGE = `usage: npx tsx scripts/terraform-schemas.ts --google-schema <dir> --time-schema <dir>
         --google-source <dir> --google-beta-source <dir> --time-source <dir>
       npx tsx scripts/terraform-schemas.ts --help

Writes testkit/terraform/schemas/<provider>-<version>.json for every provider the construct's
configurations pin (the default, shutdown, contain-only, APIs enabled with the default database,
two responders, an organization and a folder scope, a containment playbook): the provider's configuration block and the
schemas of every resource and data-source type those configurations use, in the shape of one
provider of \`terraform providers schema -json\`, with the repository, commit and paths each came
from. Each <dir> is a git checkout (a bare one will do) of:

  --google-schema       lonegunmanb/terraform-google-schema: the published schemas of the
                        hashicorp/google types, at the commit that updates it to the pinned version
  --time-schema         lonegunmanb/terraform-time-schema: the published schemas of the
                        hashicorp/time types, at the pinned version or, where that repository has
                        none, the newest one before it whose provider source (--time-source) does
                        not differ under internal/ from the pinned tag
  --google-source       hashicorp/terraform-provider-google, at tag v<pinned version>
  --google-beta-source  hashicorp/terraform-provider-google-beta, at tag v<pinned version>
  --time-source         hashicorp/terraform-provider-time, at tag v<pinned version>

The provider configuration blocks, and the google-beta types (which no published source holds),
are transcribed from the providers' Go source by this script, by the rules of the plugin SDK and
framework versions they are built with; the transcription of SDK types is checked against the
published hashicorp/google schemas of the same version. Nothing in the fixtures is written by
hand.
`;

/** The configurations whose provider and block types the fixtures must cover. */
const CONFIGURATIONS: Partial<IntegrityResponderProps>[][] = [
  [{}],
  [{ responseMode: 'shutdown' }],
  [{ instanceGroupAction: 'contain-only' }],
  [{ responseMode: 'shutdown', firestoreDatabaseId: '(default)', enableApis: true }],
  [{ requireBaselineApproval: true }],
  [{ namePrefix: 'fleet-a' }, { namePrefix: 'fleet-b', firestoreDatabaseId: '(default)' }],
  [{ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'], notificationChannels: ['projects/p-1234/notificationChannels/1'] }],
  [{ scope: 'folders/5550001', organizationId: '4242', failureAction: 'suspend' }],
  [
    {
      scope: 'organizations/4242',
      containment: ['snapshot', 'quarantine', 'stop'],
      forensicsProjectId: 'fleet-forensics-7',
      raiseFindings: true,
      releasePrincipals: ['group:incident-response@example.com'],
      requireReleaseApproval: true,
    },
  ],
];

const OPTIONS = ['--google-schema', '--time-schema', '--google-source', '--google-beta-source', '--time-source'] as const;
type Option = (typeof OPTIONS)[number];

// ---------------------------------------------------------------------------------------------
// The schema JSON of `terraform providers schema -json`.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Attribute {
  type: Json;
  description?: string;
  description_kind: 'plain' | 'markdown';
  deprecated?: true;
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
}
interface Block {
  attributes?: Record<string, Attribute>;
  block_types?: Record<string, BlockType>;
  description?: string;
  description_kind: 'plain' | 'markdown';
  deprecated?: true;
}
interface BlockType {
  nesting_mode: 'single' | 'list' | 'set' | 'map';
  block: Block;
  min_items?: number;
  max_items?: number;
}
interface Schema {
  version: number;
  block: Block;
}
interface Source {
  repository: string;
  tag?: string;
  commit: string;
  paths?: string[];
  note: string;
}
interface Fixture {
  provider: string;
  version: string;
  source: { provider_schema: Source; types: Source };
  provider_schema: Schema;
  resource_schemas: Record<string, Schema>;
  data_source_schemas: Record<string, Schema>;
  /** `<kind> <type>` to the path, in `source.types`' repository, its schema was read from. */
  paths: Record<string, string>;
  not_covered: string[];
}

type Kind = 'resource' | 'data';

/** The same value with every object's keys sorted, as Go's encoding/json writes a map. */
function sorted<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sorted) as T;
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sorted(v)])) as T;
}

const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

// ---------------------------------------------------------------------------------------------
// The configurations: the providers they pin and the types each provider serves them.

interface Pinned {
  /** The registry address, e.g. registry.terraform.io/hashicorp/google. */
  readonly address: string;
  readonly version: string;
  readonly types: Map<string, Kind>;
}

interface Synthesized {
  readonly resource?: Record<string, Record<string, { provider?: string }>>;
  readonly data?: Record<string, Record<string, { provider?: string }>>;
  readonly terraform: { readonly required_providers: Record<string, { source: string; version: string }> };
}

/** `google` or `hashicorp/google` as Terraform reads a required provider's source. */
function registryAddress(source: string): string {
  const parts = source.toLowerCase().split('/');
  return [...['registry.terraform.io', 'hashicorp'].slice(0, 3 - parts.length), ...parts].join('/');
}

/** Every provider the configurations pin, by local name, with the block types it serves them. */
function pinnedProviders(): Map<string, Pinned> {
  const pinned = new Map<string, Pinned>();
  for (const propsList of CONFIGURATIONS) {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'schemas');
    new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234' });
    propsList.forEach((p, i) => new IntegrityResponder(stack, `Responder${i}`, { projectId: 'fleet-prod-1234', ...p }));
    const doc = JSON.parse(Testing.synth(stack)) as Synthesized;
    for (const [name, { source, version }] of Object.entries(doc.terraform.required_providers)) {
      const known = pinned.get(name);
      if (known !== undefined && known.version !== version) throw new Error(`${name} is pinned at ${known.version} and ${version}`);
      if (known === undefined) pinned.set(name, { address: registryAddress(source), version, types: new Map() });
    }
    for (const [kind, blocks] of [
      ['resource', doc.resource],
      ['data', doc.data],
    ] as const) {
      for (const [type, byId] of Object.entries(blocks ?? {})) {
        for (const body of Object.values(byId)) {
          const local = (body.provider ?? type.split('_')[0]!).split('.')[0]!;
          const provider = pinned.get(local);
          if (provider === undefined) throw new Error(`${kind} ${type} names provider ${local}, which no configuration requires`);
          provider.types.set(`${kind} ${type}`, kind);
        }
      }
    }
  }
  return pinned;
}

// ---------------------------------------------------------------------------------------------
// Git checkouts.

class Checkout {
  constructor(
    readonly dir: string,
    readonly repository: string,
  ) {}

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
  }

  /** `git grep`'s output, empty when nothing matches. */
  grep(...args: string[]): string {
    const found = spawnSync('git', ['-C', this.dir, 'grep', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (found.status !== 0 && found.status !== 1) throw new Error(`git grep ${args.join(' ')}: ${found.stderr}`);
    return found.stdout.trim();
  }

  /** The commit a tag names, or undefined when the checkout has no such tag. */
  tagCommit(tag: string): string | undefined {
    const found = spawnSync('git', ['-C', this.dir, 'rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`], { encoding: 'utf8' });
    return found.status === 0 ? found.stdout.trim() : undefined;
  }

  show(commit: string, path: string): string {
    return this.git('show', `${commit}:${path}`);
  }
}

/** The commit of a provider's source at its release tag. */
function releaseOf(source: Checkout, version: string): { tag: string; commit: string } {
  const tag = `v${version}`;
  const commit = source.tagCommit(tag);
  if (commit === undefined) throw new Error(`${source.dir} (${source.repository}) has no tag ${tag}`);
  return { tag, commit };
}

// ---------------------------------------------------------------------------------------------
// Schemas published by lonegunmanb's *-schema repositories: `terraform providers schema -json`
// of each release, kept as one Go raw-string constant per type, one commit per release.

const versionParts = (v: string) => v.split('.').map(Number);
function compareVersions(a: string, b: string): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The commit that updates a schema repository to each provider version, newest first. */
function schemaReleases(schemas: Checkout): { version: string; commit: string }[] {
  return schemas
    .git('log', '--format=%H %s', '--extended-regexp', '--grep=^update schema to version [0-9.]+$')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [commit, ...subject] = line.split(' ');
      return { version: subject.at(-1)!, commit: commit! };
    });
}

/** `googleCloudfunctions2Function` for `google_cloudfunctions2_function`: the source's file names. */
function fileNameOf(type: string): string {
  return type.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The schema JSON a generated Go file holds in its one raw-string constant (` written as ` + "`" + `). */
function publishedSchema(schemas: Checkout, commit: string, path: string): Schema {
  const go = schemas.show(commit, path);
  const match = /= `(\{[\s\S]*\})`\n/.exec(go);
  if (match === null) throw new Error(`${path} holds no schema constant`);
  return JSON.parse(match[1]!.split('` + "`" + `').join('`')) as Schema;
}

// ---------------------------------------------------------------------------------------------
// Reading Go source: enough of Go's composite literals to read schema definitions.

type Token = { readonly kind: 'string' | 'word' | 'punct'; readonly value: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const word = /[A-Za-z0-9_.]+/y;
  let i = 0;
  const ends = (t: Token | undefined) => t !== undefined && (t.kind !== 'punct' || [')', ']', '}'].includes(t.value));
  while (i < src.length) {
    const c = src[i]!;
    // A newline after a word, literal or closing bracket ends a statement, as Go's semicolon rule says.
    if (c === '\n' && ends(tokens.at(-1))) tokens.push({ kind: 'punct', value: ';' });
    if (/\s/.test(c)) i++;
    else if (src.startsWith('//', i)) i = src.includes('\n', i) ? src.indexOf('\n', i) : src.length;
    else if (src.startsWith('/*', i)) i = src.indexOf('*/', i) + 2;
    else if (c === '"' || c === "'") {
      let j = i + 1;
      while (src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      const text = src.slice(i, j + 1);
      tokens.push(c === '"' ? { kind: 'string', value: JSON.parse(text) as string } : { kind: 'word', value: text });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      tokens.push({ kind: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
    } else if (src.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...' });
      i += 3;
    } else {
      word.lastIndex = i;
      const w = word.exec(src);
      tokens.push(w === null ? { kind: 'punct', value: c } : { kind: 'word', value: w[0] });
      i = w === null ? i + 1 : word.lastIndex;
    }
  }
  return tokens;
}

/** A composite literal (`T{k: v, …}`, T empty where Go lets it be elided), or any other expression. */
type GoValue =
  | { readonly kind: 'composite'; readonly type: string; readonly elements: readonly GoElement[] }
  | { readonly kind: 'expression'; readonly tokens: readonly Token[] };
interface GoElement {
  readonly key?: GoValue;
  readonly value: GoValue;
}

const isPunct = (t: Token | undefined, ...values: string[]) => t?.kind === 'punct' && values.includes(t.value);
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

class GoReader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  /** The one value at the start of the text, e.g. the literal after `return ` or `x = `. */
  static valueAt(src: string, what: string): GoValue {
    return new GoReader(tokenize(src)).value(what);
  }

  /** The one value at the start of the tokens. */
  static valueOf(tokens: Token[], what: string): GoValue {
    return new GoReader(tokens).value(what);
  }

  /** Skips a bracketed group, returning its tokens. */
  private group(): Token[] {
    const open = this.tokens[this.pos]!;
    const stack = [OPENERS[open.value]!];
    const out: Token[] = [open];
    this.pos++;
    while (stack.length > 0) {
      const t = this.tokens[this.pos++];
      if (t === undefined) throw new Error(`unclosed ${open.value}`);
      out.push(t);
      if (t.kind === 'punct' && OPENERS[t.value] !== undefined) stack.push(OPENERS[t.value]!);
      else if (t.kind === 'punct' && t.value === stack.at(-1)) stack.pop();
    }
    return out;
  }

  value(what: string): GoValue {
    const prefix: Token[] = [];
    for (;;) {
      const t = this.tokens[this.pos];
      if (t === undefined) throw new Error(`${what}: the source ends inside a value`);
      if (isPunct(t, ',', '}', ':', ';')) return { kind: 'expression', tokens: prefix };
      if (isPunct(t, '(', '[') || (isPunct(t, '{') && prefix[0]?.value === 'func')) {
        prefix.push(...this.group());
        continue;
      }
      if (isPunct(t, '{')) {
        this.pos++;
        const elements = this.elements(what);
        const composite: GoValue = { kind: 'composite', type: prefix.map((p) => p.value).join(''), elements };
        if (!isPunct(this.tokens[this.pos], '.', '...', '(', '[')) return composite;
        prefix.push({ kind: 'word', value: `${composite.type}{…}` });
        continue;
      }
      prefix.push(t);
      this.pos++;
    }
  }

  private elements(what: string): GoElement[] {
    const elements: GoElement[] = [];
    while (!isPunct(this.tokens[this.pos], '}')) {
      const first = this.value(what);
      if (isPunct(this.tokens[this.pos], ':')) {
        this.pos++;
        elements.push({ key: first, value: this.value(what) });
      } else elements.push({ value: first });
      if (isPunct(this.tokens[this.pos], ',')) this.pos++;
      else if (!isPunct(this.tokens[this.pos], '}')) throw new Error(`${what}: expected , or } after an element`);
    }
    this.pos++;
    return elements;
  }
}

const textOf = (v: GoValue) => (v.kind === 'composite' ? `${v.type}{…}` : v.tokens.map((t) => t.value).join(''));

/** A string literal, or a sum of string literals. */
function stringOf(v: GoValue, what: string): string {
  const tokens = v.kind === 'expression' ? v.tokens : [];
  const ok = tokens.length % 2 === 1 && tokens.every((t, i) => (i % 2 === 0 ? t.kind === 'string' : isPunct(t, '+')));
  if (!ok) throw new Error(`${what}: ${textOf(v)} is not a string literal`);
  return tokens
    .filter((t) => t.kind === 'string')
    .map((t) => t.value)
    .join('');
}

function boolOf(v: GoValue, what: string): boolean {
  const text = textOf(v);
  if (text !== 'true' && text !== 'false') throw new Error(`${what}: ${text} is not true or false`);
  return text === 'true';
}

function intOf(v: GoValue, what: string): number {
  const text = textOf(v);
  if (!/^[0-9]+$/.test(text)) throw new Error(`${what}: ${text} is not an integer literal`);
  return Number(text);
}

function compositeOf(v: GoValue, types: readonly string[], what: string): Extract<GoValue, { kind: 'composite' }> {
  if (v.kind !== 'composite' || !types.includes(v.type)) throw new Error(`${what}: ${textOf(v)} is not a ${types.join(' or ')} literal`);
  return v;
}

/**
 * The fields of a keyed literal: every key must be one it handles or one that does not change the
 * schema Terraform is told (validators, plan and diff functions, CRUD functions), else it throws,
 * so that nothing the conversion does not know is passed over in silence.
 */
function fieldsOf(v: GoValue, handled: readonly string[], ignored: readonly string[], what: string): Map<string, GoValue> {
  if (v.kind !== 'composite') throw new Error(`${what}: ${textOf(v)} is not a literal`);
  const fields = new Map<string, GoValue>();
  for (const e of v.elements) {
    const key = e.key === undefined ? undefined : textOf(e.key);
    if (key === undefined || !/^[A-Za-z]\w*$/.test(key)) throw new Error(`${what}: an element without a field name`);
    if (ignored.includes(key)) continue;
    if (!handled.includes(key)) throw new Error(`${what}: field ${key} is not one this conversion knows`);
    fields.set(key, e.value);
  }
  return fields;
}

/** The tokens of the body of the first function whose signature matches (up to its opening brace). */
function functionBody(src: string, signature: RegExp, what: string): Token[] {
  const match = signature.exec(src);
  if (match === null) throw new Error(`${what}: no function ${signature.source}`);
  const tokens = tokenize(src.slice(match.index + match[0].length - 1));
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (isPunct(tokens[i], '{')) depth++;
    if (isPunct(tokens[i], '}') && --depth === 0) return tokens.slice(1, i);
  }
  throw new Error(`${what}: the function never ends`);
}

const describe = (d: string | undefined, markdown = false) =>
  d ? { description: d, description_kind: markdown ? ('markdown' as const) : ('plain' as const) } : { description_kind: 'plain' as const };
const flag = (set: boolean) => (set ? (true as const) : undefined);

// ---------------------------------------------------------------------------------------------
// terraform-plugin-framework (v1.15.0 internal/toproto5): provider schemas of the framework.

const FRAMEWORK_ATTRIBUTES: Record<string, string> = {
  'schema.StringAttribute': 'string',
  'schema.BoolAttribute': 'bool',
  'schema.Int64Attribute': 'number',
  'schema.Int32Attribute': 'number',
  'schema.Float64Attribute': 'number',
  'schema.Float32Attribute': 'number',
  'schema.NumberAttribute': 'number',
  'schema.ListAttribute': 'list',
  'schema.SetAttribute': 'set',
  'schema.MapAttribute': 'map',
};
const FRAMEWORK_ELEMENT_TYPES: Record<string, string> = {
  'types.StringType': 'string',
  'types.BoolType': 'bool',
  'types.Int64Type': 'number',
  'types.Int32Type': 'number',
  'types.Float64Type': 'number',
  'types.Float32Type': 'number',
  'types.NumberType': 'number',
};
const FRAMEWORK_BLOCKS: Record<string, BlockType['nesting_mode']> = {
  'schema.ListNestedBlock': 'list',
  'schema.SetNestedBlock': 'set',
  'schema.SingleNestedBlock': 'single',
};
const DESCRIBED = ['Description', 'MarkdownDescription', 'DeprecationMessage'];

function frameworkAttribute(v: GoValue, what: string): Attribute {
  const type = v.kind === 'composite' ? FRAMEWORK_ATTRIBUTES[v.type.replace(/^&/, '')] : undefined;
  if (type === undefined) throw new Error(`${what}: ${textOf(v)} is not an attribute this conversion knows`);
  const f = fieldsOf(v, ['Optional', 'Required', 'Computed', 'Sensitive', 'ElementType', ...DESCRIBED], ['Validators'], what);
  const is = (name: string) => (f.has(name) ? boolOf(f.get(name)!, `${what}.${name}`) : false);
  let jsonType: Json = type;
  if (['list', 'set', 'map'].includes(type)) {
    const element = FRAMEWORK_ELEMENT_TYPES[f.has('ElementType') ? textOf(f.get('ElementType')!) : ''];
    if (element === undefined) throw new Error(`${what}: an element type this conversion does not know`);
    jsonType = [type, element];
  }
  const markdown = f.has('MarkdownDescription');
  const description = f.has(markdown ? 'MarkdownDescription' : 'Description')
    ? stringOf(f.get(markdown ? 'MarkdownDescription' : 'Description')!, what)
    : undefined;
  return {
    type: jsonType,
    ...describe(description, markdown),
    deprecated: flag(f.has('DeprecationMessage')),
    required: flag(is('Required')),
    optional: flag(is('Optional')),
    computed: flag(is('Computed')),
    sensitive: flag(is('Sensitive')),
  };
}

/** The block of a framework `schema.Schema{…}`, `schema.NestedBlockObject{…}` or single nested block. */
function frameworkBlock(fields: Map<string, GoValue>, what: string): Block {
  const attributes = fields.has('Attributes')
    ? compositeOf(fields.get('Attributes')!, ['map[string]schema.Attribute'], `${what}.Attributes`).elements
    : [];
  const blocks = fields.has('Blocks') ? compositeOf(fields.get('Blocks')!, ['map[string]schema.Block'], `${what}.Blocks`).elements : [];
  const block: Block = { description_kind: 'plain' };
  if (attributes.length > 0) {
    block.attributes = Object.fromEntries(
      attributes.map((e) => {
        const name = stringOf(e.key!, what);
        return [name, frameworkAttribute(e.value, `${what}.${name}`)];
      }),
    );
  }
  if (blocks.length > 0) {
    block.block_types = Object.fromEntries(
      blocks.map((e) => {
        const name = stringOf(e.key!, what);
        const at = `${what}.${name}`;
        const nesting = e.value.kind === 'composite' ? FRAMEWORK_BLOCKS[e.value.type.replace(/^&/, '')] : undefined;
        if (nesting === undefined) throw new Error(`${at}: ${textOf(e.value)} is not a block this conversion knows`);
        const f =
          nesting === 'single'
            ? fieldsOf(e.value, ['Attributes', 'Blocks', ...DESCRIBED], ['Validators'], at)
            : fieldsOf(e.value, ['NestedObject', ...DESCRIBED], ['Validators'], at);
        const inner =
          nesting === 'single'
            ? f
            : fieldsOf(
                compositeOf(f.get('NestedObject')!, ['schema.NestedBlockObject'], `${at}.NestedObject`),
                ['Attributes', 'Blocks'],
                ['Validators'],
                at,
              );
        const nested = frameworkBlock(inner, at);
        const markdown = f.has('MarkdownDescription');
        const description = f.has(markdown ? 'MarkdownDescription' : 'Description')
          ? stringOf(f.get(markdown ? 'MarkdownDescription' : 'Description')!, at)
          : undefined;
        Object.assign(nested, describe(description, markdown), { deprecated: flag(f.has('DeprecationMessage')) });
        return [name, { nesting_mode: nesting, block: nested }];
      }),
    );
  }
  return block;
}

/** The provider schema a framework provider's `Schema` method sets (an empty block when it sets none). */
function frameworkProviderSchema(src: string, what: string): Schema {
  const body = functionBody(src, /^func \(\w* ?\*\w+\) Schema\([^)]*\) \{/m, what);
  if (body.every((t) => isPunct(t, ';'))) return { version: 0, block: { description_kind: 'plain' } };
  const at = body.findIndex((t, i) => t.value === 'resp.Schema' && isPunct(body[i + 1], '='));
  if (at < 0) throw new Error(`${what}: the Schema method sets no resp.Schema`);
  const literal = GoReader.valueOf(body.slice(at + 2), what);
  const fields = fieldsOf(compositeOf(literal, ['schema.Schema'], what), ['Attributes', 'Blocks', ...DESCRIBED], [], what);
  const block = frameworkBlock(fields, what);
  if (fields.has('Description')) Object.assign(block, describe(stringOf(fields.get('Description')!, what)));
  return { version: 0, block };
}

// ---------------------------------------------------------------------------------------------
// terraform-plugin-sdk/v2 (v2.37.0 helper/schema/core_schema.go): how a helper/schema map is
// lowered to the schema Terraform is told.

const SDK_TYPES: Record<string, string> = {
  'schema.TypeString': 'string',
  'schema.TypeBool': 'bool',
  'schema.TypeInt': 'number',
  'schema.TypeFloat': 'number',
  'schema.TypeList': 'list',
  'schema.TypeSet': 'set',
  'schema.TypeMap': 'map',
};
const SDK_SCHEMA_FIELDS = [
  'Type',
  'Optional',
  'Required',
  'Computed',
  'Sensitive',
  'Description',
  'Deprecated',
  'Elem',
  'MinItems',
  'MaxItems',
  'DefaultFunc',
];
const SDK_SCHEMA_IGNORED = [
  'ForceNew',
  'Default',
  'ValidateFunc',
  'ValidateDiagFunc',
  'ConflictsWith',
  'ExactlyOneOf',
  'AtLeastOneOf',
  'RequiredWith',
  'DiffSuppressFunc',
  'DiffSuppressOnRefresh',
  'StateFunc',
  'Set',
  'ComputedWhen',
  'InputDefault',
];
const SDK_RESOURCE_FIELDS = ['Schema', 'SchemaVersion', 'Timeouts', 'Description', 'DeprecationMessage'];
const SDK_RESOURCE_IGNORED = [
  'Create',
  'Read',
  'Update',
  'Delete',
  'CreateContext',
  'ReadContext',
  'UpdateContext',
  'DeleteContext',
  'CreateWithoutTimeout',
  'ReadWithoutTimeout',
  'UpdateWithoutTimeout',
  'DeleteWithoutTimeout',
  'Exists',
  'Importer',
  'CustomizeDiff',
  'UseJSONNumber',
  'StateUpgraders',
  'MigrateState',
  'Identity',
  'ResourceBehavior',
];

/** Finds `var Name = …` (or const) for a package-qualified identifier in the given files. */
type Resolver = (identifier: string, what: string) => GoValue;
function resolverOver(files: readonly string[]): Resolver {
  return (identifier, what) => {
    const name = identifier.split('.').at(-1)!;
    for (const src of files) {
      const match = new RegExp(`^(?:var|const) ${name} = `, 'm').exec(src);
      if (match !== null) return GoReader.valueAt(src.slice(match.index + match[0].length), `${what} (${name})`);
    }
    throw new Error(`${what}: ${identifier} is defined in none of the files read`);
  };
}

/** The core type of an SDK schema used as an attribute (coreConfigSchemaType). */
function sdkType(f: Map<string, GoValue>, what: string): Json {
  const type = SDK_TYPES[f.has('Type') ? textOf(f.get('Type')!) : ''];
  if (type === undefined) throw new Error(`${what}: a Type this conversion does not know`);
  if (!['list', 'set', 'map'].includes(type)) return type;
  const elem = f.get('Elem');
  if (elem === undefined) return [type, 'string'];
  if (elem.kind === 'expression' && SDK_TYPES[textOf(elem)] !== undefined) return [type, SDK_TYPES[textOf(elem)]!];
  const inner = compositeOf(elem, ['&schema.Schema', '&schema.Resource'], `${what}.Elem`);
  if (inner.type === '&schema.Resource') throw new Error(`${what}: an attribute of objects, which this conversion does not lower`);
  return [type, sdkType(fieldsOf(inner, SDK_SCHEMA_FIELDS, SDK_SCHEMA_IGNORED, `${what}.Elem`), `${what}.Elem`)];
}

/** schemaMap.CoreConfigSchema: a map of helper/schema schemas as a block. */
function sdkBlock(map: GoValue, resolve: Resolver, what: string): Block {
  const block: Block = { description_kind: 'plain' };
  const elements = compositeOf(map, ['map[string]*schema.Schema'], what).elements;
  for (const e of elements) {
    const key = e.key!;
    const name =
      key.kind === 'expression' && key.tokens[0]?.kind === 'string' ? stringOf(key, what) : stringOf(resolve(textOf(key), what), what);
    const at = `${what}.${name}`;
    const value = e.value.kind === 'expression' ? resolve(textOf(e.value), at) : e.value;
    const f = fieldsOf(compositeOf(value, ['', '&schema.Schema'], at), SDK_SCHEMA_FIELDS, SDK_SCHEMA_IGNORED, at);
    const is = (field: string) => (f.has(field) ? boolOf(f.get(field)!, `${at}.${field}`) : false);
    const description = f.has('Description') ? stringOf(f.get('Description')!, at) : undefined;
    const elem = f.get('Elem');
    const type = textOf(f.get('Type') ?? { kind: 'expression', tokens: [] });
    const ofResource = elem?.kind === 'composite' && elem.type === '&schema.Resource';
    if (ofResource && type === 'schema.TypeMap') throw new Error(`${at}: a map of resources, which this conversion does not lower`);
    if (ofResource && !(is('Computed') && !is('Optional'))) {
      const resource = fieldsOf(elem, ['Schema'], [], `${at}.Elem`);
      const nested = sdkBlock(resource.get('Schema')!, resolve, at);
      Object.assign(nested, describe(description), { deprecated: flag(f.has('Deprecated')) });
      const nesting = ({ 'schema.TypeList': 'list', 'schema.TypeSet': 'set' } as const)[type as 'schema.TypeList'];
      if (nesting === undefined) throw new Error(`${at}: ${type} of a resource`);
      let min = f.has('MinItems') ? intOf(f.get('MinItems')!, at) : 0;
      let max = f.has('MaxItems') ? intOf(f.get('MaxItems')!, at) : 0;
      if (is('Required') && min === 0) min = 1;
      if (is('Optional') && min > 0) min = 0;
      if (is('Computed') && !is('Optional')) [min, max] = [0, 0];
      block.block_types = {
        ...block.block_types,
        [name]: { nesting_mode: nesting, block: nested, min_items: min || undefined, max_items: max || undefined },
      };
      continue;
    }
    if (is('Required') && f.has('DefaultFunc')) throw new Error(`${at}: Required with a DefaultFunc, which depends on the environment`);
    block.attributes = {
      ...block.attributes,
      [name]: {
        type: sdkType(f, at),
        ...describe(description),
        deprecated: flag(f.has('Deprecated')),
        required: flag(is('Required')),
        optional: flag(is('Optional')),
        computed: flag(is('Computed')),
        sensitive: flag(is('Sensitive')),
      },
    };
  }
  return block;
}

/** Resource.CoreConfigSchema: an SDK resource (or data source) as Terraform is told it. */
function sdkResourceSchema(literal: GoValue, resolve: Resolver, what: string): Schema {
  const f = fieldsOf(compositeOf(literal, ['&schema.Resource'], what), SDK_RESOURCE_FIELDS, SDK_RESOURCE_IGNORED, what);
  if (!f.has('Schema')) throw new Error(`${what}: no Schema map`);
  const block = sdkBlock(f.get('Schema')!, resolve, what);
  Object.assign(block, describe(f.has('Description') ? stringOf(f.get('Description')!, what) : undefined), {
    deprecated: flag(f.has('DeprecationMessage')),
  });
  block.attributes ??= {};
  block.attributes.id ??= { type: 'string', description_kind: 'plain', optional: true, computed: true };
  if (f.has('Timeouts') && block.attributes.timeouts === undefined && block.block_types?.timeouts === undefined) {
    const timeouts = fieldsOf(f.get('Timeouts')!, ['Create', 'Read', 'Update', 'Delete', 'Default'], [], `${what}.Timeouts`);
    const attributes: Record<string, Attribute> = {};
    for (const name of timeouts.keys()) attributes[name.toLowerCase()] = { type: 'string', description_kind: 'plain', optional: true };
    block.block_types = { ...block.block_types, timeouts: { nesting_mode: 'single', block: { attributes, description_kind: 'plain' } } };
  }
  return { version: f.has('SchemaVersion') ? intOf(f.get('SchemaVersion')!, what) : 0, block };
}

/** The provider block of an SDK provider: `provider := &schema.Provider{Schema: …}`. */
function sdkProviderSchema(src: string, resolve: Resolver, what: string): Schema {
  const at = /^\tprovider := /m.exec(src);
  if (at === null) throw new Error(`${what}: no provider := literal`);
  const literal = GoReader.valueAt(src.slice(at.index + at[0].length), what);
  const provider = compositeOf(literal, ['&schema.Provider'], what);
  const schema = provider.elements.find((e) => e.key !== undefined && textOf(e.key) === 'Schema');
  if (schema === undefined) throw new Error(`${what}: the provider has no Schema`);
  return { version: 0, block: sdkBlock(schema.value, resolve, what) };
}

/** `registry.terraform.io/hashicorp/google-beta`'s source layout: `google-beta/provider/…`. */
interface SdkProviderSource {
  readonly checkout: Checkout;
  readonly commit: string;
  /** The provider's package folder, e.g. google or google-beta. */
  readonly root: string;
}

/**
 * The SDK schema of a type as its provider registers it (`"type": pkg.ResourceX(),` in the
 * provider's maps), with the path it was read from; undefined with a reason when the type is not
 * registered by a plain function of a package (IAM types are built by generic functions).
 */
function sdkTypeSchema(src: SdkProviderSource, kind: Kind, type: string): { schema: Schema; path: string } | { reason: string } {
  const registrations = src.checkout
    .grep('-h', '-E', `"${type}":`, src.commit, '--', `${src.root}/provider/`)
    .split('\n')
    .map((line) => new RegExp(`^\\s*"${type}":\\s+(\\w+)\\.(${kind === 'data' ? 'DataSource' : 'Resource'}\\w*)\\(\\),`).exec(line))
    .filter((m) => m !== null);
  if (registrations.length !== 1) return { reason: `not registered as ${kind} by one plain function` };
  const [, pkg, fn] = registrations[0]!;
  const files = src.checkout
    .grep('-l', '-E', `^func ${fn}\\(\\) \\*schema\\.Resource \\{`, src.commit, '--', `${src.root}/services/${pkg}/`)
    .split('\n')
    .map((line) => line.replace(`${src.commit}:`, ''));
  if (files.length !== 1 || files[0] === '') return { reason: `${fn} not found in ${src.root}/services/${pkg!}/` };
  const path = files[0]!;
  const go = src.checkout.show(src.commit, path);
  try {
    const body = functionBody(go, new RegExp(`^func ${fn}\\(\\) \\*schema\\.Resource \\{`, 'm'), path);
    if (body[0]?.value !== 'return') return { reason: `${fn} does not return one literal` };
    return { schema: sdkResourceSchema(GoReader.valueOf(body.slice(1), `${path} ${fn}`), resolverOver([go]), `${kind} ${type}`), path };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

/**
 * The provider block of the google providers at a release: the plugin-framework schema
 * (fwprovider/framework_provider.go), which terraform-plugin-mux v0.20.0 serves, being the last of
 * its servers whose provider schemas agree; checked against the SDKv2 one (provider/provider.go,
 * with the entries it takes from transport/provider_handwritten_endpoint.go) as the mux checks
 * them: equal but for blocks' min and max items.
 */
function googleProviderSchema(src: SdkProviderSource, muxVersion: string): { schema: Schema; paths: string[] } {
  const paths = [
    `${src.root}/fwprovider/framework_provider.go`,
    `${src.root}/provider/provider.go`,
    `${src.root}/transport/provider_handwritten_endpoint.go`,
  ];
  const [framework, sdk, endpoints] = paths.map((p) => src.checkout.show(src.commit, p)) as [string, string, string];
  const mux = /github\.com\/hashicorp\/terraform-plugin-mux (v[0-9.]+)/.exec(src.checkout.show(src.commit, 'go.mod'))?.[1];
  if (mux !== muxVersion) throw new Error(`${src.checkout.repository} is built with terraform-plugin-mux ${mux}, not ${muxVersion}`);
  const main = src.checkout.show(src.commit, 'main.go');
  if (!/primary\.GRPCProvider,[^\n]*\n\s*providerserver\.NewProtocol5\(fwprovider\.New\(primary\)\)/.test(main)) {
    throw new Error(`${src.checkout.repository}: main.go no longer muxes the SDK provider first and the framework provider second`);
  }
  const served = frameworkProviderSchema(framework, paths[0]!);
  const checked = sdkProviderSchema(sdk, resolverOver([endpoints]), paths[1]!);
  const withoutItems = (s: Schema) =>
    JSON.parse(JSON.stringify(s), (k: string, v: unknown) => (k === 'min_items' || k === 'max_items' ? undefined : v)) as Schema;
  if (!same(withoutItems(served), withoutItems(checked))) {
    const names = (s: Schema) => [...Object.keys(s.block.attributes ?? {}), ...Object.keys(s.block.block_types ?? {})];
    const only = (a: Schema, b: Schema) => names(a).filter((n) => !names(b).includes(n));
    throw new Error(
      `${src.checkout.repository}: the framework and SDK provider schemas differ ` +
        `(framework only: ${only(served, checked).join(', ') || '-'}; SDK only: ${only(checked, served).join(', ') || '-'})`,
    );
  }
  return { schema: served, paths };
}

// ---------------------------------------------------------------------------------------------
// The three providers.

const MUX_VERSION = 'v0.20.0';
const PROVIDER_SCHEMA_NOTE =
  'transcribed from the Go source by scripts/terraform-schemas.ts: the plugin-framework provider schema ' +
  '(fwprovider/framework_provider.go), which terraform-plugin-mux v0.20.0 serves as the last of the muxed servers, ' +
  'checked equal to the SDKv2 one (provider/provider.go, transport/provider_handwritten_endpoint.go) but for ' +
  "blocks' min and max items, as the mux checks them; lowered by the rules of terraform-plugin-framework v1.15.0 " +
  '(internal/toproto5) and terraform-plugin-sdk v2.37.0 (helper/schema/core_schema.go)';

function emptyFixture(pinned: Pinned): Fixture {
  return {
    provider: pinned.address,
    version: pinned.version,
    source: {} as Fixture['source'],
    provider_schema: { version: 0, block: { description_kind: 'plain' } },
    resource_schemas: {},
    data_source_schemas: {},
    paths: {},
    not_covered: [],
  };
}

const into = (f: Fixture, kind: Kind) => (kind === 'resource' ? f.resource_schemas : f.data_source_schemas);
const typeName = (key: string) => key.split(' ')[1]!;

function googleFixture(pinned: Pinned, schemas: Checkout, source: Checkout): Fixture {
  const fixture = emptyFixture(pinned);
  const release = schemaReleases(schemas).find((r) => r.version === pinned.version);
  if (release === undefined) throw new Error(`no commit of ${schemas.dir} updates the schema to ${pinned.version}`);
  const tagged = releaseOf(source, pinned.version);
  const src: SdkProviderSource = { checkout: source, commit: tagged.commit, root: 'google' };
  for (const [key, kind] of [...pinned.types].sort(([a], [b]) => a.localeCompare(b))) {
    const path = `generated/${kind}/${fileNameOf(typeName(key))}.go`;
    into(fixture, kind)[typeName(key)] = publishedSchema(schemas, release.commit, path);
    fixture.paths[key] = path;
  }
  const { schema, paths } = googleProviderSchema(src, MUX_VERSION);
  fixture.provider_schema = schema;
  fixture.source = {
    provider_schema: { repository: source.repository, tag: tagged.tag, commit: tagged.commit, paths, note: PROVIDER_SCHEMA_NOTE },
    types: {
      repository: schemas.repository,
      commit: release.commit,
      note: '`terraform providers schema -json` of the provider release, kept by that repository as one Go string constant per type',
    },
  };
  return fixture;
}

/**
 * The SDK lowering checked against published schemas: every resource and data-source type of the
 * google fixture that its source registers by a plain function must come out equal.
 */
function checkSdkLowering(google: Fixture, source: Checkout): { checked: string[]; skipped: string[] } {
  const src: SdkProviderSource = { checkout: source, commit: releaseOf(source, google.version).commit, root: 'google' };
  const checked: string[] = [];
  const skipped: string[] = [];
  for (const key of Object.keys(google.paths)) {
    const kind = key.split(' ')[0] as Kind;
    const found = sdkTypeSchema(src, kind, typeName(key));
    if ('reason' in found) {
      skipped.push(`${key}: ${found.reason}`);
      continue;
    }
    if (!same(found.schema, into(google, kind)[typeName(key)])) {
      throw new Error(`the SDK lowering of ${key} (${found.path}) differs from its published schema`);
    }
    checked.push(key);
  }
  if (checked.length === 0) throw new Error('no published google type could check the SDK lowering');
  return { checked, skipped };
}

function googleBetaFixture(pinned: Pinned, source: Checkout, lowering: { checked: string[] }): Fixture {
  const fixture = emptyFixture(pinned);
  const tagged = releaseOf(source, pinned.version);
  const src: SdkProviderSource = { checkout: source, commit: tagged.commit, root: 'google-beta' };
  for (const [key, kind] of [...pinned.types].sort(([a], [b]) => a.localeCompare(b))) {
    const found = sdkTypeSchema(src, kind, typeName(key));
    if ('reason' in found) {
      fixture.not_covered.push(`${key}: ${found.reason}`);
      continue;
    }
    into(fixture, kind)[typeName(key)] = found.schema;
    fixture.paths[key] = found.path;
  }
  const { schema, paths } = googleProviderSchema(src, MUX_VERSION);
  fixture.provider_schema = schema;
  const provenance = { repository: source.repository, tag: tagged.tag, commit: tagged.commit };
  fixture.source = {
    provider_schema: { ...provenance, paths, note: PROVIDER_SCHEMA_NOTE },
    types: {
      ...provenance,
      note:
        'no published `terraform providers schema -json` of google-beta was found: transcribed from the Go source ' +
        '(the SDKv2 resource each type is registered with in google-beta/provider/) by scripts/terraform-schemas.ts, ' +
        'lowered by the rules of terraform-plugin-sdk v2.37.0 (helper/schema/core_schema.go); the same lowering gives ' +
        `the published hashicorp/google ${pinned.version} schema of ${lowering.checked.length} of the google fixture's types ` +
        `(${lowering.checked.map(typeName).join(', ')})`,
    },
  };
  return fixture;
}

function timeFixture(pinned: Pinned, schemas: Checkout, source: Checkout): Fixture {
  const fixture = emptyFixture(pinned);
  const tagged = releaseOf(source, pinned.version);
  const release = schemaReleases(schemas)
    .filter((r) => compareVersions(r.version, pinned.version) <= 0)
    .sort((a, b) => compareVersions(b.version, a.version))[0];
  if (release === undefined) throw new Error(`${schemas.dir} has no schema at or before ${pinned.version}`);
  let equivalence = '';
  if (release.version !== pinned.version) {
    const from = releaseOf(source, release.version);
    const diff = spawnSync('git', ['-C', source.dir, 'diff', '--quiet', from.commit, tagged.commit, '--', 'internal/']);
    if (diff.status !== 0) {
      throw new Error(
        `${source.repository} differs under internal/ between v${release.version} and v${pinned.version}: no published schema fits`,
      );
    }
    equivalence =
      `; that repository has no ${pinned.version}: this is its ${release.version}, and ${source.repository} has no change ` +
      `under internal/ (where every schema is defined) from v${release.version} (${from.commit}) to v${pinned.version} (${tagged.commit})`;
  }
  for (const [key, kind] of [...pinned.types].sort(([a], [b]) => a.localeCompare(b))) {
    const path = `generated/${kind}/${fileNameOf(typeName(key))}.go`;
    into(fixture, kind)[typeName(key)] = publishedSchema(schemas, release.commit, path);
    fixture.paths[key] = path;
  }
  const providerPath = 'internal/provider/provider.go';
  fixture.provider_schema = frameworkProviderSchema(source.show(tagged.commit, providerPath), providerPath);
  fixture.source = {
    provider_schema: {
      repository: source.repository,
      tag: tagged.tag,
      commit: tagged.commit,
      paths: [providerPath],
      note:
        'transcribed from the Go source by scripts/terraform-schemas.ts: the Schema method of the provider sets no schema, ' +
        'which terraform-plugin-framework serves as an empty block',
    },
    types: {
      repository: schemas.repository,
      commit: release.commit,
      note:
        '`terraform providers schema -json` of the provider release, kept by that repository as one Go string constant per type' +
        equivalence,
    },
  };
  return fixture;
}

// ---------------------------------------------------------------------------------------------

function parseOptions(args: string[]): Record<Option, string> {
  const given: Partial<Record<Option, string>> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i]!, args[i + 1]];
    if (!(OPTIONS as readonly string[]).includes(name) || value === undefined || value.startsWith('-') || given[name as Option]) {
      process.stderr.write(`terraform-schemas: ${name} is not an option here, or has no directory, or is given twice\n\n${USAGE}`);
      process.exit(2);
    }
    given[name as Option] = value;
  }
  const missing = OPTIONS.filter((o) => given[o] === undefined);
  if (missing.length > 0) {
    process.stderr.write(`terraform-schemas: missing ${missing.join(', ')}\n\n${USAGE}`);
    process.exit(2);
  }
  return given as Record<Option, string>;
}

function main(): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const o = parseOptions(args);
  const gh = (name: string) => `https://github.com/${name}`;
  const checkouts = {
    googleSchema: new Checkout(o['--google-schema'], gh('lonegunmanb/terraform-google-schema')),
    timeSchema: new Checkout(o['--time-schema'], gh('lonegunmanb/terraform-time-schema')),
    google: new Checkout(o['--google-source'], gh('hashicorp/terraform-provider-google')),
    googleBeta: new Checkout(o['--google-beta-source'], gh('hashicorp/terraform-provider-google-beta')),
    time: new Checkout(o['--time-source'], gh('hashicorp/terraform-provider-time')),
  };
  const pinned = pinnedProviders();
  const fixtures: Fixture[] = [];
  let lowering: ReturnType<typeof checkSdkLowering> | undefined;
  for (const p of pinned.values()) {
    if (p.address === 'registry.terraform.io/hashicorp/google') {
      const google = googleFixture(p, checkouts.googleSchema, checkouts.google);
      lowering = checkSdkLowering(google, checkouts.google);
      fixtures.push(google);
    }
  }
  for (const [name, p] of pinned) {
    if (p.address === 'registry.terraform.io/hashicorp/google') continue;
    if (p.address === 'registry.terraform.io/hashicorp/google-beta') {
      if (lowering === undefined) throw new Error('google-beta is pinned without google, whose published schemas check its transcription');
      fixtures.push(googleBetaFixture(p, checkouts.googleBeta, lowering));
    } else if (p.address === 'registry.terraform.io/hashicorp/time') fixtures.push(timeFixture(p, checkouts.timeSchema, checkouts.time));
    else throw new Error(`provider ${name} (${p.address}) has no source this script knows`);
  }
  for (const fixture of fixtures) {
    const out = join('testkit', 'terraform', 'schemas', `${fixture.provider.split('/').at(-1)!}-${fixture.version}.json`);
    const written: Fixture = {
      ...fixture,
      provider_schema: sorted(fixture.provider_schema),
      resource_schemas: sorted(fixture.resource_schemas),
      data_source_schemas: sorted(fixture.data_source_schemas),
    };
    writeFileSync(out, `${JSON.stringify(written, null, 1)}\n`);
    process.stdout.write(
      `terraform-schemas: wrote ${out}: the provider block, ${Object.keys(fixture.resource_schemas).length} resource and ` +
        `${Object.keys(fixture.data_source_schemas).length} data-source schemas; not covered: ${fixture.not_covered.join(', ') || 'none'}\n`,
    );
  }
  if (lowering !== undefined) {
    process.stdout.write(
      `terraform-schemas: the SDK lowering gives the published schema of ${lowering.checked.length} google types; ` +
        `not checked: ${lowering.skipped.join('; ') || 'none'}\n`,
    );
  }
}

main();
