import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionBundleManifest } from './bundle/manifest';
import { bundleDir, packageRoot, sourcesHash } from './bundle/sources';

/** The built function source as the construct uploads it. */
export interface FunctionBundle extends FunctionBundleManifest {
  /** Absolute path of the zip. */
  readonly zipPath: string;
}

const loaded = new Map<string, FunctionBundle>();

type Check = { readonly ok: true; readonly bundle: FunctionBundle } | { readonly ok: false; readonly problem: string };

function check(root: string, fromSources: boolean): Check {
  const dir = bundleDir(root);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return { ok: false, problem: `the function bundle is missing (${manifestPath})` };
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as FunctionBundleManifest;
  const zipPath = join(dir, manifest.zipFile);
  if (!existsSync(zipPath)) return { ok: false, problem: `${zipPath} is missing` };
  const actual = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
  if (actual !== manifest.zipSha256) {
    return { ok: false, problem: `${zipPath} does not match its manifest (sha256 ${actual}, manifest ${manifest.zipSha256})` };
  }
  if (fromSources && sourcesHash(root) !== manifest.sourcesHash) {
    return { ok: false, problem: `the function bundle in ${dir} is older than the sources in function/` };
  }
  return { ok: true, bundle: { ...manifest, zipPath } };
}

/**
 * Loads the bundle `npm run build:function` writes, checking that the zip is the one its
 * manifest describes. In a source checkout (function/ present) a missing or stale bundle is
 * rebuilt first, as esbuild-based constructs do at synth time: the plan never uploads code
 * other than the code under review. A package without sources uses its prebuilt bundle.
 */
export function loadFunctionBundle(root: string = packageRoot()): FunctionBundle {
  const cached = loaded.get(root);
  if (cached) return cached;
  const fromSources = existsSync(join(root, 'function', 'index.ts'));
  let result = check(root, fromSources);
  if (!result.ok && fromSources) {
    // esbuild's plugin API is asynchronous and constructors are not: build in a child process.
    execFileSync(process.execPath, [require.resolve('tsx/cli'), join(root, 'scripts', 'build-function.ts')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    result = check(root, fromSources);
  }
  if (!result.ok) {
    throw new Error(
      fromSources
        ? `IntegrityResponder: ${result.problem}; run 'npm run build:function -- --force'`
        : `IntegrityResponder: the installed package in ${root} is incomplete: ${result.problem}; reinstall it (rm -rf node_modules && npm ci)`,
    );
  }
  loaded.set(root, result.bundle);
  return result.bundle;
}
