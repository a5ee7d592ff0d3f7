import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { handleArguments } from './usage';

const USAGE = `usage: npm run synth [-- --help]

Synthesizes the example stack in main.ts into cdktf.out/ without the cdktf CLI (faster,
offline) and prints where the plan was written. Settings come from the environment:

  GOOGLE_CLOUD_PROJECT   project watched and deployed to (default: my-shielded-vm-project)
  GOOGLE_CLOUD_REGION    region (default: us-central1)
  RESPONSE_MODE          relearn-if-known-good (default) or shutdown
  FIRESTORE_DATABASE     an existing database, e.g. '(default)' (default: a dedicated one)
  ENABLE_APIS            'true' to enable the required APIs

or CDKTF_CONTEXT_JSON='{"projectId":"…"}'. 'npx cdktf synth' produces the same plan through the
CLI, which reads "context" in cdktf.json instead (and overwrites CDKTF_CONTEXT_JSON with it).
`;

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
  process.stdout.write(
    `plan written to ${relative(process.cwd(), plan) || plan} (${statSync(plan).size} bytes, ${Math.round(performance.now() - started)} ms)\n` +
      `review it with 'npx cdktf diff' (terraform plan), deploy with 'npx cdktf deploy'\n`,
  );
}
