import { createHash } from 'node:crypto';
import { BASELINE_POLICY_COLLECTION, NONE, PACKAGE_NAME, RELEASE_POLICY_DOCUMENT, SETTINGS } from '../../function/contract';
import { FIXED_PROPS, FunctionInputs, Pair, fixedDifferences, functionInputs, hcl, isDefault, shown } from './settings';

/*
 * The moved blocks that bring an IntegrityResponder of a synthesized CDKTF stack into a call of
 * the Terraform module this package ships. Pure: a parsed cdk.tf.json and the modules' parsed
 * files in, HCL text out, so that tests and migrations call it without files. Before it writes
 * anything it compares the responder with the module (settings.ts): a value the module holds fixed
 * at another value is refused, and the function's other settings head the file.
 *
 * The module's resources have the logical ids cdktf gives a responder with the construct id
 * `Responder` at the root of its stack (docs/adr/0030-terraform-module.md). A responder
 * elsewhere in a stack has other ids, made by the same rule from its construct path: a resource
 * at `<responder path>/<rest>` of the stack is `Responder/<rest>` in the module.
 *
 * A responder with a containment playbook (ADR 0031) is refused before anything else is compared:
 * the module has no place for what the playbook adds.
 */

/** Where each module lives in the package, from its root: one per kind of scope. */
export type ModuleSource = 'terraform' | 'terraform/modules/folder' | 'terraform/modules/organization';

/** The modules' folders in the package, project scope first. */
export const MODULE_SOURCES: readonly ModuleSource[] = ['terraform', 'terraform/modules/folder', 'terraform/modules/organization'];

/** The module call's name when none is given. */
export const DEFAULT_MODULE_NAME = 'integrity_responder';

/** The construct id the module's logical ids were made for, at the root of its stack. */
const MODULE_RESPONDER_ID = 'Responder';

/** The responder's log sink decides its scope, and so the module. */
const SINK_MODULES: Readonly<Record<string, ModuleSource>> = {
  google_logging_project_sink: 'terraform',
  google_logging_folder_sink: 'terraform/modules/folder',
  google_logging_organization_sink: 'terraform/modules/organization',
};

/** The construct ids (below the responder) of the two resources every responder has, which tell one apart from other sinks. */
const SINK_ID = 'Sink';
const FUNCTION_ID = 'Function';
const FUNCTION_TYPE = 'google_cloudfunctions2_function';

/** What cdktf appends to the readable part of a logical id: `_` and 8 hex digits of the path's md5. */
const HASH_SUFFIX = /_[0-9A-F]{8}$/;

/** A responder's sink, by logical id: what precedes `_Sink_<hash>` is what all the responder's ids start with. */
const SINK_LOGICAL_ID = new RegExp(`^(.+)_${SINK_ID}_[0-9A-F]{8}$`);

/** A Terraform identifier, as a module call's name must be. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** What went wrong, for the caller to word or map to an exit code. */
export type MovedProblem =
  | 'not-a-stack'
  | 'not-a-module'
  | 'bad-option'
  | 'no-responder'
  | 'several-responders'
  | 'unknown-responder'
  | 'no-construct-paths'
  | 'unmatched'
  | 'fixed-values'
  | 'playbook';

/**
 * Why no moved blocks could be written: a sentence that says what to do. `usage` when the
 * options were wrong or not enough (a responder to pick, a name to fix); `names` what the
 * sentence lists (the responders found, the resources left unmatched).
 */
export class MovedError extends Error {
  constructor(
    readonly problem: MovedProblem,
    message: string,
    readonly usage: boolean,
    readonly names: readonly string[] = [],
  ) {
    super(message);
    this.name = 'MovedError';
  }
}

/** Which responder, and the module call's name. */
export interface MovedOptions {
  /** The responder's construct path, below the stack or with the stack's name first: `Security/Responder`. */
  readonly responder?: string;
  /** The start of the responder's logical ids (`Security_Responder`): for a plan without construct paths. */
  readonly responderId?: string;
  /** The module call's name in the caller's configuration. @default 'integrity_responder' */
  readonly module?: string;
}

