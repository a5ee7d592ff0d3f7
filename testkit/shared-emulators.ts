import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Where the Jest workers record the emulators they share between their suites
 * (testkit/emulators.ts, ADR 0019), and how the run stops them. Importing this module has no
 * side effect: the global setup and teardown run it in Jest's own process.
 */

/** Names the directory of the records; set by the global setup, inherited by the workers. */
export const SHARED_EMULATORS_DIR = 'SVIR_SHARED_EMULATORS_DIR';

const SPAWNED = /^spawned-(\d+)$/;

/**
 * Records a spawned emulator's process group, before it answers: whatever happens next, the run
 * stops it. The record is an empty file named after the group.
 */
export function recordSpawn(dir: string, pid: number): void {
  writeFileSync(join(dir, `spawned-${pid}`), '');
}

/** The process groups recorded in `dir`. */
function recordedGroups(dir: string): number[] {
  try {
    return readdirSync(dir)
      .map((f) => SPAWNED.exec(f)?.[1])
      .filter((pid): pid is string => pid !== undefined)
      .map(Number);
  } catch {
    return []; // no directory: nothing was recorded
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // gone (ESRCH), or never ours
  }
}

/** Kills every recorded group at once (for an exiting process: synchronous). */
export function killSharedEmulatorsNow(dir: string): void {
  for (const pid of recordedGroups(dir)) signalGroup(pid, 'SIGKILL');
}

/** Stops every recorded group: SIGTERM, then SIGKILL for those still there after 3 s. */
export async function stopSharedEmulators(dir: string): Promise<void> {
  const groups = recordedGroups(dir);
  for (const pid of groups) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (groups.some((pid) => signalGroup(pid, 0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of groups) signalGroup(pid, 'SIGKILL');
}

/** The emulator a worker's suites share now: where it listens, and its process group. */
export interface CurrentEmulator {
  readonly host: string;
  readonly pid: number;
}

/** File naming the current emulator of a kind for this worker (its pid, and its Jest worker id for thread workers). */
function currentFile(dir: string, kind: string): string {
  return join(dir, `${kind}-${process.pid}-${process.env.JEST_WORKER_ID ?? '0'}.current`);
}

export function readCurrent(dir: string, kind: string): CurrentEmulator | undefined {
  try {
    return JSON.parse(readFileSync(currentFile(dir, kind), 'utf8')) as CurrentEmulator;
  } catch {
    return undefined;
  }
}

export function writeCurrent(dir: string, kind: string, current: CurrentEmulator): void {
  writeFileSync(currentFile(dir, kind), JSON.stringify(current));
}

/** Kills a group now (an emulator that stopped answering). */
export function killGroup(pid: number): void {
  signalGroup(pid, 'SIGKILL');
}
