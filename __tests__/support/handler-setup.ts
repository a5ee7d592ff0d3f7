import { ResponseMode, SETTINGS } from '../../function/contract';
import type { InstanceState } from '../../function/core/decide';
import { HandlerDeps, handleMessage } from '../../function/core/handler';
import type { DecisionRecord } from '../../function/core/outcome';
import { IntegrityReport, parseMessage } from '../../function/core/parse';
import { CapturingLogger, MemoryBaselines, MemoryLedger, RecordingInstances } from './fakes';
import { DEFAULT_INSTANCE_ID, EntryOptions, integrityEntry, pubsubData } from '../../testkit/fixtures';

/** The settings a deployed function always has, at the construct's defaults, for handlers built by tests. */
export const DEFAULT_SETTINGS: Pick<
  HandlerDeps,
  'relearnMaxAgeSeconds' | 'failureAction' | 'enforcement' | 'exemptLabel' | 'instanceGroupAction'
> = {
  relearnMaxAgeSeconds: SETTINGS.relearnMaxAgeSeconds.default,
  failureAction: SETTINGS.failureAction.default,
  enforcement: SETTINGS.enforcement.default,
  exemptLabel: SETTINGS.exemptLabel.default!,
  instanceGroupAction: SETTINGS.instanceGroupAction.default,
};

/** The handler on in-memory parts; `run` delivers one entry (built from options, or given whole). */
export function setup(
  mode: ResponseMode = 'relearn-if-known-good',
  instances = new RecordingInstances(),
  extra: Partial<
    Pick<
      HandlerDeps,
      | 'failureAction'
      | 'enforcement'
      | 'exemptLabel'
      | 'instanceGroupAction'
      | 'abandonSettleMs'
      | 'abandonTimeoutSeconds'
      | 'now'
      | 'actionBudget'
      | 'staleEventPolicy'
      | 'relearnMaxAgeSeconds'
    >
  > = {},
) {
  const baselines = new MemoryBaselines();
  const ledger = new MemoryLedger();
  const logger = new CapturingLogger();
  const deps: HandlerDeps = {
    mode,
    baselines,
    instances,
    ledger,
    logger,
    maxEventAgeSeconds: 3600,
    staleEventPolicy: 'fail-closed',
    ...DEFAULT_SETTINGS,
    ...extra,
  };
  const run = (o: EntryOptions | Record<string, unknown>, id = 'msg-1') =>
    handleMessage('jsonPayload' in o ? pubsubData(o) : pubsubData(integrityEntry(o as EntryOptions)), deps, { id });
  return { baselines, instances, ledger, logger, deps, run };
}

export const VM = `fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID}`;
export const GET = `get ${VM}`;
export const STOP = `stop ${VM}`;
export const RELEARNED = [GET, `relearn ${VM}`];
/** A stop reads the VM first (its exemption label), then stops it. */
export const STOPPED = [GET, STOP];
/** What instances.get answers for the fixture VM when it runs, started at `lastStartTimestamp`. */
export const running = (lastStartTimestamp: string): InstanceState => ({ id: DEFAULT_INSTANCE_ID, status: 'RUNNING', lastStartTimestamp });

/** The report an entry built from options parses to. */
export function reportOf(o: EntryOptions = {}): IntegrityReport {
  const parsed = parseMessage(pubsubData(integrityEntry(o)));
  if (parsed.status !== 'report') throw new Error(`the fixture entry did not parse as a report: ${parsed.status}`);
  return parsed.report;
}

/**
 * A decision record about the fixture VM (boot 7, 12 s old, named web-1 by Compute Engine),
 * enforcing, contained by a stop: `r` on top, about the report `o` builds.
 */
export function recordOf(r: Partial<DecisionRecord> & Pick<DecisionRecord, 'decision'>, o: EntryOptions = {}): DecisionRecord {
  return { report: reportOf(o), vm: { found: true, name: 'web-1' }, containment: 'stop', dryRun: false, ageSeconds: 12, ...r };
}
