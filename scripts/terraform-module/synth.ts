import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { IResolvable, TerraformOutput, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps, IntegrityResponderPropsError } from '../../lib';
import type { Choice, Point } from './choices';
import type { Json } from './hcl';
import type { Doc, Synth } from './merge';
import type { Input, InputType, ModuleSpec } from './spec';

/*
 * The construct synthesized for one combination of a module's choices, as the module writes it:
 * the stack's provider configurations, variables and backend left out (a module configures no
 * provider, and declares its own variables), the function zip read from the module's folder,
 * and the construct's sentences naming the module's variables instead of its props.
 */

/** Id of the construct in every synthesized stack: the resources' logical ids start with it, as in a stack that names its responder so. */
const RESPONDER_ID = 'Responder';

/** An output of the module: a field of the construct a caller wires. */
export interface OutputSpec {
  readonly name: string;
  /** The construct's field whose TSDoc describes it. */
  readonly field: string;
  /** The description, instead of the field's TSDoc. */
  readonly description?: string;
  /** Its value: a reference to the resource it names where there is one, so that a caller that uses it waits for it. */
  readonly value: (r: IntegrityResponder) => string | IResolvable;
}

/** The outputs every module has. */
export const OUTPUTS: readonly OutputSpec[] = [
  { name: 'topic', field: 'topic', value: (r) => r.topic.id },
  { name: 'function_name', field: 'function', description: 'Name of the Gen2 Cloud Run function.', value: (r) => r.function.name },
  {
    name: 'function_uri',
    field: 'function',
    description: "The function's `run.app` URL (internal ingress only), which the push subscription calls.",
    value: (r) => r.function.serviceConfig.uri,
  },
  { name: 'scope', field: 'scope', value: (r) => r.scope },
  {
    name: 'sink_writer_identity',
    field: 'sink',
    description: "The log sink's writer identity, which holds `roles/pubsub.publisher` on the topic.",
    value: (r) => r.sink.writerIdentity,
  },
  {
    name: 'dead_letter_subscription',
    field: 'delivery',
    description: 'Subscription of the dead-letter topic: events Pub/Sub gave up delivering, to read or replay.',
    value: (r) => r.delivery.deadLetterSubscription.id,
  },
  { name: 'runtime_service_account', field: 'runtimeServiceAccount', value: (r) => r.runtimeServiceAccount.email },
  { name: 'trigger_service_account', field: 'triggerServiceAccount', value: (r) => r.triggerServiceAccount.email },
  { name: 'build_service_account', field: 'buildServiceAccount', value: (r) => r.buildServiceAccount.email },
  {
    name: 'instance_role',
    field: 'instanceRole',
    description:
      'Name of the custom role holding exactly the Compute permissions of the response mode: a project role for a project scope, an organization role for a folder or organization scope.',
    value: (r) => r.instanceRole.name,
  },
  {
    name: 'baseline_database',
    field: 'databaseId',
    description:
      'Id of the Firestore database the function reads baselines from: the dedicated one the module creates, or `firestore_database_id`. Null in the `shutdown` mode, which reads no baselines.',
    // The construct still tells a shutdown-mode function a database id, one it never reads and (unless given) never creates.
    value: (r) => (r.database ? r.database.name : r.responseMode === 'shutdown' ? Token.nullValue() : r.databaseId),
  },
  { name: 'baseline_collection', field: 'baselineCollection', value: (r) => r.baselineCollection },
  {
    name: 'ledger_database',
    field: 'ledgerDatabaseId',
    description: 'Id of the Firestore database holding the decision ledger: every acted-on report, written before the action.',
    value: (r) => r.ledgerDatabase.name,
  },
  {
    name: 'source_bucket',
    field: 'sourceBucket',
    description: 'Name of the bucket holding the function source.',
    value: (r) => r.sourceBucket.name,
  },
];

/** The path of the function zip from a module's folder: the module root holds the one zip. */
function zipPathOf(spec: ModuleSpec): string {
  const up =
    spec.dir === ''
      ? ''
      : spec.dir
          .split('/')
          .map(() => '/..')
          .join('');
  return `\${path.module}${up}/function.zip`;
}

/** Rewrites the construct's prop names as the module's variable names, in a sentence. */
export function renamer(spec: ModuleSpec): (text: string) => string {
  const names = spec.inputs.filter((i) => i.prop !== 'scope').map((i) => [i.prop, i.variable] as const);
  // Not inside a path or a pattern (`projects/<p>/notificationChannels/<id>`), where the word is Google's.
  const pattern = new RegExp(`(?<![\\w/])(${names.map(([prop]) => prop).join('|')})(?![\\w/])`, 'g');
  const byProp = new Map<string, string>(names);
  return (text) => text.replace(pattern, (prop) => byProp.get(prop)!);
}

/**
 * A sentence of the construct as the module's error message: its props written as the module's
 * variables, the construct as the module, and its check of `scope` in the words of the module's
 * scope input (which the module prefixes itself).
 */
export function messenger(spec: ModuleSpec): (text: string) => string {
  const rename = renamer(spec);
  return (text) =>
    /^scope must match /.test(text)
      ? spec.scopeMessage
      : rename(text).replace(/\b([Tt])he construct\b/g, (_, t: string) => `${t}he module`);
}