/** The moved blocks of one responder. */
export interface Moved {
  /** The module to call, as a folder of the package. */
  readonly source: ModuleSource;
  /** The HCL file: a header comment, then one `moved` block per resource. */
  readonly text: string;
  /** How many moved blocks it holds. */
  readonly moved: number;
  /** The responder, as its construct path below the stack, or `<prefix>_*` when the plan has no paths. */
  readonly responder: string;
  /** The stack's function settings the module takes as inputs, and the inputs read back from them. */
  readonly inputs: FunctionInputs;
  /** The line of the file that fails `terraform validate` without the module call, for want of its output. */
  readonly guard: string;
}

/** One resource the stack declares, as its `//` metadata places it. */
interface Declared {
  readonly type: string;
  readonly id: string;
  /** Construct path below the stack; undefined when cdktf's metadata was removed from the plan. */
  readonly path?: readonly string[];
  /** Whether it has count or for_each: several instances, which no block of one address moves. */
  readonly repeated: boolean;
  /** What the stack writes for it. */
  readonly body: unknown;
}

/** A responder found in the stack. */
interface Found {
  readonly path?: readonly string[];
  /** What its logical ids start with, before `_`: the readable part of its construct path. */
  readonly prefix: string;
  readonly source: ModuleSource;
}

/**
 * A module's resources: by type and logical id, whether it is counted, and its body; by type and
 * readable part, the logical id. Its variables (variables.tf.json), and an output to reference.
 */
interface ModuleIndex {
  readonly counted: ReadonlyMap<string, boolean>;
  readonly bodies: ReadonlyMap<string, unknown>;
  readonly byReadable: ReadonlyMap<string, string>;
  readonly variables: unknown;
  readonly output: string | undefined;
}

/** Code-unit order: the same file on every machine, whatever its locale. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The logical id cdktf gives an element at these construct path components below its stack:
 * cdktf 0.21's `makeUniqueId` (lib/private/unique.ts), which its package does not export.
 * `Default` is left out; `Resource` and a component the previous one ends with are left out of
 * the readable part, which the path's md5 follows.
 */
export function logicalId(components: readonly string[]): string {
  const kept = components.filter((c) => c !== 'Default');
  if (kept.length === 0) throw new Error('a logical id needs at least one construct path component');
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '');
  if (kept.length === 1 && clean(kept[0]!).length <= 255) return clean(kept[0]!);
  const hash = createHash('md5').update(kept.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const readable: string[] = [];
  for (const c of kept) if (readable.length === 0 || !readable[readable.length - 1]!.endsWith(c)) readable.push(c);
  const human = readable
    .filter((c) => c !== 'Resource')
    .map(clean)
    .join('_')
    .slice(0, 240);
  return `${human}_${hash}`;
}

/** The resources a plan declares; data sources move with nothing and are left out. */
function declaredIn(plan: Record<string, unknown>): Declared[] {
  const resources = isObject(plan.resource) ? plan.resource : {};
  return Object.entries(resources).flatMap(([type, byId]) =>
    Object.entries(isObject(byId) ? byId : {}).map(([id, body]): Declared => {
      const meta = isObject(body) && isObject(body['//']) && isObject(body['//'].metadata) ? body['//'].metadata : {};
      // The path starts with the stack's id; logical ids are made from what follows it.
      const path = typeof meta.path === 'string' ? meta.path.split('/').slice(1) : undefined;
      const repeated = isObject(body) && (body.count !== undefined || body.for_each !== undefined);
      return { type, id, ...(path !== undefined && path.length > 0 && { path }), repeated, body };
    }),
  );
}

/** The stack's name, as cdktf records it at the top of the plan. */
function stackNameOf(plan: Record<string, unknown>): string | undefined {
  const top = plan['//'];
  const name = isObject(top) && isObject(top.metadata) ? top.metadata.stackName : undefined;
  return typeof name === 'string' ? name : undefined;
}

const samePath = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && a.every((c, i) => c === b[i]);

const below = (path: readonly string[] | undefined, parent: readonly string[]) =>
  path !== undefined && path.length > parent.length && parent.every((c, i) => path[i] === c);

/** The readable part of a logical id after `prefix_`, without its hash; undefined when it does not start so. */
function readableAfter(id: string, prefix: string): string | undefined {
  if (!id.startsWith(`${prefix}_`) || !HASH_SUFFIX.test(id)) return undefined;
  const readable = id.slice(prefix.length + 1).replace(HASH_SUFFIX, '');
  return readable === '' ? undefined : readable;
}

/** A responder as messages name it: its construct path below the stack, or its logical ids. */
const nameOf = (r: Found) => (r.path !== undefined ? r.path.join('/') : `${r.prefix}_*`);

