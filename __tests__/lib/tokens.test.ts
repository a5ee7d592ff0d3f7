import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { matches } from '../../lib/tokens';
import { SETTINGS } from '../../function/contract';

/*
 * Props fed from Terraform variables. The plan's expressions are evaluated by a real Terraform
 * (`terraform console`, which needs no provider) with the variables set, and compared with what
 * the construct synthesizes for the same values written out.
 */

const PROJECT = 'fleet-prod-1234';
const CHANNEL = 'projects/fleet-prod-1234/notificationChannels/1355104823470596720';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Doc {
  variable?: Record<string, { type: string }>;
  resource: Record<string, Record<string, Record<string, Json>>>;
}

/** A stack with one responder; `vars` become Terraform variables handed to `props` by name. */
function synth(vars: Record<string, string>, props: (v: Record<string, TerraformVariable>) => Partial<IntegrityResponderProps>): Doc {
  const stack = new TerraformStack(Testing.app(), 'tokens');
  new GoogleProvider(stack, 'google', {});
  const v = Object.fromEntries(Object.entries(vars).map(([name, type]) => [name, new TerraformVariable(stack, name, { type })]));
  new IntegrityResponder(stack, 'Responder', { projectId: PROJECT, ...props(v) });
  return JSON.parse(Testing.synth(stack)) as Doc;
}

/**
 * Terraform expressions over a plan's values. A value of the plan is a template of Terraform's
 * JSON syntax: each is written into the evaluated configuration as a local of its own, as the
 * plan holds it, and read as `local.<name>`.
 */
class Expressions {
  readonly locals: Record<string, Json> = {};

  /** A value of the plan (a template string, or a list or map holding some). */
  value(v: Json): string {
    const name = `v${Object.keys(this.locals).length}`;
    this.locals[name] = v;
    return `local.${name}`;
  }

  /**
   * The blocks a dynamic block of the plan expands to, as a list. Its content's values that
   * read the iterator (`each.value`) are single interpolations, read as expressions.
   */
  expanded(dynamic: { for_each: string; content: Record<string, string> }): string {
    const content = Object.entries(dynamic.content).map(([k, t]) => `${k} = ${t.includes('each.') ? t.slice(2, -1) : this.value(t)}`);
    return `[for each in [for v in ${this.value(dynamic.for_each)} : { key = v, value = v }] : { ${content.join(', ')} }]`;
  }
}

/** A dynamic block of the plan, by its block type. */
type Dynamic<K extends string> = Record<K, { for_each: string; content: Record<string, string> }>;

/** Evaluates expressions over a plan's values with its variables set, by `terraform console`. */
function evaluate(doc: Doc, values: Record<string, Json>, build: (e: Expressions) => Record<string, string>): Record<string, Json> {
  const e = new Expressions();
  const expressions = build(e);
  const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
  try {
    const result = Object.entries(expressions).map(([k, x]) => `${k} = ${x}`);
    writeFileSync(
      join(dir, 'main.tf.json'),
      JSON.stringify({ variable: doc.variable, locals: { ...e.locals, result: `\${{ ${result.join(', ')} }}` } }),
    );
    writeFileSync(join(dir, 'values.tfvars.json'), JSON.stringify(values));
    writeFileSync(join(dir, 'terraformrc'), '');
    const run = spawnSync('terraform', ['console', '-no-color', '-var-file=values.tfvars.json'], {
      cwd: dir,
      input: 'jsonencode(local.result)\n',
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: join(dir, 'terraformrc') },
    });
    if (run.status !== 0 || /Error:/.test(run.stdout)) throw new Error(`terraform console failed: ${run.stdout}${run.stderr}`);
    return JSON.parse(JSON.parse(run.stdout.trim()) as string) as Record<string, Json>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The only resource of a type whose logical id starts with `Responder_<name>_`. */
function named(doc: Doc, type: string, name: string): Record<string, Json> {
  const found = Object.entries(doc.resource[type] ?? {}).filter(([id]) => id.startsWith(`Responder_${name}_`));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0]![1];
}

