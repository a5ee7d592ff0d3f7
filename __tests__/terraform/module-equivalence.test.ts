import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { Choice, Point, coveringArray, describePoint } from '../../scripts/terraform-module/choices';
import { ChoiceValues, SET, evaluateModule } from '../../scripts/terraform-module/evaluate';
import type { Json } from '../../scripts/terraform-module/hcl';
import type { Doc, Outcome } from '../../scripts/terraform-module/merge';
import { withPlainStackTraces } from '../../scripts/terraform-module/module';
import { crossChecks } from '../../scripts/terraform-module/rules';
import { MODULES, ModuleSpec, choicesOf } from '../../scripts/terraform-module/spec';
import { synthesizer } from '../../scripts/terraform-module/synth';
import { REPO_ROOT } from '../support/paths';

/*
 * The committed module, its conditions evaluated for a combination of the choices (without
 * Terraform: scripts/terraform-module/evaluate.ts), is exactly the construct's plan for the same
 * settings: same resources and data sources, same values, same outputs; and a combination the
 * construct refuses fails a precondition with the construct's sentence.
 *
 * The combinations: the defaults, each choice changed alone, every choice changed, and a covering
 * array of strength 3 drawn apart from the generator's (which explores with strength 2): for any
 * three choices, every combination of their values the construct accepts is one of them. A value
 * the generator believed independent of a choice it depends on, alone or together with up to two
 * others, is caught here.
 */

const SEED = 2026;
const STRENGTH = 3;

/** The values of a point as the evaluation takes them. */
function valuesAt(choices: readonly Choice[], point: Point): ChoiceValues {
  return Object.fromEntries(choices.map((c, i) => [c.variable, c.kind === 'given' ? (point[i] === 1 ? SET : null) : c.values[point[i]!]!]));
}

/** A configuration with each `depends_on` in order and none empty, as Terraform reads it. */
function normalized(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalized);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => k !== 'depends_on' || (v as Json[]).length > 0)
      .map(([k, v]) => [k, k === 'depends_on' ? [...(v as string[])].sort() : normalized(v)]),
  );
}

interface Case {
  readonly name: string;
  readonly spec: ModuleSpec;
  readonly choices: readonly Choice[];
  readonly point: Point;
}

const zipSha256 = loadFunctionBundle(REPO_ROOT).zipSha256;
const direct = new Map<ModuleSpec, (p: Point) => Outcome>();

/** The combinations each module is checked at. */
function cases(): Case[] {
  return withPlainStackTraces(() =>
    MODULES.flatMap((spec) => {
      const choices = choicesOf(spec);
      const synth = synthesizer(spec, choices, {}, zipSha256);
      const memo = new Map<string, Outcome>();
      const at = (p: Point) => memo.get(p.join()) ?? memo.set(p.join(), synth(p)).get(p.join())!;
      direct.set(spec, at);
      const refused: Point[] = [];
      const rows = coveringArray(
        choices,
        STRENGTH,
        SEED,
        (p) => {
          if (!('refused' in at(p))) return true;
          refused.push(p);
          return false;
        },
        // A row holding every value a refused combination changed would be refused again.
        (p) => !refused.some((r) => r.every((v, c) => v === 0 || p[c] === v)),
      );
      const base = choices.map(() => 0);
      const named: [string, Point][] = [
        ['the defaults', base],
        ...choices.flatMap((c, i) =>
          c.values.slice(1).map((_, v) => [`${c.variable} changed`, base.map((x, j) => (j === i ? v + 1 : x))] as [string, Point]),
        ),
        ['every choice changed', choices.map(() => 1)],
        ...rows.map((p, i) => [`covering row ${i + 1}`, p] as [string, Point]),
        ...refused.slice(0, 1).map((p) => ['a refused row', p] as [string, Point]),
      ];
      return named.map(([name, point]) => ({
        name: `${spec.dir || 'root'}: ${name} (${describePoint(choices, point)})`,
        spec,
        choices,
        point,
      }));
    }),
  );
}

/** The committed module's configuration and outputs, as one document, and its checks across variables (not the construct's). */
function committed(spec: ModuleSpec): { doc: Doc; added: string[] } {
  const read = (file: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'terraform', spec.dir, file), 'utf8')) as Record<string, Json>;
  const outputs = read('outputs.tf.json').output as Record<string, Record<string, Json>>;
  return {
    doc: { ...read('main.tf.json'), output: Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, { value: o.value! }])) },
    added: crossChecks(spec, {}).map((c) => `\${${c.condition}}`),
  };
}

const CASES = cases();

describe('the committed module, evaluated for a combination of its choices, is the construct’s plan for it', () => {
  it('checks each module at a covering array of strength 3 besides the named combinations', () => {
    for (const spec of MODULES) {
      const rows = CASES.filter((c) => c.spec === spec && c.name.includes('covering row')).length;
      expect({ module: spec.dir, enough: rows >= 12 }).toEqual({ module: spec.dir, enough: true });
    }
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, { spec, choices, point }) => {
    const { doc, added } = committed(spec);
    const evaluated = evaluateModule(doc, valuesAt(choices, point));
    const plan = direct.get(spec)!(point);
    if ('refused' in plan) {
      expect(evaluated.refused).toEqual([`${plan.refused}.`]);
      return;
    }
    expect(evaluated.refused).toEqual([]);
    const topics = (evaluated.doc.resource as Record<string, Record<string, Record<string, any>>>).google_pubsub_topic!;
    for (const topic of Object.values(topics)) {
      if (topic.lifecycle) topic.lifecycle.precondition = topic.lifecycle.precondition.filter((p: any) => !added.includes(p.condition));
    }
    const { terraform: _terraform, ...expected } = plan.doc;
    expect(normalized(evaluated.doc as Json)).toEqual(normalized(expected as Json));
  });
});