/**
 * The responders of a stack, by name: a log sink at `<path>/Sink` beside a function at `<path>/Function`;
 * without construct paths, a sink `<prefix>_Sink_<hash>` beside a function `<prefix>_Function_<hash>`.
 */
function respondersIn(declared: readonly Declared[]): Found[] {
  const found: Found[] = [];
  for (const sink of declared) {
    const source = SINK_MODULES[sink.type];
    if (source === undefined) continue;
    const prefix = SINK_LOGICAL_ID.exec(sink.id)?.[1];
    if (sink.path !== undefined) {
      const path = sink.path.slice(0, -1);
      if (sink.path[sink.path.length - 1] !== SINK_ID || path.length === 0) continue;
      if (!declared.some((d) => d.type === FUNCTION_TYPE && samePath(d.path, [...path, FUNCTION_ID]))) continue;
      // A sink whose logical id was overridden is known by its path only.
      found.push({ path, prefix: prefix ?? sink.id, source });
    } else if (prefix !== undefined && declared.some((d) => d.type === FUNCTION_TYPE && readableAfter(d.id, prefix) === FUNCTION_ID)) {
      found.push({ prefix, source });
    }
  }
  return found.sort((a, b) => byText(nameOf(a), nameOf(b)));
}

/** The responder the options name, or the only one. */
function chosen(found: readonly Found[], options: MovedOptions, stackName: string | undefined): Found {
  const names = found.map(nameOf);
  if (options.responder !== undefined && options.responderId !== undefined) {
    throw new MovedError('bad-option', 'give --responder or --responder-id, not both', true);
  }
  if (found.length === 0) {
    throw new MovedError(
      'no-responder',
      `no IntegrityResponder in this stack: none of its resources is a log sink (${Object.keys(SINK_MODULES).join(', ')}) ` +
        `with the construct id '${SINK_ID}' beside a ${FUNCTION_TYPE} '${FUNCTION_ID}'; pass the cdk.tf.json of the stack that holds it`,
      false,
    );
  }
  if (options.responder !== undefined) {
    const wanted = options.responder.replace(/^\/+|\/+$/g, '');
    const withPaths = found.filter((r) => r.path !== undefined);
    if (withPaths.length === 0) {
      throw new MovedError(
        'no-construct-paths',
        `this plan has no construct paths (cdktf writes them in each resource's '//' metadata, removed here): ` +
          `name the responder by its logical ids with --responder-id, one of: ${found.map((r) => r.prefix).join(', ')}`,
        true,
        found.map((r) => r.prefix),
      );
    }
    const match = withPaths.find((r) => {
      const path = r.path!.join('/');
      return wanted === path || (stackName !== undefined && wanted === `${stackName}/${path}`);
    });
    if (match === undefined) {
      throw new MovedError(
        'unknown-responder',
        `no IntegrityResponder at '${options.responder}' in this stack; --responder takes one of: ${names.join(', ')}`,
        true,
        names,
      );
    }
    return match;
  }
  if (options.responderId !== undefined) {
    const match = found.find((r) => r.prefix === options.responderId);
    if (match === undefined) {
      throw new MovedError(
        'unknown-responder',
        `no IntegrityResponder whose logical ids start with '${options.responderId}_' in this stack; ` +
          `--responder-id takes one of: ${found.map((r) => r.prefix).join(', ')}`,
        true,
        found.map((r) => r.prefix),
      );
    }
    return match;
  }
  if (found.length > 1) {
    const paths = found.every((r) => r.path !== undefined);
    throw new MovedError(
      'several-responders',
      `this stack holds ${found.length} IntegrityResponders: pick one with ` +
        (paths ? `--responder, one of: ${names.join(', ')}` : `--responder-id, one of: ${found.map((r) => r.prefix).join(', ')}`) +
        ' (and give each its own --module name)',
      true,
      paths ? names : found.map((r) => r.prefix),
    );
  }
  return found[0]!;
}