/** Every precondition of the plan, by the prop its message names. */
function preconditions(doc: Doc): Record<string, string> {
  const found: Record<string, string> = {};
  for (const byId of Object.values(doc.resource)) {
    for (const body of Object.values(byId)) {
      const lifecycle = body.lifecycle as { precondition?: { condition: string; error_message: string }[] } | undefined;
      for (const p of lifecycle?.precondition ?? []) {
        const prop = /^IntegrityResponder at '[^']+': (\S+)/.exec(p.error_message)![1]!;
        found[prop] = found[prop] === undefined ? p.condition : `\${${found[prop]!.slice(2, -1)} && ${p.condition.slice(2, -1)}}`;
      }
    }
  }
  return found;
}

/** Whether the prop's preconditions hold, by Terraform, for each set of values. */
function holds(doc: Doc, prop: string, valueSets: Record<string, Json>[]): boolean[] {
  const condition = preconditions(doc)[prop];
  if (condition === undefined) throw new Error(`no precondition names ${prop}`);
  return valueSets.map((values) => evaluate(doc, values, (e) => ({ ok: e.value(condition) })).ok as boolean);
}

/** The leaves of a plan by their path, without its variables and lifecycles (the preconditions). */
function leaves(value: Json, path = ''): [string, Json][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value)
      .filter(([k]) => !['variable', 'lifecycle', '//'].includes(k))
      .flatMap(([k, v]) => leaves(v, `${path}/${k}`));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}/${i}`));
  return [[path, value]];
}

/** A string of the plan with each reference to a resource or data source (`${google_x.Name.attr}`) written as `<ref>`. */
const unreferenced = (template: string) => template.replace(/\$\{(?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_.[\]]+\}/g, '<ref>');

const at = (doc: Json, path: string): Json =>
  path
    .split('/')
    .slice(1)
    .reduce<Json>((v, k) => (v as Record<string, Json>)?.[k] ?? null, doc);

describe('props given as Terraform values', () => {
  describe('namePrefix', () => {
    const doc = synth({ pfx: 'string' }, (v) => ({ namePrefix: v.pfx!.stringValue }));

    it('builds the custom role ids with replace(), so the hyphens Terraform substitutes become underscores', () => {
      expect(named(doc, 'google_project_iam_custom_role', 'InstanceRole').role_id).toBe('${replace(var.pfx, "-", "_")}_instances');
      expect(named(doc, 'google_project_iam_custom_role', 'LedgerRole').role_id).toBe('${replace(var.pfx, "-", "_")}_ledger');
      const roleIds = evaluate(doc, { pfx: 'fleet-a' }, (e) => ({
        instances: e.value(named(doc, 'google_project_iam_custom_role', 'InstanceRole').role_id!),
        ledger: e.value(named(doc, 'google_project_iam_custom_role', 'LedgerRole').role_id!),
      }));
      expect(roleIds).toEqual({ instances: 'fleet_a_instances', ledger: 'fleet_a_ledger' });
    });

    it('is checked at plan as a written-out prefix is at synth: too long, a trailing hyphen or uppercase fail', () => {
      expect(holds(doc, 'namePrefix', [{ pfx: 'fleet-a' }, { pfx: 'a'.repeat(21) }, { pfx: 'fleet-' }, { pfx: 'Fleet' }])).toEqual([
        true,
        false,
        false,
        false,
      ]);
    });

    it('is checked at plan for the default source bucket name built from it: a domain-scoped project id makes it invalid', () => {
      const built = synth({ project: 'string', pfx: 'string' }, (v) => ({
        projectId: v.project!.stringValue,
        namePrefix: v.pfx!.stringValue,
      }));
      expect(
        holds(built, 'sourceBucketName', [
          { project: PROJECT, pfx: 'fleet-a' },
          { project: `p${'x'.repeat(28)}`, pfx: 'a'.repeat(20) },
          { project: 'example.com:fleet-prod', pfx: 'fleet-a' },
        ]),
      ).toEqual([true, true, false]);
    });
  });

  describe('excludedProjects', () => {
    const organization = { scope: 'organizations/4242' } as const;
    const doc = synth({ excluded: 'list(string)' }, (v) => ({ ...organization, excludedProjects: v.excluded!.listValue }));
    const written = (excludedProjects: string[], more: Partial<IntegrityResponderProps> = {}) =>
      synth({}, () => ({ ...organization, excludedProjects, ...more }));

    it('accepts a list variable, which the function, the binding and the sink read through Terraform functions', () => {
      const fn = Object.values(doc.resource.google_cloudfunctions2_function!)[0] as {
        service_config: { environment_variables: Record<string, string> };
      };
      expect(fn.service_config.environment_variables.EXCLUDED_PROJECTS).toBe(
        '${(length(concat(var.excluded, ["fleet-prod-1234"])) < 1) ? "none" : join(",", sort(concat(var.excluded, ["fleet-prod-1234"])))}',
      );
    });

    it.each([[['lab-sandbox-2', 'example.com:lab-sandbox']], [[]]])(
      'evaluates, in Terraform, to what the written-out list %j synthesizes: EXCLUDED_PROJECTS, the IAM condition, the sink exclusions',
      (excluded) => {
        const literal = written(excluded);
        const fn = (d: Doc) =>
          (
            Object.values(d.resource.google_cloudfunctions2_function!)[0] as {
              service_config: { environment_variables: Record<string, Json> };
            }
          ).service_config.environment_variables.EXCLUDED_PROJECTS!;
        const binding = named(doc, 'google_organization_iam_member', 'RuntimeActsOnInstances') as unknown as {
          dynamic: Dynamic<'condition'>;
        };
        const sink = named(doc, 'google_logging_organization_sink', 'Sink') as unknown as { dynamic: Dynamic<'exclusions'> };
        const got = evaluate(doc, { excluded }, (e) => ({
          env: e.value(fn(doc)),
          condition: e.expanded(binding.dynamic.condition),
          exclusions: e.expanded(sink.dynamic.exclusions),
        }));
        const byName = (list: Json) => [...(list as { name: string }[])].sort((a, b) => a.name.localeCompare(b.name));
        expect(got.env).toBe(fn(literal));
        expect(got.condition).toEqual([named(literal, 'google_organization_iam_member', 'RuntimeActsOnInstances').condition]);
        expect(byName(got.exclusions!)).toEqual(byName(named(literal, 'google_logging_organization_sink', 'Sink').exclusions!));
      },
    );

    it('leaves the condition out, as a written-out empty list does, when the responder’s own project is watched', () => {
      const watched = synth({ excluded: 'list(string)' }, (v) => ({
        ...organization,
        excludedProjects: v.excluded!.listValue,
        watchResponderProject: true,
      }));
      const binding = named(watched, 'google_organization_iam_member', 'RuntimeActsOnInstances') as unknown as {
        dynamic: Dynamic<'condition'>;
      };
      expect(evaluate(watched, { excluded: [] }, (e) => ({ condition: e.expanded(binding.dynamic.condition) })).condition).toEqual([]);
      expect(
        named(written([], { watchResponderProject: true }), 'google_organization_iam_member', 'RuntimeActsOnInstances'),
      ).not.toHaveProperty('condition');
    });

    it('is checked at plan: at most 9 projects besides the responder’s own, project ids, each once, never the responder’s own', () => {
      const nine = Array.from({ length: 9 }, (_, i) => `lab-sandbox-${i}`);
      expect(
        holds(doc, 'excludedProjects', [
          { excluded: nine },
          { excluded: [...nine, 'lab-sandbox-9'] },
          { excluded: ['Lab_Sandbox'] },
          { excluded: ['lab-sandbox-1', 'lab-sandbox-1'] },
          { excluded: [PROJECT] },
          { excluded: [] },
          // One element holding two ids, which a check of the comma-joined list would pass.
          { excluded: ['lab-sandbox-1,lab-sandbox-2'] },
        ]),
      ).toEqual([true, false, false, false, false, true, false]);
    });
  });

  describe('projectId, region, namePrefix, scope and organizationId', () => {
    const vars = { project: 'string', region: 'string', pfx: 'string', folder: 'string', org: 'string' };
    const doc = synth(vars, (v) => ({
      projectId: v.project!.stringValue,
      region: v.region!.stringValue,
      namePrefix: v.pfx!.stringValue,
      scope: `folders/${v.folder!.stringValue}`,
      organizationId: v.org!.stringValue,
    }));
    const values = { project: PROJECT, region: 'europe-west4', pfx: 'fleet-a', folder: '5550001', org: '4242' };
    const literal = synth({}, () => ({
      projectId: PROJECT,
      region: 'europe-west4',
      namePrefix: 'fleet-a',
      scope: 'folders/5550001',
      organizationId: '4242',
    }));

    it('synthesizes a plan whose every value built from them evaluates to the written-out plan’s', () => {
      const compared: Record<string, Json> = {};
      const expected: Record<string, Json> = {};
      for (const [path, value] of leaves(doc as unknown as Json)) {
        if (typeof value !== 'string' || !value.includes('var.')) {
          if (!path.startsWith('/variable')) expect([path, value]).toEqual([path, at(literal as unknown as Json, path)]);
          continue;
        }
        // A reference to another resource has no value before apply: it stands for itself on both sides.
        const key = `v${Object.keys(compared).length}`;
        compared[key] = unreferenced(value);
        expected[key] = unreferenced(at(literal as unknown as Json, path) as string);
      }
      expect(Object.keys(compared).length).toBeGreaterThan(80);
      expect(evaluate(doc, values, (e) => Object.fromEntries(Object.entries(compared).map(([k, v]) => [k, e.value(v)])))).toEqual(expected);
    });

    it('are checked at plan as written-out values are at synth', () => {
      expect(holds(doc, 'projectId', [values, { ...values, project: 'Fleet' }])).toEqual([true, false]);
      expect(holds(doc, 'region', [values, { ...values, region: 'europe-west4-a' }])).toEqual([true, false]);
      expect(holds(doc, 'scope', [values, { ...values, folder: 'security' }])).toEqual([true, false]);
      expect(holds(doc, 'organizationId', [values, { ...values, org: '04242' }])).toEqual([true, false]);
    });

    it('fails at synth, naming what may be a Terraform value, when the whole scope is one', () => {
      expect(() => synth({ scope: 'string' }, (v) => ({ scope: v.scope!.stringValue }))).toThrow(
        "IntegrityResponder at 'tokens/Responder': scope must spell out its kind, as 'projects/<id>', 'folders/<number>' or 'organizations/<number>' (the kind decides which resources are created), and only the id after the slash may be a Terraform value; got one Terraform value for the whole scope",
      );
    });
  });

  describe('notificationChannels', () => {
    const doc = synth({ channels: 'list(string)' }, (v) => ({ notificationChannels: v.channels!.listValue }));

    it('hands a list variable to every alert policy as it is', () => {
      const policies = Object.values(doc.resource.google_monitoring_alert_policy!);
      expect(policies).toHaveLength(8);
      expect(new Set(policies.map((p) => p.notification_channels))).toEqual(new Set(['${var.channels}']));
    });

    it('is checked at plan: full channel names, each once', () => {
      expect(
        holds(doc, 'notificationChannels', [
          { channels: [CHANNEL] },
          { channels: [] },
          { channels: ['1355104823470596720'] },
          { channels: [CHANNEL, CHANNEL] },
          { channels: [`${CHANNEL},${CHANNEL.replace(/1$/, '2')}`] },
        ]),
      ).toEqual([true, true, false, false, false]);
    });
  });

  describe('labels', () => {
    const doc = synth({ labels: 'map(string)' }, (v) => ({ labels: Token.asStringMap(v.labels!.value) }));
    const labelled = (d: Doc) =>
      Object.entries(d.resource).flatMap(([type, byId]) =>
        Object.entries(byId)
          .filter(([, body]) => body.labels !== undefined || body.user_labels !== undefined)
          .map(([id, body]) => [`${type}.${id}`, body.labels ?? body.user_labels] as [string, Json]),
      );

    it('merges a map variable under the construct’s labels on every labelled resource, as written-out labels are', () => {
      const literal = synth({}, () => ({ labels: { team: 'platform' } }));
      const merged = labelled(doc);
      expect(merged.length).toBe(labelled(literal).length);
      const got = evaluate(doc, { labels: { team: 'platform', responder: 'mine' } }, (e) =>
        Object.fromEntries(merged.map(([, l], i) => [`l${i}`, e.value(l)])),
      );
      expect(Object.values(got)).toEqual(labelled(literal).map(([, l]) => l));
    });

    it('is checked at plan: label keys and values as Google allows, and neither managed-by nor responder', () => {
      expect(
        holds(doc, 'labels', [
          { labels: { team: 'platform', 'cost-center': '' } },
          { labels: {} },
          { labels: { Team: 'platform' } },
          { labels: { team: 'Platform' } },
          { labels: { responder: 'mine' } },
          { labels: { 'managed-by': 'me' } },
          { labels: { team: 'a,b' } },
        ]),
      ).toEqual([true, true, false, false, false, false, false]);
    });
  });

  describe('baselineCollection', () => {
    const doc = synth({ collection: 'string' }, (v) => ({ baselineCollection: v.collection!.stringValue, requireBaselineApproval: true }));

    it('is checked at plan as the function checks it: no slash, not . or .., not __…__ (the lookahead pattern in parts)', () => {
      const values = ['known_good_measurements', 'a/b', '__x__', '.', '..', 'a"b', '.x', '__x', 'x'.repeat(1500), 'x'.repeat(1501)];
      expect(
        holds(
          doc,
          'baselineCollection',
          values.map((collection) => ({ collection })),
        ),
      ).toEqual(values.map((v) => SETTINGS.baselineCollection.pattern.test(v)));
      expect(values.map((v) => SETTINGS.baselineCollection.pattern.test(v))).toEqual([
        true,
        false,
        false,
        false,
        false,
        true,
        true,
        true,
        true,
        false,
      ]);
    });

    it('writes the policy document with jsonencode(), so a quote in the value stays inside its string', () => {
      const policy = Object.values(doc.resource.google_firestore_document!)[0]!;
      const fields = evaluate(doc, { collection: 'x","requireApproval":{"booleanValue":false},"y":"' }, (e) => ({
        f: e.value(policy.fields!),
      })).f;
      expect(JSON.parse(fields as string)).toEqual({
        baselineCollection: { stringValue: 'x","requireApproval":{"booleanValue":false},"y":"' },
        requireApproval: { booleanValue: true },
      });
    });
  });

  it.each([
    ['enforcement', ['enforce', 'dry-run'], ['enforced']],
    ['logLevel', ['debug', 'notice'], ['warning', 'loud']],
    ['staleEventPolicy', ['fail-closed'], ['closed']],
    ['runtime', ['nodejs24'], ['nodejs20']],
  ] as const)('checks %s at plan against the values the construct accepts written out', (prop, good, bad) => {
    const doc = synth({ value: 'string' }, (v) => ({ [prop]: v.value!.stringValue }) as Partial<IntegrityResponderProps>);
    expect(
      holds(
        doc,
        prop,
        [...good, ...bad].map((value) => ({ value })),
      ),
    ).toEqual([...good.map(() => true), ...bad.map(() => false)]);
  });

  describe('quarantineFirewallPolicy', () => {
    const doc = synth({ policy: 'string' }, (v) => ({
      scope: 'organizations/4242',
      containment: ['quarantine', 'stop'],
      quarantineFirewallPolicy: v.policy!.stringValue,
    }));

    it('names the existing policy in every rule by its numeric id, with or without its path, as the written-out value does', () => {
      const rules = Object.values(doc.resource.google_compute_firewall_policy_rule!);
      expect(rules).toHaveLength(4);
      for (const policy of ['123456789012', 'locations/global/firewallPolicies/123456789012']) {
        const written = Object.values(
          synth({}, () => ({ scope: 'organizations/4242', containment: ['quarantine', 'stop'], quarantineFirewallPolicy: policy })).resource
            .google_compute_firewall_policy_rule!,
        ).map((r) => r.firewall_policy);
        const evaluated = evaluate(doc, { policy }, (e) => Object.fromEntries(rules.map((r, i) => [`r${i}`, e.value(r.firewall_policy!)])));
        expect({ policy, evaluated: Object.values(evaluated), written }).toEqual({
          policy,
          evaluated: ['123456789012', '123456789012', '123456789012', '123456789012'],
          written: ['123456789012', '123456789012', '123456789012', '123456789012'],
        });
      }
      expect(doc.resource.google_compute_firewall_policy).toBeUndefined();
      expect(doc.resource.google_compute_firewall_policy_association).toBeUndefined();
    });

    it('is checked at plan as a written-out policy is at synth: a short name or a network policy fail', () => {
      expect(
        holds(doc, 'quarantineFirewallPolicy', [
          { policy: '123456789012' },
          { policy: 'locations/global/firewallPolicies/123456789012' },
          { policy: 'org-baseline' },
          { policy: 'projects/fleet-prod-1234/global/firewallPolicies/123' },
        ]),
      ).toEqual([true, true, false, false]);
    });
  });

  describe('forensicsProjectId', () => {
    const snapshot = { containment: ['snapshot', 'stop'] } as const;

    it('is checked at plan to be another project than a project scope’s, either side a Terraform value', () => {
      const forensics = synth({ forensics: 'string' }, (v) => ({ ...snapshot, forensicsProjectId: v.forensics!.stringValue }));
      expect(holds(forensics, 'forensicsProjectId', [{ forensics: 'fleet-forensics-7' }, { forensics: PROJECT }])).toEqual([true, false]);
      const scope = synth({ watched: 'string' }, (v) => ({
        ...snapshot,
        scope: `projects/${v.watched!.stringValue}`,
        forensicsProjectId: 'fleet-forensics-7',
      }));
      expect(holds(scope, 'forensicsProjectId', [{ watched: 'fleet-vms-5678' }, { watched: 'fleet-forensics-7' }])).toEqual([true, false]);
    });

    it('is checked at plan to be another project than the responder’s own where watchResponderProject puts it in the scope', () => {
      const doc = synth({ forensics: 'string' }, (v) => ({
        ...snapshot,
        scope: 'organizations/4242',
        watchResponderProject: true,
        forensicsProjectId: v.forensics!.stringValue,
      }));
      expect(holds(doc, 'forensicsProjectId', [{ forensics: 'fleet-forensics-7' }, { forensics: PROJECT }])).toEqual([true, false]);
    });
  });

  it('synthesizes without cdktf warnings (a template handed to a nested function makes cdktf warn that its output may be incorrect)', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      synth(
        { project: 'string', pfx: 'string', org: 'string', excluded: 'list(string)', channels: 'list(string)', labels: 'map(string)' },
        (v) => ({
          projectId: v.project!.stringValue,
          namePrefix: v.pfx!.stringValue,
          scope: `organizations/${v.org!.stringValue}`,
          excludedProjects: v.excluded!.listValue,
          notificationChannels: v.channels!.listValue,
          labels: Token.asStringMap(v.labels!.value),
        }),
      );
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('writes a pattern with backslashes so that Terraform reads the same pattern (matches())', () => {
    const stack = new TerraformStack(Testing.app(), 'pattern');
    const v = new TerraformVariable(stack, 'v', { type: 'string' });
    const doc = (condition: unknown) => {
      new TerraformOutput(stack, 'o', { value: condition });
      return JSON.parse(Testing.synth(stack)) as Doc & { output: { o: { value: string } } };
    };
    const synthesized = doc(matches(/^a\.b\(c\)\/d$/, v.stringValue));
    const verdict = (value: string) => evaluate(synthesized, { v: value }, (e) => ({ r: e.value(synthesized.output.o.value) })).r;
    expect([verdict('a.b(c)/d'), verdict('axb(c)/d'), verdict('a.bc/d')]).toEqual([true, false, false]);
  });

  it('adds no precondition when every prop is written out', () => {
    expect(preconditions(synth({}, () => ({ scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'] })))).toEqual({});
  });

  it('names the construct and the prop in each precondition’s message, a sentence Terraform prints as it is', () => {
    const doc = synth({ pfx: 'string' }, (v) => ({ namePrefix: v.pfx!.stringValue }));
    const topic = named(doc, 'google_pubsub_topic', 'Topic') as { lifecycle: { precondition: { error_message: string }[] } };
    const [message] = topic.lifecycle.precondition.map((p) => p.error_message);
    expect(evaluate(doc, { pfx: 'x' }, (e) => ({ message: e.value(message!) })).message).toBe(
      "IntegrityResponder at 'tokens/Responder': namePrefix must match /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/ (a lowercase letter, then lowercase letters, digits or hyphens, not ending with a hyphen, at most 20 characters).",
    );
  });
});
