import { SpawnSyncReturns, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../lib/bundle/sources';

const root = packageRoot(__dirname);

/**
 * Runs an operator tool from its TypeScript source in a child process (the Firestore client's
 * transports do not run inside Jest's sandbox), with tsx's loaders in the one process. From the
 * checkout's root, so that `--import tsx` resolves wherever the caller runs.
 */
export function runTool(
  tool: 'integrity-baselines' | 'integrity-budget',
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly input?: string; readonly timeoutMs?: number },
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli', `${tool}.ts`), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: options.env,
    ...(options.input !== undefined && { input: options.input }),
    ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
  });
}