/** The module's resources, indexed; a module without any is not one of this package's. */
function indexed(module: unknown, source: ModuleSource): ModuleIndex {
  const resources = isObject(module) && isObject(module.resource) ? module.resource : undefined;
  if (resources === undefined || Object.keys(resources).length === 0) {
    throw new MovedError('not-a-module', `the module ${source} declares no resources: is this package installed completely?`, false);
  }
  const counted = new Map<string, boolean>();
  const bodies = new Map<string, unknown>();
  const byReadable = new Map<string, string>();
  for (const [type, byId] of Object.entries(resources)) {
    for (const [id, body] of Object.entries(isObject(byId) ? byId : {})) {
      counted.set(`${type}.${id}`, isObject(body) && body.count !== undefined);
      bodies.set(`${type}.${id}`, body);
      const readable = readableAfter(id, MODULE_RESPONDER_ID);
      if (readable !== undefined) byReadable.set(`${type}.${readable}`, id);
    }
  }
  const outputs = isObject(module) && isObject(module.output) ? Object.keys(module.output) : [];
  // The topic, which every module has; else the first output.
  const output = outputs.includes(GUARD_OUTPUT) ? GUARD_OUTPUT : outputs.sort(byText)[0];
  const variables = isObject(module) ? module.variable : undefined;
  return { counted, bodies, byReadable, variables, output };
}

/** The output the guard line reads, when the module has it. */
const GUARD_OUTPUT = 'topic';

/** `# ` before each line of a paragraph. */
const comment = (lines: readonly string[]) => lines.map((l) => (l === '' ? '#' : `# ${l}`)).join('\n');

/**
 * The moved blocks that bring one IntegrityResponder of a synthesized stack (`cdk.tf.json`,
 * parsed) into a call of the package's module for its scope (`modules`: each module's
 * main.tf.json, variables.tf.json and outputs.tf.json, parsed as one document, by its folder).
 * Each resource of the responder is matched by type and by its construct path below the responder
 * (or, in a plan without construct paths, the readable part of its logical id); one the module
 * counts is moved to its `[0]`. Data sources and the stack's other resources are left alone. The
 * header lists the function's settings the module takes as inputs and the module call they give;
 * the file ends with a `locals` entry that reads an output of the module call, so that Terraform
 * fails without a call of that name. Throws a {@link MovedError} when the options name no single
 * responder, when a resource of the responder has no counterpart in the module, or when the
 * module writes a value as a literal that the stack has otherwise: never a partial file.
 */
