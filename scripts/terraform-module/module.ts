import type { IntegrityResponderProps } from '../../lib';
import { resolveProps } from '../../lib/props';
import { Choice, Point } from './choices';
import { asVariableDescription, memberDocs } from './docs';
import type { Json } from './hcl';
import { Discovery, Doc, Outcome, discover, merge } from './merge';
import { Check, crossChecks, singleVariableChecks, validationsOf } from './rules';
import { FIXED, FixedProp, ModuleSpec, choicesOf, defaultOf, probeProps } from './spec';
import { OUTPUTS, renamer, synthesizer } from './synth';
import { moduleWording } from './words';

/** How a module is generated. */
export interface Options {
  /** Root of the repository (the construct's TSDoc is read there). */
  readonly root: string;
  /** Values of the props the construct computes with; the others take the construct's defaults. */
  readonly fixed: Partial<Pick<IntegrityResponderProps, FixedProp>>;
  /** The sha256 of the function zip, which the construct names its upload after. */
  readonly zipSha256: string;
  /** Strength of the covering array the choices are explored with (docs/adr/0030). */
  readonly strength: number;
}

/** A generated module: its configuration files as JSON documents, and what it took. */
export interface GeneratedModule {
  readonly spec: ModuleSpec;
  readonly choices: readonly Choice[];
  /** `main.tf.json`, `variables.tf.json`, `outputs.tf.json`, `versions.tf.json`. */
  readonly configuration: Readonly<Record<string, Doc>>;
  /** The fixed props' values the module was generated with. */
  readonly fixed: Readonly<Record<FixedProp, Json>>;
  readonly discovery: Discovery;
  /** Synths run and their time. */
  readonly synths: number;
  readonly milliseconds: number;
}

/**
 * Strength of the covering array the generator explores the choices with: every two choices are
 * seen in all combinations of their values. The module's equivalence test checks strength 3.
 */
export const STRENGTH = 2;

/** The construct refuses the props a module starts from (a `--set` value it does not take): its sentence, `detail`, says which. */
export class DefaultsRefused extends Error {
  constructor(readonly detail: string) {
    super(`the construct refuses the props the module starts from: ${detail}`);
  }
}

/** Lowest Terraform the generated configuration needs: resource preconditions came in 1.2. */
export const REQUIRED_TERRAFORM = '>= 1.2';

/**
 * The module's provider requirements, from the construct's exact pins: the full source address,
 * and the pinned release's minor series upwards within its major (`6.50.0` → `~> 6.50`), as
 * modules for HCL stacks state them, so a stack on a later 6.x release can call it. The pinned
 * releases are the ones the tests plan with (their published schemas, ADR 0029).
 */
function providerRanges(pins: Record<string, { source: string; version: string }>): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(pins).map(([name, pin]) => {
      const [major, minor] = pin.version.split('.');
      return [name, { source: pin.source.includes('/') ? pin.source : `hashicorp/${pin.source}`, version: `~> ${major}.${minor}` }];
    }),
  );
}

/**
 * cdktf records a full stack trace for every token it creates, and under source maps (tsx, and
 * jest's transform) formatting each one costs more than the rest of a synth. Errors keep their
 * stack, without the mapping, while `work` runs.
 */
export function withPlainStackTraces<T>(work: () => T): T {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (target, sites) =>
    target instanceof Error ? `${target.name}: ${target.message}\n${sites.map((s) => `    at ${String(s)}`).join('\n')}` : '';
  try {
    return work();
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/** Generates one module (see docs/adr/0030-terraform-module.md). */
export function generateModule(spec: ModuleSpec, options: Options): GeneratedModule {
  const started = performance.now();
  const choices = choicesOf(spec);
  const synthesize = synthesizer(spec, choices, options.fixed, options.zipSha256);
  let synths = 0;
  const counted = (point: Point): Outcome => {
    synths++;
    return synthesize(point);
  };
  const { discovery, merged, lifted } = withPlainStackTraces(() => {
    const defaults = counted(choices.map(() => 0));
    if ('refused' in defaults) throw new DefaultsRefused(defaults.refused);
    const found = discover(choices, counted, options.strength);
    // The construct's checks of each optional value, as written when the value is given.
    const everyGiven = choices.map((c) => (c.kind === 'given' ? 1 : 0));
    const docs = [choices.map(() => 0), everyGiven].flatMap((p) => {
      const o = counted(p);
      return 'doc' in o ? [o.doc] : [];
    });
    return { discovery: found, merged: merge(found), lifted: singleVariableChecks(docs) };
  });
  const rename = renamer(spec);
  const { terraform, output, ...configuration } = merged.doc as Record<string, Record<string, Json>>;

  // The combinations the construct refuses, and the checks across variables, are the topic's
  // preconditions, beside the construct's own.
  const topicId = /google_pubsub_topic\.([\w-]+)\.id/.exec(String((output!.topic as Record<string, Json>).value))![1]!;
  const topic = (configuration.resource!.google_pubsub_topic as Record<string, Record<string, Json>>)[topicId]!;
  const checks: Check[] = [
    ...merged.refusals.map((r) => ({ condition: `\${${r.condition}}`, error_message: `${r.message}.` })),
    ...crossChecks(spec, options.fixed).map((c) => ({ ...c, condition: `\${${c.condition}}` })),
  ];
  const lifecycle = (topic.lifecycle ?? {}) as { precondition?: Json[] };
  topic.lifecycle = { ...lifecycle, precondition: [...(lifecycle.precondition ?? []), ...(checks as unknown as Json[])] };

  const resolved = resolveProps({ ...probeProps(spec.kind), ...options.fixed }) as unknown as Record<string, Json>;
  const fixed = Object.fromEntries(FIXED.map((p) => [p, resolved[p]!])) as Record<FixedProp, Json>;
  const words = moduleWording(spec, fixed);
  const props = memberDocs(options.root, 'lib/props/props.ts', 'IntegrityResponderProps');
  const fields = memberDocs(options.root, 'lib/integrity-responder.ts', 'IntegrityResponder');
  const variables: Record<string, Json> = {};
  for (const input of spec.inputs) {
    const doc = props.get(input.prop);
    const given = input.choice === true && input.kind === 'given';
    let description = input.description ?? asVariableDescription(doc?.text ?? '', rename);
    if (input.description === undefined && given && doc?.default !== undefined) description += ` When null: ${rename(doc.default)}.`;
    const fallback = defaultOf(spec, input);
    const validation = validationsOf(spec, input, options.fixed, rename, lifted).map((c) => ({
      condition: `\${${c.condition}}`,
      error_message: c.error_message,
    }));
    variables[input.variable] = {
      type: input.type,
      description: words(description),
      ...(fallback !== undefined && { default: fallback.value, nullable: given }),
      ...(validation.length > 0 && { validation }),
    };
  }

  const outputs: Record<string, Json> = {};
  for (const o of OUTPUTS) {
    const value = (output![o.name] as Record<string, Json>).value!;
    outputs[o.name] = { description: words(o.description ?? fields.get(o.field)?.text ?? ''), value };
  }

  return {
    spec,
    choices,
    configuration: {
      'main.tf.json': configuration,
      'variables.tf.json': { variable: variables },
      'outputs.tf.json': { output: outputs },
      'versions.tf.json': {
        terraform: {
          required_version: REQUIRED_TERRAFORM,
          required_providers: providerRanges(
            (terraform as Record<string, Record<string, { source: string; version: string }>>).required_providers!,
          ),
        },
      },
    },
    fixed,
    discovery,
    synths,
    milliseconds: performance.now() - started,
  };
}
