import { FOOTER, Flags, Io, ParsedOptions, UsageError, str } from '../../common';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { TARGET_FLAGS, TARGET_OPTIONS, targetOf } from '../options';
import { EFFECTIVE_STATES, effectiveViews, jsonView, table, viewOf } from '../records';
import { approvalOf, whereOf, withBaselines } from '../repository';

const USAGE = `usage: ${BIN} list [options]

Lists the baselines of the collection: id (a unique prefix of it is enough for show, approve
and revoke), state as the responder sees it now, PCRs, source VM and boot, who recorded it
and when, expiry. The states:
  active       it vouches: the responder relearns VMs reporting exactly its measurements
  proposed     recorded, waiting for approval by a second principal
  revoked      withdrawn: kept for audit, never matched again
  expired      past its expiresAt
  unapproved   active, but the two-person rule (requireBaselineApproval) wants an approval
               by a principal other than its creator, which it lacks
  vetoed       it would vouch, but another document holding the same measurements is
               revoked, and a revocation wins
  invalid      its PCR fields, state or expiry cannot be read: it never matches

options:
  --state S             only baselines in this state (one of the above)
  --json                print a JSON array (full ids, every field)
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = { ...TARGET_FLAGS, json: { type: 'boolean' }, state: { type: 'string' } } as const satisfies Flags;

async function list({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`list takes no arguments besides options, got '${positionals[0]}'`);
  const only = str(values.state);
  if (only !== undefined && !(EFFECTIVE_STATES as readonly string[]).includes(only))
    throw new UsageError(`--state must be one of ${EFFECTIVE_STATES.join(', ')}, got '${only}'`);
  const t = targetOf(values, io);
  await withBaselines(
    io,
    t,
    'list the baselines of',
    async (db) => {
      const approval = await approvalOf(db, t.collection);
      const snapshot = await db.collection(t.collection).get();
      const now = Date.now();
      const views = effectiveViews(snapshot.docs.map((d) => viewOf(d.id, d.data(), now, approval)))
        .filter((v) => only === undefined || v.state === only)
        // Newest first; documents without a creation time (tutorial ones) last, by id.
        .sort((a, b) => String(b.fields.createdAt ?? '').localeCompare(String(a.fields.createdAt ?? '')) || a.id.localeCompare(b.id));
      if (values.json) return io.stdout(`${JSON.stringify(views.map(jsonView), null, 2)}\n`);
      if (views.length === 0) {
        return io.stdout(
          `no ${only === undefined ? '' : `${only} `}baselines in ${whereOf(t)}${only === undefined ? `; record one with '${BIN} capture'` : ''}\n`,
        );
      }
      io.stdout(table(views));
      if (approval === 'two-person') io.stdout(`(two-person rule: a baseline vouches once approved by a second principal)\n`);
    },
    'read',
  );
}

/** `integrity-baselines list`: the baselines of the collection, with the state the responder sees, as a table or JSON. */
export const LIST: Command = { flags: FLAGS, usage: USAGE, run: list };