export function movedBlocks(stack: unknown, modules: Readonly<Record<ModuleSource, unknown>>, options: MovedOptions = {}): Moved {
  const name = options.module ?? DEFAULT_MODULE_NAME;
  if (!IDENTIFIER.test(name)) {
    throw new MovedError(
      'bad-option',
      `--module must be the module call's name, a letter or underscore and then letters, digits, underscores and hyphens, got '${name}'`,
      true,
    );
  }
  if (!isObject(stack) || !(isObject(stack.resource) || isObject(stack.terraform))) {
    throw new MovedError(
      'not-a-stack',
      "this is not a stack synthesized by cdktf: it has neither 'resource' nor 'terraform' at its top; pass cdktf.out/stacks/<stack>/cdk.tf.json",
      false,
    );
  }
  const stackName = stackNameOf(stack);
  const declared = declaredIn(stack);
  const found = respondersIn(declared);
  const responder = chosen(found, options, stackName);

  // A resource is the responder's when its construct path is below the responder's; without a
  // path, when its logical id starts with the responder's.
  const ownedBy = (d: Declared, r: Found) =>
    d.path !== undefined && r.path !== undefined ? below(d.path, r.path) : readableAfter(d.id, r.prefix) !== undefined;
  refusePlaybook(
    declared.filter((d) => ownedBy(d, responder)),
    responder,
  );
  const module = indexed(modules[responder.source], responder.source);
  const others = found.filter((r) => r !== responder);

  const blocks: { from: string; to: string; counted: boolean }[] = [];
  const pairs: Pair[] = [];
  const unmatched: string[] = [];
  const targets = new Set<string>();
  const left: string[] = [];
  for (const d of declared) {
    const address = `${d.type}.${d.id}`;
    if (!ownedBy(d, responder)) {
      if (!others.some((r) => ownedBy(d, r))) left.push(address);
      continue;
    }
    const moduleId =
      d.path !== undefined && responder.path !== undefined
        ? logicalId([MODULE_RESPONDER_ID, ...d.path.slice(responder.path.length)])
        : module.byReadable.get(`${d.type}.${readableAfter(d.id, responder.prefix)}`);
    const target = moduleId === undefined ? undefined : `${d.type}.${moduleId}`;
    const counted = target === undefined ? undefined : module.counted.get(target);
    if (target === undefined || counted === undefined || d.repeated || targets.has(target)) {
      const where = d.path !== undefined ? ` (${d.path.join('/')})` : '';
      unmatched.push(`${address}${where}${d.repeated ? ' has count or for_each' : ''}`);
      continue;
    }
    targets.add(target);
    blocks.push({ from: address, to: `module.${name}.${target}${counted ? '[0]' : ''}`, counted });
    const below =
      d.path !== undefined && responder.path !== undefined
        ? d.path.slice(responder.path.length).join('/')
        : readableAfter(d.id, responder.prefix)!;
    pairs.push({ type: d.type, name: below, stack: d.body, module: module.bodies.get(target) });
  }

  const responderName = nameOf(responder);
  if (unmatched.length > 0) {
    throw new MovedError(
      'unmatched',
      `${unmatched.length} resource(s) of the IntegrityResponder ${responderName} have no counterpart in the module ${responder.source}: ` +
        `${unmatched.join(', ')}. A stack synthesized by another version of the construct than this module's: synthesize it ` +
        'again with this version. A resource added inside the responder: keep it in your own configuration, its moved block written by hand',
      false,
      unmatched,
    );
  }
  refuseFixedDifferences(pairs, responderName, responder.source);
  const fn = pairs.find((p) => p.type === FUNCTION_TYPE && p.name === FUNCTION_ID);
  // respondersIn found none without its function, and the module has its counterpart, or it was unmatched.
  const inputs = functionInputs(fn!.stack, fn!.module, module.variables);

  blocks.sort((a, b) => byText(a.to, b.to));
  const moduleOnly = [...module.counted]
    .filter(([address, counted]) => !counted && !targets.has(address))
    .map(([address]) => `module.${name}.${address}`)
    .sort();
  const countedBlocks = blocks.filter((b) => b.counted).length;
  const header = [
    `Moves the state of the IntegrityResponder '${responderName}'${stackName !== undefined ? ` of the CDKTF stack '${stackName}'` : ''}`,
    `into module.${name}: ${blocks.length} resources. Written by integrity-module moved.`,
    '',
    `Call the module ${responder.source} of ${PACKAGE_NAME},`,
    'of the version whose construct synthesized the stack, with the settings the construct had.',
    'Every value the module holds fixed (memory, timeout, action budget, event ages, IAM wait) is',
    "the stack's. The module takes the function's other settings as inputs: give the same, or the",
    "plan's in-place update of the function changes them. The stack's function has:",
    ...inputs.settings.map((s) => `  ${s.name}=${shown(s.value)}`),
    ...moduleCall(name, responder.source, inputs),
    ...(countedBlocks > 0
      ? [
          '',
          `${countedBlocks} of these resources the module creates with count (addressed [0]) only when its`,
          'inputs ask for them (its README lists which): set those inputs as the construct had them.',
        ]
      : []),
    ...(moduleOnly.length > 0 ? ['', 'The module also creates what this responder did not have:', ...moduleOnly.map((a) => `  ${a}`)] : []),
    ...(others.length > 0
      ? [
          '',
          'Other IntegrityResponders of this stack, each moved by a run of its own into its own module call:',
          ...others.map((r) => `  ${nameOf(r)}`),
        ]
      : []),
    ...(left.length > 0 ? ['', "Left where they are, not the responder's:", ...left.sort(byText).map((a) => `  ${a}`)] : []),
    '',
    'Data sources need no moved block: Terraform reads them again.',
  ];
  const body = blocks.map((b) => `moved {\n  from = ${b.from}\n  to   = ${b.to}\n}\n`).join('\n');
  const guard = guardOf(name, module.output);
  return {
    source: responder.source,
    text: `${comment(header)}\n\n${body}\n${guard.text}`,
    moved: blocks.length,
    responder: responderName,
    inputs,
    guard: guard.line,
  };
}

/** The responder's function, by its construct path or, without paths, the readable part of its logical id. */
function functionOf(owned: readonly Declared[], responder: Found): Declared | undefined {
  return owned.find(
    (d) =>
      d.type === FUNCTION_TYPE &&
      (d.path !== undefined && responder.path !== undefined
        ? samePath(d.path, [...responder.path, FUNCTION_ID])
        : readableAfter(d.id, responder.prefix) === FUNCTION_ID),
  );
}

