import { LEDGER_DECISIONS_COLLECTION, PROJECT_ID } from '../../../function/contract';
import type { LedgerRecord, RecordedDecision } from '../../../function/core/ledger';
import { CliError, FOOTER, Flags, Io, OptionValues, ParsedOptions, UsageError, isInstanceId, str, zonedTimeMillis } from '../../common';
import { DEFAULT_LEDGER_DATABASE, ledgerTarget, onEmulator, withFirestore } from '../../firestore';
import type { Command } from '../../tool';
import { instanceProblem, zoneProblem } from '../cloud-logging';
import { ComputeUnanswered, describeVm } from '../compute';
import { DecisionFilter, MAX_SCANNED, findDecisions } from '../decisions';
import { decisionsTable, filterText } from '../decisions-table';
import { BASELINES_BIN as BIN } from '../names';

/*
 * `integrity-baselines decisions`: its help, its options and the notes it prints; the query is
 * cli/baselines/decisions.ts, the table cli/baselines/decisions-table.ts.
 */

/** What each recorded `decision.action` means, for `--decision` and its help: every value the ledger records. */
const ACTIONS: { readonly [A in RecordedDecision['action']]: string } = {
  relearn: 'relearn its policy: the measurements matched a known-good baseline',
  stop: 'contain the VM (DECISION says suspend where failureAction is suspend)',
  none: 'nothing to do; REASON says why (exempt, older-boot, …)',
};

/** What each recorded `outcome` means, for `--outcome` and its help: every value the ledger records. */
const OUTCOMES: { readonly [O in LedgerRecord['outcome']]: string } = {
  pending: 'the action not confirmed done yet (retried at redelivery)',
  done: 'the action completed, or settled without one',
  held: 'left running: the action budget was exhausted',
};

/** Most decisions one run prints. */
const MAX_LIMIT = 1000;
/** What `--limit` defaults to. */
const DEFAULT_LIMIT = 50;

/** A time ago: 90s, 30m, 2h, 7d, 2w. */
const AGO = /^([1-9][0-9]{0,5})([smhdw])$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const list = (values: object) => Object.keys(values).join(', ');
const described = (values: Readonly<Record<string, string>>) =>
  Object.entries(values)
    .map(([k, v]) => `                          ${k.padEnd(9)}${v}`)
    .join('\n');

/** The help of `decisions`: every option it takes, with examples. */
const USAGE = `usage: ${BIN} decisions [filters] [options]

Shows what the responder decided, newest first, from its decision ledger (the database
<namePrefix>-decisions, collection ${LEDGER_DECISIONS_COLLECTION}): one row per report it acted on,
that is per VM, boot and report kind, with the decision, why, and how the action ended.
RECORDED is when the ledger first recorded the report; the ledger does not keep VM names.

filters:
  --instance NAME|ID    one VM: its numeric id, or its name with --zone (resolved to the id
                        through Compute Engine instances.get, in --vm-project; the decisions
                        about a VM deleted since are found by its id only)
  --zone ZONE           only VMs in this zone (and the zone of --instance NAME)
  --vm-project P        only VMs of this project (and the project of --instance NAME;
                        default for a name: --project)
  --decision D          only this decision (${list(ACTIONS)}):
${described(ACTIONS)}
  --outcome O           only this outcome (${list(OUTCOMES)}):
${described(OUTCOMES)}
  --since TIME          recorded at or after TIME: RFC 3339 with a zone
                        (2026-12-06T09:00:00Z) or a time ago (90s, 30m, 2h, 7d, 2w)
  --until TIME          recorded before TIME, in the same forms
  --limit N             at most N decisions, 1-${MAX_LIMIT} (default: ${DEFAULT_LIMIT}); a note on standard
                        error says when more match

options:
  --json                print one JSON array (not JSON lines), newest first: each element
                        the ledger document as stored, with its document id as "id"
  --project P           project of the ledger database (default: $GOOGLE_CLOUD_PROJECT)
  --database D          the responder's decision-ledger database, not the baseline
                        database the other commands use (default: ${DEFAULT_LEDGER_DATABASE},
                        the example stack's; pass '<namePrefix>-decisions')
  --timeout SECONDS     give up when Firestore (or Compute Engine) has not answered by then
                        (default: 60)
  -h, --help            show this help

With --instance the ledger is queried by instance id; otherwise newest first by RECORDED,
bounded by --since and --until, and the other filters are applied to what is read, up to
${MAX_SCANNED} documents (a note on standard error says when that bound cut the search short).
Needs datastore.entities.list on the ledger's project (roles/datastore.viewer), and for a
name compute.instances.get on the VM's project (roles/compute.viewer).

examples:
  ${BIN} decisions --project sec-1234 --since 2h
  ${BIN} decisions --project sec-1234 --instance 4617930134256183721 --json
  ${BIN} decisions --project sec-1234 --instance canary-1 --zone us-central1-a \\
      --vm-project fleet-1234
  ${BIN} decisions --project sec-1234 --decision stop --outcome held \\
      --since 2026-12-06T00:00:00Z
  ${BIN} decisions --project sec-1234 --vm-project fleet-1234 --decision relearn --limit 10

${FOOTER}`;

