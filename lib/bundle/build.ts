import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildOptions, Plugin, build } from 'esbuild';
import { ENTRY_POINT } from '../../function/contract';
import { Lockfile, functionLockfile } from './lockfile';
import { FUNCTIONS_FRAMEWORK_VERSION, FunctionBundleManifest, MIN_NODE_MAJOR } from './manifest';
import { pruneProtoJson } from './prune-protos';
import { bundleDir, sourcesHash } from './sources';
import { ZipEntry, deterministicZip } from './zip';

/** The Compute services the handler calls; everything else is cut from the descriptor. */
const COMPUTE_SERVICES = [
  'google.cloud.compute.v1.Instances',
  'google.cloud.compute.v1.ZoneOperations',
  // Managed instance groups (ADR 0010): listManagedInstances and abandonInstances.
  'google.cloud.compute.v1.InstanceGroupManagers',
  'google.cloud.compute.v1.RegionInstanceGroupManagers',
  // Evidence (ADR 0031): snapshots.insert and get in the forensics project, and the wait for
  // the global operation the insert starts.
  'google.cloud.compute.v1.Snapshots',
  'google.cloud.compute.v1.GlobalOperations',
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
 * The other clients the function loads by deep import, each with the services it calls: the
 * quarantine's tag bindings and the project-number lookup they need, and the findings (ADR 0032).
 * Their long-running methods poll through google.longrunning.Operations, which the generated
 * clients look up in the same descriptor.
 */
const CLIENT_PROTOS: ReadonlyArray<{ readonly name: string; readonly filter: RegExp; readonly services: readonly string[] }> = [
  {
    name: 'resource-manager',
    filter: /[\\/]@google-cloud[\\/]resource-manager[\\/]build[\\/]protos[\\/]protos\.json$/,
    services: ['google.cloud.resourcemanager.v3.TagBindings', 'google.cloud.resourcemanager.v3.Projects', 'google.longrunning.Operations'],
  },
  {
    name: 'security-center',
    filter: /[\\/]@google-cloud[\\/]security-center[\\/]build[\\/]protos[\\/]protos\.json$/,
    services: ['google.cloud.securitycenter.v2.SecurityCenter', 'google.longrunning.Operations'],
  },
];

/**
 * The plugins of the function's bundle: every client library's descriptor cut to the services
 * the function calls. Exported for the tests that run the adapters from such a bundle.
 */
export function functionBundlePlugins(): Plugin[] {
  return [pruneComputeProtos(), ...pruneClientProtos()];
}

function pruneClientProtos(): Plugin[] {
  return CLIENT_PROTOS.map(({ name, filter, services }) => ({
    name: `prune-${name}-protos`,
    setup(b) {
      b.onLoad({ filter }, (args) => ({
        contents: JSON.stringify(pruneProtoJson(JSON.parse(readFileSync(args.path, 'utf8')), services)),
        loader: 'json',
      }));
    },
  }));
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

/** Name in the `package.json` and `package-lock.json` the source zip ships. */
const FUNCTION_PACKAGE_NAME = 'shielded-vm-integrity-responder-function';

/**
 * The `.npmrc` the source zip ships. npm reads a project's `.npmrc` from the directory it runs in,
 * which for the Cloud Functions build is the unpacked zip: no dependency's install script runs
 * there with the build service account's credentials (none of the locked packages has one).
 */
const FUNCTION_NPMRC = 'ignore-scripts=true\n';

/**
 * The files of the source zip besides the bundle, in the order they are stored: the
 * `package.json` the Cloud Functions build installs from, the `package-lock.json` that pins
 * every package it installs (cut from `rootLock`, the repository's own lockfile), and the
 * `.npmrc` that keeps install scripts from running.
 */
export function functionInstallFiles(rootLock: Lockfile): ZipEntry[] {
  const dependencies = { '@google-cloud/functions-framework': FUNCTIONS_FRAMEWORK_VERSION };
  const packageJson = {
    name: FUNCTION_PACKAGE_NAME,
    private: true,
    main: 'index.js',
    engines: { node: `>=${MIN_NODE_MAJOR}` },
    dependencies,
  };
  const lock = functionLockfile(rootLock, FUNCTION_PACKAGE_NAME, dependencies);
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  return [
    { name: 'package.json', data: json(packageJson) },
    { name: 'package-lock.json', data: json(lock) },
    { name: '.npmrc', data: Buffer.from(FUNCTION_NPMRC) },
  ];
}

/**
 * Bundles `function/index.ts` with esbuild and packs it, with the files the Cloud Functions
 * build installs from ({@link functionInstallFiles}), into `dist/bundle/function.zip`. Skips
 * the work when the manifest already records the current sources.
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
    plugins: functionBundlePlugins(),
  });
  const code = Buffer.from(result.outputFiles[0]!.contents);
  const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const entries = [{ name: 'index.js', data: code }, ...functionInstallFiles(rootLock)];
  const zip = deterministicZip(entries);
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const manifest: FunctionBundleManifest = {
    zipFile: 'function.zip',
    zipSha256: sha256(zip),
    zipBytes: zip.length,
    bundleBytes: code.length,
    files: entries.map((e) => ({ name: e.name, bytes: e.data.length, sha256: sha256(e.data) })),
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
