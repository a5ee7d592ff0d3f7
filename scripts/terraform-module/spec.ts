import { TerraformVariable, Token } from 'cdktf';
import { PROJECT_ID, SETTINGS } from '../../function/contract';
// Declared with the tool that refuses a stack whose values differ from them, which ships in the package.
import { FIXED_PROPS } from '../../cli/module/settings';
import type { IntegrityResponderProps } from '../../lib';
import { SUPPORTED_RUNTIMES, resolveProps } from '../../lib/props';
import type { Choice } from './choices';
import type { Json } from './hcl';

/*
 * What the module takes, and how each input reaches the construct: most as a Terraform value
 * (a token), the choices that decide what is created as separate synths (choices.ts). Defaults
 * are the construct's, read from its own resolution of the props; the rules of the validation
 * blocks are the construct's and the contract's (rules.ts).
 */

/** Where the watched VMs live; the kind decides resource types, so each kind is a module of its own. */
export type ScopeKind = 'project' | 'folder' | 'organization';

/** Terraform types of the inputs. */
export type InputType = 'string' | 'number' | 'bool' | 'list(string)' | 'map(string)';

/** A prop given to every synth as a Terraform value. */
interface ValueInput {
  readonly variable: string;
  readonly type: InputType;
  /** The prop it stands for: the construct's default is its default, its TSDoc its description. */
  readonly prop: keyof IntegrityResponderProps;
  /** How the variable's value is handed to the construct; by default the prop is the variable. */
  readonly feed?: (value: TerraformVariable) => Partial<IntegrityResponderProps>;
  /** The description, instead of the prop's TSDoc. */
  readonly description?: string;
  /** No default: the caller sets it. */
  readonly required?: true;
}

/** An input the construct takes written out: each value is a synth of its own. */
interface ChoiceInput {
  readonly variable: string;
  readonly type: InputType;
  readonly prop: keyof IntegrityResponderProps;
  /** `given`: an optional value whose presence changes what the construct writes (the prop set to the variable, or left out). */
  readonly kind: Choice['kind'];
  /** Values of an `enum` choice; a boolean's are true and false, a `given`'s null and set. */
  readonly values?: readonly string[];
  /** How a `given` choice's value is handed to the construct when set; by default the prop is the variable. */
  readonly feed?: (value: TerraformVariable) => Partial<IntegrityResponderProps>;
  readonly description?: string;
}

/** One input of a module. */
export type Input = (ValueInput & { readonly choice?: undefined }) | (ChoiceInput & { readonly choice: true });

/** A module: the scope kind it deploys, where it is written, and its inputs in the order the README lists them. */
export interface ModuleSpec {
  readonly kind: ScopeKind;
  /** Folder under the module root: '' for the root module. */
  readonly dir: string;
  /** How a caller names it, relative to the module root. */
  readonly source: string;
  readonly inputs: readonly Input[];
  /** The props every synth of this module starts from (the scope, and what the caller fixed). */
  readonly base: (vars: Readonly<Record<string, TerraformVariable>>) => Partial<IntegrityResponderProps>;
  /**
   * What the module says of a value of its scope input that the construct's `scope` check
   * refuses: the construct's sentence names `scope` and lists the prefixes (`projects/`, …) that
   * the module adds itself, and that a caller who wrote one has to leave out.
   */
  readonly scopeMessage: string;
}

/** Props the construct computes with, which a module takes from the construct's defaults (or `--set`). */
export const FIXED = FIXED_PROPS satisfies readonly (keyof IntegrityResponderProps)[];

/** A fixed prop. */
export type FixedProp = (typeof FIXED)[number];

const list = (prop: keyof IntegrityResponderProps) => (v: TerraformVariable) => ({ [prop]: v.listValue });
const choice = (c: ChoiceInput): Input => ({ ...c, choice: true });