/** The grants on the quarantine's tag value and on the findings source, whose members other than the runtime release VMs. */
const RELEASE_GRANT_TYPES = ['google_tags_tag_value_iam_member', 'google_scc_v2_organization_source_iam_member'];

/**
 * What of a containment playbook (ADR 0031) the responder has, each part a phrase naming the prop:
 * the function's playbook settings (read from its environment, where the construct writes them
 * only for a responder with a playbook), the release principals' grants, the release policy in the
 * decision ledger. Empty for a responder that only stops or suspends.
 */
function playbookParts(owned: readonly Declared[], responder: Found): string[] {
  const fn = functionOf(owned, responder)?.body;
  const config = isObject(fn) && isObject(fn.service_config) ? fn.service_config : {};
  const env = isObject(config.environment_variables) ? config.environment_variables : {};
  const setting = (name: string) => (typeof env[name] === 'string' && env[name] !== NONE ? env[name] : undefined);
  const parts: string[] = [];
  const steps = setting(SETTINGS.containmentSteps.env);
  if (steps !== undefined) {
    const action = setting(SETTINGS.failureAction.env) ?? SETTINGS.failureAction.default;
    parts.push(`containment takes ${steps.split(',').join(', ')} before the ${action}`);
  }
  if (setting(SETTINGS.findingsSource.env) !== undefined) parts.push('raiseFindings raises findings in Security Command Center');
  const runtime = `serviceAccount:${String(config.service_account_email)}`;
  const principals = [
    ...new Set(
      owned
        .filter((d) => RELEASE_GRANT_TYPES.includes(d.type) && isObject(d.body))
        .map((d) => (d.body as Record<string, unknown>).member)
        .filter((m): m is string => typeof m === 'string' && m !== runtime),
    ),
  ].sort(byText);
  if (principals.length > 0) parts.push(`releasePrincipals grants ${principals.join(', ')} the release`);
  const ledger = env[SETTINGS.ledgerDatabase.env];
  const releasePolicy = owned.some(
    (d) =>
      d.type === 'google_firestore_document' &&
      isObject(d.body) &&
      d.body.collection === BASELINE_POLICY_COLLECTION &&
      d.body.document_id === RELEASE_POLICY_DOCUMENT &&
      d.body.database === ledger,
  );
  if (releasePolicy) parts.push('requireReleaseApproval writes the release policy into the decision ledger');
  return parts;
}

/**
 * Refuses a responder with a containment playbook: the module's responder only stops or suspends
 * (its README's "Not in this module"), so the playbook's resources have no counterpart there and
 * its function has none of the playbook's settings. Moved, the evidence role, the quarantine's tag
 * and rules, the findings source, the grants and the release policy would be planned destroyed,
 * and the function would contain VMs by a stop alone.
 */
function refusePlaybook(owned: readonly Declared[], responder: Found): void {
  const parts = playbookParts(owned, responder);
  if (parts.length === 0) return;
  throw new MovedError(
    'playbook',
    `the IntegrityResponder ${nameOf(responder)} has a containment playbook, which the Terraform module has no place for: ` +
      `${parts.join('; ')}. The module's responder only stops or suspends: moved into it, the playbook's resources ` +
      '(evidence role, quarantine tag and firewall rules, findings source, their grants, the release policy) would be ' +
      "planned destroyed, and the function would lose the playbook's settings. Keep this responder on the construct",
    false,
    parts,
  );
}

/**
 * Refuses a move that would change a value the module holds fixed: it shows in the plan only as
 * part of the function's in-place update, which every migration has. Names each value, the
 * stack's and the module's, and the `--set` that generates a module with the stack's.
 */
