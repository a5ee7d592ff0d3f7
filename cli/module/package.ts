import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_NAME } from '../../function/contract';
import { CliError, describeError } from '../common';
import { MODULE_SOURCES, ModuleSource } from './moved';

/*
 * The package this tool ships in, found from the running file: the modules it reads are the
 * ones beside it, of the same version.
 */

/** The package's name in its package.json: how its root is told from the folders above and below it. */
export { PACKAGE_NAME };

/** The package's manifest in `dir`, when it is ours. */
function manifestIn(dir: string): { name: string; version?: unknown } | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    return manifest.name === PACKAGE_NAME ? { ...manifest, name: PACKAGE_NAME } : undefined;
  } catch {
    return undefined;
  }
}

/** The package as installed or checked out: its root and version. */
export interface PackageHome {
  readonly root: string;
  readonly version: string;
}

/**
 * The nearest folder above `from` whose package.json is this package's: the checkout from
 * cli/module/ under tsx, the installed package from dist/bin/ where commands.js is bundled.
 */
export function packageHome(from: string = __dirname): PackageHome {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = manifestIn(dir);
    if (manifest !== undefined) return { root: dir, version: typeof manifest.version === 'string' ? manifest.version : 'unknown' };
    if (dirname(dir) === dir) {
      throw new CliError(`cannot find the ${PACKAGE_NAME} package above ${from}, whose terraform/ folder holds the modules; reinstall it`);
    }
  }
}

/** The files of a module the tool reads: its resources, its variables and its outputs. */
const MODULE_FILES = ['main.tf.json', 'variables.tf.json', 'outputs.tf.json'] as const;

/**
 * Each module, parsed, by its folder in the package: its main.tf.json, variables.tf.json and
 * outputs.tf.json in one document, as Terraform reads a folder's files as one configuration.
 */
export function readModules(root: string): Readonly<Record<ModuleSource, unknown>> {
  return Object.fromEntries(
    MODULE_SOURCES.map((source) => {
      const merged: Record<string, Record<string, unknown>> = {};
      for (const name of MODULE_FILES) {
        const file = join(root, source, name);
        let parsed: unknown;
        try {
          parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        } catch (e) {
          throw new CliError(`cannot read the module ${source} of ${PACKAGE_NAME} at ${file}: ${describeError(e)}; reinstall the package`);
        }
        for (const [key, value] of Object.entries(typeof parsed === 'object' && parsed !== null ? parsed : {})) {
          merged[key] = { ...merged[key], ...(value as Record<string, unknown>) };
        }
      }
      return [source, merged];
    }),
  ) as Record<ModuleSource, unknown>;
}
