import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildOptions, Plugin, build } from 'esbuild';
import { ENTRY_POINT } from '../../function/entry-point';
import { FUNCTIONS_FRAMEWORK_VERSION, FunctionBundleManifest, MIN_NODE_MAJOR } from './manifest';
import { pruneProtoJson } from './prune-protos';
import { bundleDir, sourcesHash } from './sources';
import { deterministicZip } from './zip';

/** The Compute services the handler calls; everything else is cut from the descriptor. */
const COMPUTE_SERVICES = [
  'google.cloud.compute.v1.Instances',
  'google.cloud.compute.v1.ZoneOperations',
  // Managed instance groups (ADR 0010): listManagedInstances and abandonInstances.
  'google.cloud.compute.v1.InstanceGroupManagers',
  'google.cloud.compute.v1.RegionInstanceGroupManagers',
];
const COMPUTE_PROTOS = /[\\/]@google-cloud[\\/]compute[\\/]build[\\/]protos[\\/]protos\.json$/;

function pruneComputeProtos(): Plugin {
  return {
    name: 'prune-compute-protos',
    setup(b) {
      b.onLoad({ filter: COMPUTE_PROTOS }, (args) => ({
        contents: JSON.stringify(pruneProtoJson(JSON.parse(readFileSync(args.path, 'utf8')), COMPUTE_SERVICES)),
        loader: 'json',
      }));
    },
  };
}

/**
 * The esbuild options of a Cloud Run function bundle (one CommonJS file for the runtime's Node
 * floor, the Functions Framework left to the runtime), for an entry point under `root`.
 */
export function functionBuildOptions(root: string, entryPoint: string): BuildOptions & { write: false } {
  return {
    absWorkingDir: root, // paths in the output are relative to it: the same bytes from any cwd
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${MIN_NODE_MAJOR}`,
    // Resolved from the runtime's node_modules: the platform loads the framework, and a
    // bundled second copy would hold an empty function registry.
    external: ['@google-cloud/functions-framework'],
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    write: false,
    logLevel: 'silent',
  };
}

/**
 * Bundles `function/index.ts` with esbuild and packs it, with the `package.json` the Cloud
 * Functions build installs from, into `dist/bundle/function.zip`. Skips the work when the
 * manifest already records the current sources.
 */
export async function buildFunctionBundle(
  root: string,
  options: { force?: boolean } = {},
): Promise<FunctionBundleManifest & { rebuilt: boolean }> {
  const dir = bundleDir(root);
  const hash = sourcesHash(root);
  if (!options.force) {
    try {
      const existing = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as FunctionBundleManifest;
      const zip = readFileSync(join(dir, existing.zipFile));
      if (existing.sourcesHash === hash && createHash('sha256').update(zip).digest('hex') === existing.zipSha256) {
        return { ...existing, rebuilt: false };
      }
    } catch {
      // no usable previous build: build below
    }
  }
  const result = await build({
    ...functionBuildOptions(root, 'function/index.ts'),
    plugins: [pruneComputeProtos()],
  });
  const code = Buffer.from(result.outputFiles[0]!.contents);
  const packageJson = {
    name: 'shielded-vm-integrity-responder-function',
    private: true,
    main: 'index.js',
    engines: { node: `>=${MIN_NODE_MAJOR}` },
    dependencies: { '@google-cloud/functions-framework': FUNCTIONS_FRAMEWORK_VERSION },
  };
  const zip = deterministicZip([
    { name: 'index.js', data: code },
    { name: 'package.json', data: Buffer.from(`${JSON.stringify(packageJson, null, 2)}\n`) },
  ]);
  const manifest: FunctionBundleManifest = {
    zipFile: 'function.zip',
    zipSha256: createHash('sha256').update(zip).digest('hex'),
    zipBytes: zip.length,
    bundleBytes: code.length,
    entryPoint: ENTRY_POINT,
    sourcesHash: hash,
  };
  mkdirSync(dir, { recursive: true });
  // Write then rename: a concurrent reader never sees a half-written file.
  for (const [name, data] of [
    [manifest.zipFile, zip],
    ['manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)],
  ] as const) {
    const partial = join(dir, `${name}.${process.pid}.partial`);
    writeFileSync(partial, data);
    renameSync(partial, join(dir, name));
  }
  return { ...manifest, rebuilt: true };
}
