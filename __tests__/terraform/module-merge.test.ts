import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Choice, Point, everyPoint } from '../../scripts/terraform-module/choices';
import { ChoiceValues, SET, evaluateModule } from '../../scripts/terraform-module/evaluate';
import { Json, toExpression } from '../../scripts/terraform-module/hcl';
import { Doc, Outcome, discover, merge } from '../../scripts/terraform-module/merge';
import { itWithTerraform } from '../support/terraform';

/*
 * The merge on small, hand-made sets of plans: one configuration whose conditions, evaluated for
 * any combination of the choices, give exactly that combination's plan.
 */

const MODE: Choice = { variable: 'mode', kind: 'enum', values: ['relearn', 'shutdown'] };
const ACTION: Choice = { variable: 'action', kind: 'enum', values: ['stop', 'suspend'] };
const APIS: Choice = { variable: 'apis', kind: 'bool', values: [false, true] };
const DATABASE: Choice = { variable: 'database', kind: 'given', values: [false, true] };
const APPROVAL: Choice = { variable: 'approval', kind: 'bool', values: [false, true] };
const CHOICES = [MODE, ACTION, APIS, DATABASE, APPROVAL];

/** The settings of a point, by name. */
function settings(point: Point) {
  return {
    mode: MODE.values[point[0]!] as string,
    action: ACTION.values[point[1]!] as string,
    apis: point[2] === 1,
    database: point[3] === 1,
    approval: point[4] === 1,
  };
}

/** A small construct: a topic, APIs on demand, a database unless one is given, and a function configured by all of it. */
function plan(point: Point): Outcome {
  const s = settings(point);
  if (s.approval && s.mode === 'shutdown') return { refused: "approval applies to mode 'relearn' only" };
  const apis = s.apis ? ['google_project_service.Api'] : [];
  const resource: Record<string, Record<string, Record<string, Json>>> = {
    google_pubsub_topic: { Topic: { name: '${var.prefix}-events', ...(apis.length > 0 && { depends_on: apis }) } },
    google_cloudfunctions2_function: {
      Function: {
        name: '${var.prefix}-handler',
        environment: {
          MODE: s.mode,
          ACTION: s.action,
          DATABASE: s.database ? '${var.database}' : s.mode === 'relearn' ? '${google_firestore_database.Baseline.name}' : 'none',
          APPROVAL: s.approval ? 'two-person' : 'none',
          // Changes only when two choices change together: invisible to one change at a time.
          EXPORT: s.apis && s.action === 'suspend' ? 'forensics' : 'plain',
        },
        permissions: [
          `compute.instances.${s.action}`,
          ...(s.mode === 'relearn' ? ['compute.instances.setShieldedInstanceIntegrityPolicy'] : []),
        ],
        depends_on: [...apis, ...(s.mode === 'relearn' && !s.database ? ['google_firestore_database.Baseline'] : [])],
        // A check of an optional value, made only when it is given, between two checks of another variable.
        lifecycle: {
          precondition: [
            { condition: '${can(regex("^[a-z]+$", var.prefix))}', error_message: 'prefix must be lowercase letters.' },
            ...(s.database
              ? [{ condition: '${length(var.database) > 3}', error_message: 'database must be longer than 3 characters.' }]
              : []),
            {
              condition: '${var.prefix != "x"}',
              error_message: s.mode === 'relearn' ? 'prefix must not be x.' : 'prefix must not be x here.',
            },
          ],
        },
      },
    },
  };
  if (s.apis) resource.google_project_service = { Api: { service: 'pubsub.googleapis.com' } };
  if (s.mode === 'relearn' && !s.database) resource.google_firestore_database = { Baseline: { name: '${var.prefix}-baselines' } };
  if (s.approval)
    resource.google_firestore_document = {
      Policy: { database: s.database ? '${var.database}' : '${google_firestore_database.Baseline.name}' },
    };
  return { doc: { resource } };
}

/** The values of a point as the evaluation takes them. */
function valuesAt(choices: readonly Choice[], point: Point): ChoiceValues {
  return Object.fromEntries(choices.map((c, i) => [c.variable, c.kind === 'given' ? (point[i] === 1 ? SET : null) : c.values[point[i]!]!]));
}

/** A configuration with each `depends_on` in order and none empty, so that two compare as Terraform reads them. */
function ordered(doc: Json): Json {
  if (Array.isArray(doc)) return doc.map(ordered);
  if (doc === null || typeof doc !== 'object') return doc;
  return Object.fromEntries(
    Object.entries(doc)
      .filter(([k, v]) => k !== 'depends_on' || (v as string[]).length > 0)
      .map(([k, v]) => [k, k === 'depends_on' ? [...(v as string[])].sort() : ordered(v)]),
  );
}

const resources = (doc: Doc) => doc.resource as Record<string, Record<string, Record<string, Json>>>;

