import { buildFunctionBundle } from '../lib/bundle/build';
import { packageRoot } from '../lib/bundle/sources';
import { handleArguments } from './usage';

const USAGE = `usage: npm run build:function [-- --force | --help]

Bundles function/ with esbuild into dist/bundle/function.zip and writes its manifest. Skipped
when the manifest already records the current sources; --force rebuilds anyway.
`;

handleArguments(USAGE, ['--force']);

// Builds dist/bundle/function.zip (skipped when its sources are unchanged; --force rebuilds).
async function main(): Promise<void> {
  const started = performance.now();
  const m = await buildFunctionBundle(packageRoot(__dirname), { force: process.argv.includes('--force') });
  const ms = Math.round(performance.now() - started);
  process.stderr.write(
    `function bundle ${m.rebuilt ? 'built' : 'up to date'}: index.js ${(m.bundleBytes / 1e6).toFixed(2)} MB, ` +
      `zip ${(m.zipBytes / 1e6).toFixed(2)} MB, sha256 ${m.zipSha256.slice(0, 12)} (${ms} ms)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build-function failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
