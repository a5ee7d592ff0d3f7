import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildFunctionBundle } from '../lib/bundle/build';
import { bundleDir, packageRoot } from '../lib/bundle/sources';
import { handleArguments } from './usage';

const USAGE = `usage: npm run build [-- --help]

Builds what the npm package ships, into dist/:
  dist/bundle/   the function's source zip and its manifest (skipped when up to date)
  dist/lib/, dist/function/
                 the construct compiled to CommonJS with type declarations
  dist/bin/integrity-baselines.js
                 the baseline tool, bundled with its Firestore client
'npm pack' runs it first (prepack).
`;

async function main(): Promise<void> {
  handleArguments(USAGE);
  const root = packageRoot(__dirname);
  const started = performance.now();
  const bundle = await buildFunctionBundle(root);

  for (const dir of ['lib', 'function', 'bin']) rmSync(join(root, 'dist', dir), { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });

  const bin = join(root, 'dist', 'bin', 'integrity-baselines.js');
  mkdirSync(join(root, 'dist', 'bin'), { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: ['cli/integrity-baselines.ts'],
    outfile: bin,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  chmodSync(bin, 0o755);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  process.stderr.write(
    `built dist/: function zip ${mb(bundle.zipBytes)} (${bundle.rebuilt ? 'rebuilt' : 'up to date'}, sha256 ${bundle.zipSha256.slice(0, 12)}, in ${bundleDir(root).slice(root.length + 1)}), ` +
      `lib compiled, bin ${mb(statSync(bin).size)} (${Math.round(performance.now() - started)} ms)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