function refuseFixedDifferences(pairs: readonly Pair[], responderName: string, source: ModuleSource): void {
  const differences = fixedDifferences(pairs);
  if (differences.length === 0) return;
  const sets = FIXED_PROPS.flatMap((prop) => [
    ...new Set(differences.filter((d) => d.prop === prop && d.set !== undefined).map((d) => d.set!)),
  ]);
  const unknown = differences.some((d) => d.prop === undefined);
  const listed = differences.map(
    (d) =>
      `${d.setting} is ${shown(d.stack)} in the stack, ${shown(d.module)} in the module ` +
      `(${d.prop === undefined ? 'no --set changes it' : d.set !== undefined ? d.prop : `follows ${d.prop}`})`,
  );
  throw new MovedError(
    'fixed-values',
    `the module ${source} holds ${differences.length} value(s) fixed that the IntegrityResponder ${responderName} has otherwise: ` +
      `${listed.join('; ')}. Moved into this module, they would change in place, hidden in the update of the function that ` +
      'every migration plans. ' +
      (sets.length > 0
        ? "Generate a module with the stack's values, from a checkout of the repository at this package's version: " +
          `npx tsx scripts/terraform-module.ts --out <dir> --with-zip ${sets.join(' ')}, and call that module; or stay on the construct`
        : 'Stay on the construct') +
      (unknown
        ? ". A value no --set changes comes from another version of the construct than this module's: synthesize the stack again with this version"
        : ''),
    false,
    differences.map((d) => d.setting),
  );
}

/**
 * The module call the function's settings give, as comment lines: the inputs read back from them
 * that are not the module's defaults, then what was not read back, each listed.
 */
function moduleCall(name: string, source: ModuleSource, inputs: FunctionInputs): string[] {
  const given = [...inputs.mapped].filter(([v, x]) => !isDefault(inputs.variables.get(v), x));
  const atDefault = [...inputs.mapped.keys()].filter((v) => isDefault(inputs.variables.get(v), inputs.mapped.get(v)));
  const width = Math.max(0, ...given.map(([v]) => v.length));
  const derived = new Set([...inputs.mapped.keys(), ...inputs.conflicts.keys(), ...inputs.unmapped.flatMap((s) => s.reads)]);
  const unread = [...inputs.variables.keys()].filter((v) => !derived.has(v));
  return [
    '',
    "The module call these settings give (inputs at the module's default left out), from the",
    'installed package:',
    '',
    `  module "${name}" {`,
    `    source = "./node_modules/${PACKAGE_NAME}/${source}"`,
    ...(given.length > 0 ? ['', ...given.map(([v, x]) => `    ${v.padEnd(width)} = ${hcl(x)}`)] : []),
    '',
    '    # and the inputs listed below, as your stack set them',
    '  }',
    ...(source === 'terraform'
      ? []
      : [
          '',
          `From a remote or absolute source, write it as <terraform folder>//${source.slice('terraform/'.length)}: the submodule`,
          'uploads the function zip at the root of the tree, which the // brings along.',
        ]),
    ...(atDefault.length > 0 ? ['', "Read back at the module's default, so left out above:", ...wrapped(atDefault)] : []),
    ...(inputs.unmapped.length > 0 || inputs.conflicts.size > 0
      ? [
          '',
          'Not read back into inputs (set the inputs named as the stack had them):',
          ...inputs.unmapped.map((s) => `  ${s.name}=${shown(s.value)} (from ${s.reads.map((v) => `var.${v}`).join(', ')})`),
          ...[...inputs.conflicts].map(([v, values]) => `  ${v}: the settings give ${values.map((x) => hcl(x)).join(' and ')}`),
        ]
      : []),
    ...(unread.length > 0
      ? ['', `Inputs the function does not show, to set as your stack gave them to the construct:`, ...wrapped(unread)]
      : []),
  ];
}

/** Names separated by commas, indented, in lines of at most about 100 characters. */
function wrapped(names: readonly string[]): string[] {
  const lines: string[] = [];
  for (const n of names) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + n.length + 3 <= 100) lines[last] = `${lines[last]} ${n}`;
    else lines.push(`  ${n}`);
    lines[lines.length - 1] += ',';
  }
  if (lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.slice(0, -1);
  return lines;
}

/**
 * A `locals` entry that reads an output of the module call: without a call of that name,
 * `terraform validate` and `plan` fail ("Reference to undeclared module") instead of planning every
 * moved resource destroyed and created again, which moved blocks into a call that does not exist do.
 */
function guardOf(name: string, output: string | undefined): { text: string; line: string } {
  const line = `  moved_into_${name} = module.${name}${output !== undefined ? `.${output}` : ''}`;
  const text = [
    comment([
      `Fails 'terraform validate' and 'plan' unless this configuration calls module "${name}":`,
      'moved blocks into a module call that does not exist plan every resource above destroyed and',
      'created again. It reads an output and changes nothing; remove it with the moved blocks.',
    ]),
    'locals {',
    line,
    '}',
    '',
  ].join('\n');
  return { text, line };
}
