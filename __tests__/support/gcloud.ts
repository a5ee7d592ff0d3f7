import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** gcloud on PATH, or undefined. */
export function gcloudOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, 'gcloud');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const GCLOUD = gcloudOnPath();

/** `it` for a test that runs gcloud: skipped, under a banner that says why, where there is none. */
export const itWithGcloud: jest.It = (() => {
  if (GCLOUD !== undefined) return it;
  const skipped = ((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    process.stderr.write(`\n*** SKIPPED: "${name}" needs gcloud (none on PATH); it did not run. ***\n\n`);
    it.skip(name, fn, timeout);
  }) as jest.It;
  return Object.assign(skipped, it);
})();

/**
 * Runs gcloud with `--format=json` in a configuration of its own that holds a token (no Google
 * account), with `env` on top (the endpoint overrides), and returns what it prints, parsed.
 * Asynchronously: the fake it talks to answers from this process.
 */
export async function gcloudJson(args: readonly string[], env: Readonly<Record<string, string>>): Promise<unknown> {
  const config = mkdtempSync(join(tmpdir(), 'gcloud-config-'));
  try {
    writeFileSync(join(config, 'token'), 'loopback-token');
    const { stdout } = await promisify(execFile)(GCLOUD!, [...args, '--format=json'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: config,
        CLOUDSDK_CONFIG: config,
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(config, 'token'),
        CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
        ...env,
      },
      timeout: 60_000,
    });
    return JSON.parse(stdout) as unknown;
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