/** The options `decisions` takes, besides `--help`. */
const FLAGS = {
  instance: { type: 'string' },
  zone: { type: 'string' },
  'vm-project': { type: 'string' },
  decision: { type: 'string' },
  outcome: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  project: { type: 'string' },
  database: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/** `--since` or `--until` as ms since the epoch: RFC 3339 with a zone, or a time ago. */
function timeOption(values: OptionValues, name: 'since' | 'until', now: number): number | undefined {
  const raw = str(values[name]);
  if (raw === undefined) return undefined;
  const ago = AGO.exec(raw);
  if (ago !== null) return now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
  const ms = zonedTimeMillis(raw);
  if (ms === undefined) {
    throw new UsageError(
      `--${name} must be an RFC 3339 time with a zone (like 2026-12-06T09:00:00Z) or a time ago (like 90s, 30m, 2h, 7d, 2w); got '${raw}'`,
    );
  }
  return ms;
}

/** A value that must be one of a typed list; `near` says where a value the table shows but the filter does not take is found. */
function oneOf<K extends string>(
  values: OptionValues,
  name: string,
  allowed: Readonly<Record<K, string>>,
  near: Readonly<Record<string, string>> = {},
): K | undefined {
  const raw = str(values[name]);
  if (raw === undefined) return undefined;
  if (!Object.prototype.hasOwnProperty.call(allowed, raw)) {
    const hint = Object.prototype.hasOwnProperty.call(near, raw) ? ` (${near[raw]})` : '';
    throw new UsageError(`--${name} must be one of ${list(allowed)}, got '${raw}'${hint}`);
  }
  return raw as K;
}

/** Words a reader takes from the table or the docs that the ledger records under another decision. */
const DECISIONS_NEAR: Readonly<Record<string, string>> = {
  suspend: 'a suspend is recorded as decision stop: --decision stop',
  hold: 'a stop the action budget held is --decision stop --outcome held',
  held: 'a stop the action budget held is --decision stop --outcome held',
};

/** Runs `integrity-baselines decisions`. */
async function decisions({ values, positionals }: ParsedOptions, io: Io, now: () => number): Promise<void> {
  if (positionals.length > 0) {
    throw new UsageError(`decisions takes no arguments besides options, got '${positionals[0]}' (a VM goes with --instance)`);
  }
  // Every usage error before any call.
  const at = now();
  const since = timeOption(values, 'since', at);
  const until = timeOption(values, 'until', at);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new UsageError(`--since (${new Date(since).toISOString()}) must come before --until (${new Date(until).toISOString()})`);
  }
  const rawLimit = str(values.limit);
  const limit = Number(rawLimit ?? DEFAULT_LIMIT);
  if ((rawLimit !== undefined && !/^[0-9]+$/.test(rawLimit)) || limit < 1 || limit > MAX_LIMIT) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${rawLimit}'`);
  }
  const action = oneOf(values, 'decision', ACTIONS, DECISIONS_NEAR);
  const outcome = oneOf(values, 'outcome', OUTCOMES);
  const zone = str(values.zone);
  const zoneWrong = zone === undefined ? undefined : zoneProblem(zone);
  if (zoneWrong !== undefined) throw new UsageError(`--zone: ${zoneWrong}`);
  const vmProject = str(values['vm-project']);
  if (vmProject !== undefined && !PROJECT_ID.test(vmProject)) {
    throw new UsageError(`--vm-project must be a Google Cloud project id, got '${vmProject}'`);
  }
  const instance = str(values.instance);
  const instanceWrong = instance === undefined ? undefined : instanceProblem(instance);
  if (instanceWrong !== undefined) throw new UsageError(`--instance: ${instanceWrong}`);
  const byName = instance !== undefined && !isInstanceId(instance);
  if (byName && zone === undefined) {
    throw new UsageError(
      `--instance ${instance} is a name: give its --zone too (it is resolved to the instance id, which the ledger records), or give the numeric id`,
    );
  }
  const ledger = ledgerTarget(values, io.env);
  const t = { ...ledger, where: `${ledger.database}/${LEDGER_DECISIONS_COLLECTION} in project ${ledger.project}${onEmulator(ledger)}` };

  let filter: DecisionFilter = {
    ...(instance !== undefined && !byName && { instanceId: instance }),
    ...(vmProject !== undefined && { projectId: vmProject }),
    ...(zone !== undefined && { zone }),
    ...(action !== undefined && { action }),
    ...(outcome !== undefined && { outcome }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
  };
  if (byName) {
    const project = vmProject ?? t.project;
    try {
      const vm = await describeVm({ project, zone: zone!, instance: instance! }, io.env, t.seconds, io.openInstances);
      filter = { ...filter, instanceId: vm.id, projectId: project };
      io.stderr(`${BIN}: note: VM ${vm.name} in ${project}/${zone} is instance id ${vm.id} (Compute Engine)\n`);
    } catch (e) {
      if (e instanceof CliError && !(e instanceof ComputeUnanswered)) {
        throw new CliError(`${e.message}; the decisions about a VM deleted since are found by its numeric id: --instance ID`);
      }
      throw e;
    }
  }

  const found = await withFirestore(io, t, `read the decisions of ${t.where}`, 'read', (db) => findDecisions(db, filter, limit));
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        found.rows.map((r) => ({ id: r.id, ...r.record })),
        null,
        2,
      )}\n`,
    );
  } else if (found.rows.length === 0) {
    io.stdout(`no decisions in ${t.where}${filterText(filter, byName ? instance : undefined)}\n`);
  } else {
    io.stdout(decisionsTable(found.rows));
  }
  if (found.more) {
    io.stderr(
      `${BIN}: note: showing the newest ${limit}; more decisions match: raise --limit (up to ${MAX_LIMIT}) or narrow with --since/--until\n`,
    );
  }
  if (found.cut !== undefined) {
    io.stderr(
      found.cut.reachedBack !== undefined
        ? `${BIN}: note: stopped after reading the newest ${found.scanned} decisions (back to ${found.cut.reachedBack}), so older ones ` +
            `were not searched; narrow the time with --since/--until, or name the VM with --instance\n`
        : `${BIN}: note: the ledger holds more than ${MAX_SCANNED} decisions about instance ${filter.instanceId}; only ${found.scanned} ` +
            `were read, so some may be missing\n`,
    );
  }
}

/** `integrity-baselines decisions`: what the responder decided, newest first, from its decision ledger. */
export const DECISIONS: Command = { flags: FLAGS, usage: USAGE, run: decisions };
