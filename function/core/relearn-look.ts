import { Decision, InstanceState, confirmRelearn } from './decide';
import type { HandlerDeps } from './handler-deps';
import { LedgerKey, compareBoots } from './ledger';
import type { RelearnFacts } from './outcome';
import type { IntegrityReport } from './parse';

/** The decision a relearn's last look came to, and what refused it. */
export interface LastLook {
  readonly decision: Decision;
  readonly relearn?: RelearnFacts;
}

/**
 * Age of a report for the relearn bound, seconds: by the entry's own time and by the time Cloud
 * Logging received it, whichever is older (the first is the writer's word, the second is not).
 */
function relearnAgeSeconds(report: IntegrityReport, now: number): number | undefined {
  const times = [report.timestamp, report.receiveTimestamp].filter((t): t is string => t !== undefined).map(Date.parse);
  return times.length === 0 ? undefined : (now - Math.min(...times)) / 1000;
}

/** Whether Compute says the VM was started after a moment (an RFC 3339 time). */
function startedAfter(current: InstanceState, moment: string): boolean {
  const started = current.lastStartTimestamp === undefined ? NaN : Date.parse(current.lastStartTimestamp);
  return started > Date.parse(moment);
}

/**
 * The last look before a relearn, made after the ledger recorded it and immediately before the
 * Compute call. Relearning adopts the VM's *latest* boot, while the decision was made on the
 * report's: the relearn goes ahead only while the VM (as read before the ledger write) is the
 * same one, running and not started since, and, read last, the ledger still holds no conflict
 * for the key and no later boot of the instance, and the report is still fresh
 * (`relearnMaxAgeSeconds`).
 */
export async function lastLookBeforeRelearn(
  report: IntegrityReport,
  decision: Extract<Decision, { action: 'relearn' }>,
  current: InstanceState,
  key: LedgerKey,
  deps: Pick<HandlerDeps, 'ledger' | 'relearnMaxAgeSeconds' | 'now'>,
): Promise<LastLook> {
  const bound = deps.relearnMaxAgeSeconds;
  const now = deps.now ?? Date.now;
  const fresh = () => {
    const age = relearnAgeSeconds(report, now());
    return age !== undefined && age <= bound;
  };
  const stale: LastLook = { decision: { action: 'none', reason: 'relearn-window-passed' }, relearn: { relearnMaxAgeSeconds: bound } };
  if (!fresh()) return stale;
  const confirmed = confirmRelearn(decision, report, current);
  if (confirmed.action !== 'relearn') return { decision: confirmed };
  const standing = await deps.ledger.standing(key);
  if (standing.conflict) return { decision: { action: 'none', reason: 'withdrawn-after-conflict' } };
  if (standing.newestBoot !== undefined && compareBoots(standing.newestBoot, key.bootCounter) > 0) {
    return { decision: { action: 'none', reason: 'superseded-by-later-boot' }, relearn: { laterBoot: standing.newestBoot } };
  }
  const stop = standing.lastStop;
  if (stop !== undefined && !startedAfter(current, stop.recordedAt)) {
    // A stop was decided for this VM and the VM has not been started since: it may still run the
    // boot judged not known good (the stop held, pending, or not performed: exempt, dry run), and
    // a relearn would adopt it, whatever boot this report claims, its own included.
    return {
      decision: { action: 'none', reason: stop.state === 'settled' ? 'unvetted-boot' : 'containment-pending' },
      relearn: { lastStop: stop },
    };
  }
  return fresh() ? { decision: confirmed } : stale;
}
