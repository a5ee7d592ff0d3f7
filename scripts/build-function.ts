import { buildFunctionBundle } from '../lib/bundle/build';
import { packageRoot } from '../lib/bundle/sources';
import { handleArguments } from './usage';

const USAGE = `usage: npm run build:function [-- --force | --help]

Bundles function/ with esbuild into dist/bundle/function.zip, beside the package.json, the
package-lock.json (cut from the repository's, see docs/adr/0022) and the .npmrc the Cloud
Functions build installs from, and writes its manifest. Skipped when the manifest already
records the current sources; --force rebuilds anyway.
`;

handleArguments(USAGE, ['--force']);

// Builds dist/bundle/function.zip (skipped when its sources are unchanged; --force rebuilds).
async function main(): Promise<void> {
  const started = performance.now();
  const m = await buildFunctionBundle(packageRoot(__dirname), { force: process.argv.includes('--force') });
  const ms = Math.round(performance.now() - started);
  const files = m.files.map((f) => `${f.name} ${f.bytes} B`).join(', ');
  process.stderr.write(
    `function bundle ${m.rebuilt ? 'built' : 'up to date'}: zip ${(m.zipBytes / 1e6).toFixed(2)} MB (${files}), ` +
      `sha256 ${m.zipSha256.slice(0, 12)} (${ms} ms)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build-function failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
