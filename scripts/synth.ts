import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { handleArguments } from './usage';

const USAGE = `usage: npm run synth [-- --help]

Synthesizes the example stack in main.ts without the cdktf CLI (faster, offline) and prints
where the plan was written: cdktf.out/stacks/integrity-responder/cdk.tf.json, or under
$CDKTF_OUTDIR when set. Settings come from the environment (an empty variable counts as unset;
unset ones take the construct's defaults):

  GOOGLE_CLOUD_PROJECT    project deployed to, watched by default (default: my-shielded-vm-project)
  GOOGLE_CLOUD_REGION     region (default: us-central1)
  RESPONSE_MODE           relearn-if-known-good or shutdown
  FAILURE_ACTION          stop or suspend
  ENFORCEMENT             enforce or dry-run
  INSTANCE_GROUP_ACTION   abandon or contain-only
  FIRESTORE_DATABASE      an existing database, e.g. '(default)' (default: a dedicated one)
  EXEMPT_LABEL            key=value label of VMs never acted on
  SCOPE                   projects/<id>, folders/<number> or organizations/<number>
  ORGANIZATION_ID         organization of a folder scope
  EXCLUDED_PROJECTS       project ids never acted on, comma-separated
  MAX_ACTIONS_PER_WINDOW  stops and suspends per window, a number or 'unlimited'
  ACTION_WINDOW_SECONDS   length of a budget window
  REQUIRE_BASELINE_APPROVAL  'true' for the two-person rule on baselines
  ENABLE_APIS             'true' to enable the required APIs

or from CDKTF_CONTEXT_JSON='{"projectId":"…"}' with the context keys of docs/development.md (projectId,
region, responseMode, failureAction, enforcement, instanceGroupAction, firestoreDatabaseId,
exemptLabel, scope, organizationId, excludedProjects, maxActionsPerWindow, actionWindowSeconds,
requireBaselineApproval, enableApis); the environment wins. 'npx cdktf synth' produces the same plan through the CLI,
which reads "context" in cdktf.json instead (and overwrites CDKTF_CONTEXT_JSON with it).
`;

/** A message the construct left on the stack, as the manifest holds it. */
interface Annotation {
  readonly constructPath: string;
  readonly level: string;
  readonly message: string;
}

handleArguments(USAGE);
const root = join(__dirname, '..');
const started = performance.now();
// main.ts builds the App and calls synth(); running it is the synth.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(join(root, 'main.ts'));
const plan = join(process.env.CDKTF_OUTDIR ?? join(root, 'cdktf.out'), 'stacks', 'integrity-responder', 'cdk.tf.json');
if (!existsSync(plan)) {
  process.stderr.write(`synth: main.ts ran but ${plan} was not written\n`);
  process.exitCode = 1;
} else {
  // The CLI prints the stack's warnings; running the app directly leaves them in the manifest.
  const manifest = join(plan, '..', '..', '..', 'manifest.json');
  if (existsSync(manifest)) {
    const stacks = (JSON.parse(readFileSync(manifest, 'utf8')) as { stacks: Record<string, { annotations?: Annotation[] }> }).stacks;
    for (const a of Object.values(stacks).flatMap((stack) => stack.annotations ?? [])) {
      if (a.level === '@cdktf/warn') process.stderr.write(`warning: ${a.constructPath}: ${a.message}\n`);
    }
  }
  process.stdout.write(
    `plan written to ${relative(process.cwd(), plan) || plan} (${statSync(plan).size} bytes, ${Math.round(performance.now() - started)} ms)\n` +
      `review it with 'npx cdktf diff' (terraform plan), deploy with 'npx cdktf deploy'\n`,
  );
}