/** The inputs every scope kind takes, after its own required ones. */
function common(kind: ScopeKind): Input[] {
  const aggregated = kind !== 'project';
  return [
    { variable: 'region', type: 'string', prop: 'region' },
    { variable: 'name_prefix', type: 'string', prop: 'namePrefix' },
    choice({ variable: 'response_mode', type: 'string', prop: 'responseMode', kind: 'enum', values: SETTINGS.responseMode.values }),
    choice({ variable: 'failure_action', type: 'string', prop: 'failureAction', kind: 'enum', values: SETTINGS.failureAction.values }),
    { variable: 'enforcement', type: 'string', prop: 'enforcement' },
    choice({
      variable: 'instance_group_action',
      type: 'string',
      prop: 'instanceGroupAction',
      kind: 'enum',
      values: SETTINGS.instanceGroupAction.values,
    }),
    choice({ variable: 'require_baseline_approval', type: 'bool', prop: 'requireBaselineApproval', kind: 'bool' }),
    { variable: 'exempt_label', type: 'string', prop: 'exemptLabel' },
    ...(aggregated
      ? [
          { variable: 'excluded_projects', type: 'list(string)', prop: 'excludedProjects', feed: list('excludedProjects') } as const,
          choice({ variable: 'watch_responder_project', type: 'bool', prop: 'watchResponderProject', kind: 'bool' }),
        ]
      : [
          choice({
            variable: 'watched_project_id',
            type: 'string',
            prop: 'scope',
            kind: 'given',
            feed: (v) => ({ scope: `projects/${v.stringValue}` }),
            description:
              'Project whose Shielded VMs are watched, when it is not `project_id`: the recommended layout keeps the responder in a security project of its own. A project id, without `projects/`. When null: `project_id`.',
          }),
        ]),
    { variable: 'notification_channels', type: 'list(string)', prop: 'notificationChannels', feed: list('notificationChannels') },
    { variable: 'labels', type: 'map(string)', prop: 'labels', feed: (v) => ({ labels: Token.asStringMap(v.value) }) },
    choice({ variable: 'enable_apis', type: 'bool', prop: 'enableApis', kind: 'bool' }),
    choice({ variable: 'firestore_database_id', type: 'string', prop: 'firestoreDatabaseId', kind: 'given' }),
    choice({ variable: 'firestore_location_id', type: 'string', prop: 'firestoreLocationId', kind: 'given' }),
    choice({ variable: 'firestore_delete_protection', type: 'bool', prop: 'firestoreDeleteProtection', kind: 'bool' }),
    { variable: 'baseline_collection', type: 'string', prop: 'baselineCollection' },
    choice({ variable: 'source_bucket_name', type: 'string', prop: 'sourceBucketName', kind: 'given' }),
    { variable: 'runtime', type: 'string', prop: 'runtime' },
    { variable: 'max_instance_count', type: 'number', prop: 'maxInstanceCount' },
    choice({ variable: 'available_cpu', type: 'string', prop: 'availableCpu', kind: 'given' }),
    { variable: 'max_instance_request_concurrency', type: 'number', prop: 'maxInstanceRequestConcurrency' },
    { variable: 'max_delivery_attempts', type: 'number', prop: 'maxDeliveryAttempts' },
    { variable: 'log_level', type: 'string', prop: 'logLevel' },
    { variable: 'stale_event_policy', type: 'string', prop: 'staleEventPolicy' },
  ];
}

/** The security project: the prop's TSDoc speaks of `scope`, which each module takes in words of its own. */
const projectId = (kind: ScopeKind): Input => ({
  variable: 'project_id',
  type: 'string',
  prop: 'projectId',
  required: true,
  description:
    kind === 'project'
      ? "Project where the responder's resources are created, and whose Shielded VMs are watched unless `watched_project_id` names another project. A Google Cloud project id."
      : "Project where the responder's resources are created (the security project: function, databases, topics). Its own VMs are watched only with `watch_responder_project`. A Google Cloud project id.",
});