/** What a variable of the type hands the construct. */
function tokenOf(type: InputType, v: TerraformVariable): unknown {
  switch (type) {
    case 'string':
      return v.stringValue;
    case 'number':
      return v.numberValue;
    case 'list(string)':
      return v.listValue;
    case 'map(string)':
      return Token.asStringMap(v.value);
    case 'bool':
      throw new Error(`variable ${v.friendlyUniqueId}: a boolean is a choice, never a token`);
  }
}

/** The props of one combination: each value input as its variable, each choice as its value there. */
function propsAt(inputs: readonly Input[], choices: readonly Choice[], point: Point, vars: Record<string, TerraformVariable>) {
  const props: Record<string, unknown> = {};
  let c = 0;
  for (const input of inputs) {
    const v = vars[input.variable]!;
    const given = () => (input.feed ? input.feed(v) : { [input.prop]: tokenOf(input.type, v) });
    if (!input.choice) Object.assign(props, given());
    else {
      const value = choices[c]!.values[point[c]!]!;
      c++;
      if (input.kind !== 'given') props[input.prop] = value;
      else if (value === true) Object.assign(props, given());
    }
  }
  return props;
}

/**
 * What a module says when the zip is not where it reads it: a submodule called by a source that
 * fetched its own folder only (an absolute path, or a remote source without `//`), or a checkout
 * where the zip was never copied in. Checked at plan, before the upload.
 */
export function missingZipMessage(spec: ModuleSpec): string {
  const checkout = 'In a checkout of the repository, `npx tsx scripts/terraform-module.ts --with-zip` copies the built zip there.';
  if (spec.dir === '') {
    return `function.zip is missing from the module root, where the package and the release archive hold it: the module uploads it as the function's source. ${checkout}`;
  }
  return (
    `function.zip is missing: this submodule uploads the one at the root of the module tree, which Terraform fetches only when ` +
    `the submodule is called as "<module root>//${spec.dir}" (or by a relative path inside the tree); an absolute path, or a ` +
    `remote source without the \`//\`, fetches the submodule's folder alone. ${checkout}`
  );
}

/** The construct's error message without its path: `IntegrityResponder at '<path>': ` starts every message. */
const MESSAGE_PREFIX = new RegExp(`^IntegrityResponder at '[^']*/${RESPONDER_ID}': `);

/** The synthesized stack as the module writes it (see the top of this file). */
function asModule(doc: Record<string, Json>, spec: ModuleSpec, zipSha256: string): Doc {
  const message = messenger(spec);
  const zip = zipPathOf(spec);
  // Without the zip, the object is named for a missing one, so that validate passes and the precondition below says why.
  const sha = `\${fileexists("${zip}") ? filesha256("${zip}") : "function-zip-missing"}`;
  const rewrite = (value: Json, key?: string): Json => {
    if (typeof value === 'string') {
      if (key === 'error_message') return message(value.replace(MESSAGE_PREFIX, ''));
      if (/^assets\/.*\/function\.zip$/.test(value)) return zip;
      return value.split(zipSha256).join(sha);
    }
    if (Array.isArray(value)) return value.map((v) => rewrite(v));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    return value;
  };
  const { provider: _provider, variable: _variable, terraform, ...rest } = doc;
  const { backend: _backend, ...settings } = (terraform ?? {}) as Record<string, Json>;
  const module = rewrite({ terraform: settings, ...rest }) as Record<string, Record<string, Record<string, Record<string, Json>>>>;
  const uploads = Object.values(module.resource?.google_storage_bucket_object ?? {}).filter((o) => o.source === zip);
  if (uploads.length !== 1) throw new Error(`the construct uploads the function zip ${uploads.length} times, not once`);
  const upload = uploads[0]!;
  const lifecycle = (upload.lifecycle ?? {}) as { precondition?: Json[] };
  upload.lifecycle = {
    ...lifecycle,
    precondition: [...(lifecycle.precondition ?? []), { condition: `\${fileexists("${zip}")}`, error_message: missingZipMessage(spec) }],
  };
  return module as Doc;
}

/**
 * Synthesizes a module's construct for a combination of its choices (`fixed` sets the props the
 * construct computes with); a prop error is the construct refusing the combination.
 */
export function synthesizer(
  spec: ModuleSpec,
  choices: readonly Choice[],
  fixed: Partial<IntegrityResponderProps>,
  zipSha256: string,
): Synth {
  const rename = renamer(spec);
  return (point) => {
    const stack = new TerraformStack(Testing.app(), 'module');
    new GoogleProvider(stack, 'google', {});
    const vars = Object.fromEntries(spec.inputs.map((i) => [i.variable, new TerraformVariable(stack, i.variable, { type: i.type })]));
    try {
      const props = { ...spec.base(vars), ...fixed, ...propsAt(spec.inputs, choices, point, vars) } as IntegrityResponderProps;
      const responder = new IntegrityResponder(stack, RESPONDER_ID, props);
      // Construct ids are the variables' names already.
      for (const o of OUTPUTS) new TerraformOutput(stack, `output-${o.name}`, { value: o.value(responder) }).overrideLogicalId(o.name);
      return { doc: asModule(JSON.parse(Testing.synth(stack)) as Record<string, Json>, spec, zipSha256) };
    } catch (e) {
      if (e instanceof IntegrityResponderPropsError) return { refused: rename(e.detail) };
      throw e;
    }
  };
}
