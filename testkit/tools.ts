import { SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../lib/bundle/sources';

const root = packageRoot(__dirname);

/**
 * Runs an operator tool from its TypeScript source in a child process (the Firestore client's
 * transports do not run inside Jest's sandbox), with tsx's loaders in the one process. From the
 * checkout's root, so that `--import tsx` resolves wherever the caller runs.
 */
export function runTool(
  tool: 'integrity-baselines' | 'integrity-budget' | 'integrity-containment' | 'integrity-module',
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

/**
 * {@link runTool} without blocking this process: for tools that talk to a loopback server the
 * test itself runs. Resolves once the tool exits, or is killed after `timeoutMs`.
 */
export function runToolAsync(
  tool: 'integrity-baselines' | 'integrity-budget' | 'integrity-containment' | 'integrity-module',
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly input?: string; readonly timeoutMs?: number },
): Promise<{ readonly status: number | null; readonly stdout: string; readonly stderr: string; readonly ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'cli', `${tool}.ts`), ...args], { cwd: root, env: options.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(options.input ?? '');
  });
}
