// The sizing arithmetic of docs/sizing.md, done with the storm's own per-event times, so that the
// page explains the method and the report holds the numbers.

import { IntegrityResponderProps, resolveProps } from '../../lib/props';
import type { Cell, StormFigures } from '../bench-storm';
import { ReportTable } from './report';

/** The burst docs/sizing.md sizes for: a kernel rollout reaching every VM of a large fleet. */
const ROLLOUT_EVENTS = 10_000;

/** The recommended settings docs/sizing.md shows in its snippet, checked by the construct's own prop rules. */
const RECOMMENDED: Pick<IntegrityResponderProps, 'maxInstanceCount' | 'maxInstanceRequestConcurrency' | 'availableCpu' | 'memoryMib'> = {
  maxInstanceCount: 10,
  maxInstanceRequestConcurrency: 8,
  availableCpu: '1',
  memoryMib: 1024,
};

/**
 * Events in flight with the recommended settings (instances × concurrency per instance): what the
 * storm's budget section drives the decision ledger at.
 */
export function recommendedInFlight(): { readonly instances: number; readonly concurrency: number; readonly inFlight: number } {
  const r = resolveProps({ projectId: 'fleet-prod-1234', ...RECOMMENDED });
  return {
    instances: r.maxInstanceCount,
    concurrency: r.maxInstanceRequestConcurrency,
    inFlight: r.maxInstanceCount * r.maxInstanceRequestConcurrency,
  };
}

/** One setting's arithmetic: events in flight, the per-event time it uses, the time to decide the burst. */
export interface SizingRow {
  readonly setting: string;
  readonly inFlight: number;
  readonly perEventMs: number | undefined;
  readonly basis: string;
  readonly seconds: number | undefined;
}

/** The largest value of `pick` over ours's measured cells that match `where`. */
function largest(cells: readonly Cell[], where: (c: Cell) => boolean, pick: (c: Cell) => number | undefined): number | undefined {
  const values = cells
    .filter((c) => c.side === 'ours' && c.failure === undefined && c.skipped === undefined && where(c))
    .map(pick)
    .filter((v): v is number => v !== undefined && !Number.isNaN(v));
  return values.length === 0 ? undefined : Math.max(...values);
}

/**
 * The time to decide {@link ROLLOUT_EVENTS} reports with the construct's defaults and with the
 * recommended settings: rounds of (instances × concurrency) events, each round as long as one
 * event takes at that concurrency. Both from the storm's cells of ours, whose calls the proxy
 * passes through uncounted (the pass that counts every call pays for the counting in its
 * latency: counting gRPC costs about as much CPU as the calls), each the largest over the
 * stored-baseline counts. One event at a time: the median latency of the warm-up each cell at
 * the storm's lowest concurrency sends one event at a time to its fresh process (the summary's
 * "p50 at c1"); with a concurrency of 8: ours's median latency at concurrency 8 in one process.
 */
export function sizingRows(storm: Pick<StormFigures, 'cells' | 'concurrencies' | 'warmup'>): SizingRow[] {
  const low = storm.concurrencies[0];
  const perEvent = (concurrency: number): { ms: number | undefined; basis: string } =>
    concurrency === 1
      ? {
          ms: largest(
            storm.cells,
            (c) => c.concurrency === low,
            (c) => c.unloadedP50,
          ),
          basis:
            `median latency of the warm-up (up to ${storm.warmup} events sent one at a time to each cell's fresh process, ` +
            `calls uncounted: the summary's p50 at c1), the largest over the baseline counts`,
        }
      : {
          ms: largest(
            storm.cells,
            (c) => c.concurrency === concurrency,
            (c) => c.p50,
          ),
          basis: `median latency at concurrency ${concurrency} in one process, the largest over the baseline counts`,
        };
  const settings: Array<{ label: string; props: Partial<typeof RECOMMENDED> }> = [
    { label: 'defaults', props: {} },
    { label: 'recommended', props: RECOMMENDED },
  ];
  return settings.map(({ label, props }) => {
    const r = resolveProps({ projectId: 'fleet-prod-1234', ...props });
    const inFlight = r.maxInstanceCount * r.maxInstanceRequestConcurrency;
    const { ms, basis } = perEvent(r.maxInstanceRequestConcurrency);
    const cpu = r.availableCpu === undefined ? '' : `, availableCpu '${r.availableCpu}'`;
    const memory = props.memoryMib === undefined ? '' : `, memoryMib ${r.memoryMib}`;
    return {
      setting:
        `${label}: maxInstanceCount ${r.maxInstanceCount}, maxInstanceRequestConcurrency ${r.maxInstanceRequestConcurrency}` +
        `${cpu}${memory}`,
      inFlight,
      perEventMs: ms,
      basis,
      seconds: ms === undefined ? undefined : (Math.ceil(ROLLOUT_EVENTS / inFlight) * ms) / 1000,
    };
  });
}

/** The sizing rows as a report table. */
export function sizingTable(rows: readonly SizingRow[]): ReportTable {
  return {
    title: 'Sizing: a rollout to 10,000 VMs',
    about:
      `Time to decide ${ROLLOUT_EVENTS.toLocaleString('en')} failed reports = rounds of (instances × concurrency) events × ` +
      "the time of one event at that concurrency, from the storm's figures for ours above. On the emulators and a loopback " +
      'Compute API: a floor, not a forecast ([Sizing](sizing.md) says why).',
    columns: ['setting', 'in flight', 'time of one event', 'measured as', 'time to decide them', 'target'],
    rows: rows.map((r) => [
      r.setting,
      String(r.inFlight),
      r.perEventMs === undefined ? '-' : `${r.perEventMs.toFixed(0)} ms`,
      r.basis,
      r.seconds === undefined ? '-' : `${Math.ceil(ROLLOUT_EVENTS / r.inFlight).toLocaleString('en')} rounds ≈ ${r.seconds.toFixed(1)} s`,
      '-',
    ]),
  };
}