/** The three modules: the root deploys a project scope, the submodules a folder or an organization scope. */
export const MODULES: readonly ModuleSpec[] = [
  {
    kind: 'project',
    dir: '',
    source: '.',
    inputs: [projectId('project'), ...common('project')],
    base: () => ({}),
    scopeMessage: `watched_project_id must be a Google Cloud project id such as 'fleet-prod-1234', without 'projects/' (matching ${PROJECT_ID}).`,
  },
  {
    kind: 'folder',
    dir: 'modules/folder',
    source: './modules/folder',
    inputs: [
      projectId('folder'),
      {
        variable: 'folder_id',
        type: 'string',
        prop: 'scope',
        required: true,
        feed: () => ({}),
        description: 'Number of the folder whose projects are watched, now and later: digits only, without `folders/`.',
      },
      {
        variable: 'organization_id',
        type: 'string',
        prop: 'organizationId',
        required: true,
        description:
          "Number of the organization holding the folder: the runtime's custom role is an organization role bound at the folder (IAM has no folder roles).",
      },
      ...common('folder'),
    ],
    base: (v) => ({ scope: `folders/${v.folder_id!.stringValue}` }),
    scopeMessage: "folder_id must be the folder's number, digits only such as '345678901234', without 'folders/'.",
  },
  {
    kind: 'organization',
    dir: 'modules/organization',
    source: './modules/organization',
    inputs: [
      projectId('organization'),
      {
        variable: 'organization_id',
        type: 'string',
        prop: 'scope',
        required: true,
        feed: () => ({}),
        description: 'Number of the organization whose projects are watched, now and later: digits only, without `organizations/`.',
      },
      ...common('organization'),
    ],
    base: (v) => ({ scope: `organizations/${v.organization_id!.stringValue}` }),
    scopeMessage: "organization_id must be the organization's number, digits only such as '800000000001', without 'organizations/'.",
  },
];

/** The written-out props that stand for a scope kind when the construct resolves defaults. */
export function probeProps(kind: ScopeKind): IntegrityResponderProps {
  const scope = { project: undefined, folder: 'folders/123', organization: 'organizations/123' }[kind];
  return { projectId: 'probe-project', ...(scope && { scope }), ...(kind === 'folder' && { organizationId: '456' }) };
}

/** The choices of a module, in the order of its inputs, each with its default first. */
export function choicesOf(spec: ModuleSpec): Choice[] {
  const resolved = resolveProps(probeProps(spec.kind)) as unknown as Record<string, unknown>;
  return spec.inputs.flatMap((input): Choice[] => {
    if (!input.choice) return [];
    if (input.kind === 'given') return [{ variable: input.variable, kind: 'given', values: [false, true] }];
    const current = resolved[input.prop] as string | boolean;
    const values = input.kind === 'bool' ? [true, false] : input.values!;
    return [{ variable: input.variable, kind: input.kind, values: [current, ...values.filter((v) => v !== current)] }];
  });
}

/** The module default of an input: none when required, null for an optional `given` value, else the construct's. */
export function defaultOf(spec: ModuleSpec, input: Input): { readonly value: Json } | undefined {
  if (!input.choice && input.required) return undefined;
  if (input.choice && input.kind === 'given') return { value: null };
  const resolved = resolveProps(probeProps(spec.kind)) as unknown as Record<string, Json>;
  const value = resolved[input.prop];
  if (value === undefined) throw new Error(`the construct resolves no default for ${input.prop}`);
  return { value: Array.isArray(value) ? [...value] : value };
}

/** The contract's pattern of a prop the module checks at validate, whatever the construct checks at plan (a check both write is written once). */
export const UNCHECKED_PATTERNS: Partial<Record<keyof IntegrityResponderProps, RegExp>> = {
  exemptLabel: SETTINGS.exemptLabel.pattern,
  firestoreDatabaseId: SETTINGS.firestoreDatabase.pattern,
};

/**
 * The pattern of each element of a list prop whose Terraform value the construct checks only
 * together with other variables (the excluded projects with the responder's own project, at
 * plan): the module checks each element alone, at validate, under the variable's own name.
 */
export const ELEMENT_PATTERNS: Partial<Record<keyof IntegrityResponderProps, RegExp>> = {
  excludedProjects: PROJECT_ID,
};

/** Enumerated props with the values the contract lists (those the construct accepts are kept). */
export const ENUMERATED: Partial<Record<keyof IntegrityResponderProps, readonly string[]>> = {
  responseMode: SETTINGS.responseMode.values,
  failureAction: SETTINGS.failureAction.values,
  enforcement: SETTINGS.enforcement.values,
  instanceGroupAction: SETTINGS.instanceGroupAction.values,
  logLevel: SETTINGS.logLevel.values,
  staleEventPolicy: SETTINGS.staleEventPolicy.values,
  runtime: SUPPORTED_RUNTIMES,
};
