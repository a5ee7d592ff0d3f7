import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { COMMANDS } from '../cli/commands';
import { buildFunctionBundle } from '../lib/bundle/build';
import { bundleDir, packageRoot } from '../lib/bundle/sources';
import { handleArguments } from './usage';

const USAGE = `usage: npm run build [-- --help]

Builds what the npm package ships, into dist/:
  dist/bundle/   the function's source zip and its manifest (skipped when up to date)
  dist/lib/, dist/function/
                 the construct compiled to CommonJS with type declarations
  dist/bin/       the baseline, action-budget, containment and module tools: commands.js, bundled with the
                 Firestore client they share, and one small file per bin
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

  mkdirSync(join(root, 'dist', 'bin'), { recursive: true });
  const commands = join(root, 'dist', 'bin', 'commands.js');
  await build({
    absWorkingDir: root,
    entryPoints: ['cli/commands.ts'],
    outfile: commands,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const bins = Object.keys(COMMANDS);
  for (const name of bins) {
    const bin = join(root, 'dist', 'bin', `${name}.js`);
    writeFileSync(bin, `#!/usr/bin/env node\n'use strict';\nrequire('./commands.js').COMMANDS[${JSON.stringify(name)}]();\n`);
    chmodSync(bin, 0o755);
  }
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  process.stderr.write(
    `built dist/: function zip ${mb(bundle.zipBytes)} (${bundle.rebuilt ? 'rebuilt' : 'up to date'}, sha256 ${bundle.zipSha256.slice(0, 12)}, in ${bundleDir(root).slice(root.length + 1)}), ` +
      `lib compiled, bins ${bins.join(', ')} (commands.js ${mb(statSync(commands).size)}) (${Math.round(performance.now() - started)} ms)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