describe('merging the plans of every combination of the choices', () => {
  let synths = 0;
  const counted = (p: Point) => {
    synths++;
    return plan(p);
  };
  const merged = merge(discover(CHOICES, counted, 2));
  const fn = resources(merged.doc).google_cloudfunctions2_function!.Function!;
  // As the generator does: each refusal is a precondition of the topic.
  const checked = structuredClone(merged.doc);
  resources(checked).google_pubsub_topic!.Topic!.lifecycle = {
    precondition: merged.refusals.map((r) => ({ condition: `\${${r.condition}}`, error_message: r.message })),
  };
  const environment = fn.environment as Record<string, string>;

  it.each(everyPoint(CHOICES).map((p) => [JSON.stringify(settings(p)), p] as const))(
    'gives exactly the plan of %s when its conditions are evaluated',
    (_name, point) => {
      const direct = plan(point);
      const evaluated = evaluateModule(checked, valuesAt(CHOICES, point));
      if ('refused' in direct) expect(evaluated.refused).toEqual([direct.refused]);
      else
        expect({ refused: evaluated.refused, doc: ordered(evaluated.doc as Json) }).toEqual({
          refused: [],
          doc: ordered(direct.doc as Json),
        });
    },
  );

  it('synthesizes fewer combinations than there are', () => {
    expect(synths).toBeLessThan(everyPoint(CHOICES).length);
  });

  it('creates a resource that exists in some combinations only with count, and indexes references to it', () => {
    expect(resources(merged.doc).google_project_service!.Api!.count).toBe('${var.apis ? 1 : 0}');
    expect(resources(merged.doc).google_firestore_database!.Baseline!.count).toBe(
      '${var.mode == "relearn" && (var.database == null) ? 1 : 0}',
    );
    expect(resources(merged.doc).google_firestore_document!.Policy!.database).toBe(
      '${var.database != null ? var.database : google_firestore_database.Baseline[0].name}',
    );
    expect(merged.counted).toEqual(
      expect.arrayContaining(['resource.google_project_service.Api', 'resource.google_firestore_database.Baseline']),
    );
  });

  it('writes a value that is always the choice as the variable itself', () => {
    expect(environment.MODE).toBe('${var.mode}');
    expect(environment.ACTION).toBe('${var.action}');
  });

  it('writes a value that changes as a conditional over only the choices it depends on', () => {
    expect(environment.APPROVAL).toBe('${var.approval ? "two-person" : "none"}');
    expect(new Set([...String(fn.permissions).matchAll(/var\.(\w+)/g)].map((m) => m[1]))).toEqual(new Set(['action', 'mode']));
    expect(fn.name).toBe('${var.prefix}-handler');
  });

  it('finds a value that changes only when two choices change together', () => {
    expect(environment.EXPORT).toMatch(/var\.apis/);
    expect(environment.EXPORT).toMatch(/var\.action/);
    expect(environment.EXPORT).not.toMatch(/var\.(mode|database|approval)/);
  });

  it('orders after every resource any combination waits for', () => {
    expect([...(fn.depends_on as string[])].sort()).toEqual(['google_firestore_database.Baseline', 'google_project_service.Api']);
  });

  it("names the choices of a combination the construct refuses, and only those, with the construct's sentence", () => {
    expect(merged.refusals).toEqual([
      { message: "approval applies to mode 'relearn' only", condition: '!(var.mode == "shutdown" && var.approval)' },
    ]);
  });

  it('writes a check made in some combinations only in its place among the checks, holding in the others', () => {
    expect((fn.lifecycle as { precondition: Json[] }).precondition).toEqual([
      { condition: '${can(regex("^[a-z]+$", var.prefix))}', error_message: 'prefix must be lowercase letters.' },
      { condition: '${var.database == null || (length(var.database) > 3)}', error_message: 'database must be longer than 3 characters.' },
      {
        condition: '${var.prefix != "x"}',
        error_message: '${var.mode == "shutdown" ? "prefix must not be x here." : "prefix must not be x."}',
      },
    ]);
  });

  it('refuses a block that exists in some combinations only, which a conditional cannot write', () => {
    const withBlock = (p: Point): Outcome => ({
      doc: {
        resource: { google_pubsub_topic: { Topic: { name: 'events', ...(p[0] === 1 && { retry_policy: { minimum_backoff: '10s' } }) } } },
      },
    });
    expect(() => merge(discover([APIS], withBlock, 2))).toThrow(/google_pubsub_topic\.Topic\.retry_policy has a different shape/);
  });
});

describeWithConsole();

/** The native-syntax expressions of values, evaluated by Terraform, equal the values as a `.tf.json` file holds them. */
function describeWithConsole(): void {
  describe('values written as expressions', () => {
    const VALUES: Record<string, Json> = {
      plain: 'events',
      quotes: 'resource.name == "projects/p/databases/d" and a \\ backslash',
      template: 'projects/${var.x}/topics/${upper(var.x)}-events',
      interpolation: '${var.x}',
      call: '${join(",", ["a", var.x])}',
      conditional: '${var.x == "X" ? "yes" : "no"}',
      escaped: 'literal $${not interpolated}',
      nested: '${format("%s-%s", var.x, "${var.x}-inner")}',
      lines: 'one\ntwo\tthree',
      number: 7,
      list: ['a', '${var.x}', 'c "quoted"'],
      none: null,
    };

    itWithTerraform('are the same values to Terraform (terraform console)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'module-merge-'));
      try {
        const asExpression = Object.fromEntries(Object.entries(VALUES).map(([k, v]) => [k, `\${${toExpression(v)}}`]));
        writeFileSync(
          join(dir, 'main.tf.json'),
          JSON.stringify({ variable: { x: { type: 'string', default: 'X' } }, locals: { json: VALUES, expression: asExpression } }),
        );
        writeFileSync(join(dir, 'terraformrc'), '');
        const run = spawnSync('terraform', ['console', '-no-color'], {
          cwd: dir,
          input: 'jsonencode([local.json, local.expression])\n',
          encoding: 'utf8',
          env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: join(dir, 'terraformrc') },
        });
        expect(run.stderr).toBe('');
        const [json, expression] = JSON.parse(JSON.parse(run.stdout.trim()) as string) as [Json, Json];
        expect(expression).toEqual(json);
        expect((json as Record<string, Json>).template).toBe('projects/X/topics/X-events');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
