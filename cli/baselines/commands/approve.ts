import type { DocumentSnapshot, Firestore, Transaction } from '@google-cloud/firestore';
import { BASELINE_POLICY_COLLECTION } from '../../../function/contract';
import { measurementsFromDocument, samePrincipal } from '../../../function/core/baseline';
import { CliError, FOOTER, Flags, Io, ParsedOptions } from '../../common';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { ACTOR_OPTION, TARGET_FLAGS, TARGET_OPTIONS, actorOf, oneId, targetOf } from '../options';
import { effectiveViews, viewOf } from '../records';
import { approvalOf, findBaseline, pathOf, sameMeasurementDocuments, withBaselines } from '../repository';

const USAGE = `usage: ${BIN} approve <id> [options]

Approves a proposed baseline: it becomes active and matches from the next event on. The
approver is always another principal than the one who recorded it. Where the two-person rule
is on (requireBaselineApproval: a policy document in ${BASELINE_POLICY_COLLECTION} names the
collection), an active baseline without an approval is 'unapproved', and approve gives it
one; where it is off, an active baseline vouches without one, and approve changes nothing.

options:
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = { ...TARGET_FLAGS, actor: { type: 'string' } } as const satisfies Flags;

/** Runs `change` on a document in a transaction: it reads the document as it is at commit time. */
async function transition(
  db: Firestore,
  ref: DocumentSnapshot,
  change: (current: Record<string, unknown>, tx: Transaction) => Record<string, unknown> | undefined,
): Promise<Record<string, unknown> | undefined> {
  return db.runTransaction(async (tx) => {
    const current = await tx.get(ref.ref);
    if (!current.exists) throw new CliError(`${ref.ref.path} was deleted meanwhile`);
    const update = change(current.data() ?? {}, tx);
    if (update !== undefined) tx.update(ref.ref, update);
    return update;
  });
}

async function approve({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'approve');
  const t = targetOf(values, io);
  const actor = await actorOf(values, io, t, 'approve a baseline of');
  await withBaselines(io, t, 'approve a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const path = pathOf(t, doc.id);
    const approvedAt = new Date().toISOString();
    const approval = await approvalOf(db, t.collection);
    const update = await transition(db, doc, (current) => {
      const state = current.state ?? 'active';
      if (state === 'revoked') throw new CliError(`${path} is revoked: revoked measurements are never trusted again`);
      if (state !== 'proposed' && state !== 'active') throw new CliError(`${path} has the unknown state ${JSON.stringify(state)}`);
      if (typeof current.approvedBy === 'string' && current.approvedBy !== '') {
        throw new CliError(`${path} is already approved, by ${current.approvedBy} at ${String(current.approvedAt)}`);
      }
      // Active, and no responder of this collection asks for approvals: there is nothing to give.
      if (state === 'active' && approval === 'none') return undefined;
      const creator = current.createdBy;
      if (typeof creator !== 'string' || creator === '') {
        throw new CliError(`${path} names no creator (a tutorial document): import it with '${BIN} import-legacy' and approve the copy`);
      }
      if (samePrincipal(creator, actor.name)) {
        throw new CliError(
          approval === 'two-person'
            ? `${path} was recorded by ${creator}: the two-person rule needs another principal to approve it`
            : `${path} was recorded by ${creator} and proposed: approve takes another principal than its creator, ` +
                `whether or not the two-person rule is on (here it is off)`,
        );
      }
      return { state: 'active', approvedBy: actor.name, approvedAt };
    });
    // What the responder makes of it now: an expiry or a revocation elsewhere still keeps it from vouching.
    const parsed = measurementsFromDocument(doc.data() ?? {});
    const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements) : [doc];
    const now = Date.now();
    const view = effectiveViews(
      same.map((d) => viewOf(d.id, d.id === doc.id ? { ...d.data(), ...update } : (d.data() ?? {}), now, approval)),
    ).find((v) => v.id === doc.id);
    const standing = view?.vouches ? `it vouches` : `it does not vouch: ${view?.why ?? 'unreadable'}`;
    if (update === undefined) {
      return io.stdout(
        `nothing to approve: ${path} is already active, and the two-person rule is off for ${t.collection} (no document in ` +
          `${BASELINE_POLICY_COLLECTION} requires approval), so an active baseline needs none; ${standing}\n`,
      );
    }
    io.stdout(`approved ${path} (by ${actor.name}; recorded by ${String(doc.get('createdBy'))})\n`);
    io.stdout(view?.vouches ? `it vouches from the next event on\n` : `but it does not vouch: ${view?.why ?? 'unreadable'}\n`);
    if (typeof doc.get('importedFrom') === 'string') {
      io.stderr(
        `${BIN}: note: imported from tutorial document ${String(doc.get('importedFrom'))}, typed by an unknown author: check its values against a reference VM\n`,
      );
    }
  });
}

/** `integrity-baselines approve`: a second principal approves a proposed baseline, which then vouches. */
export const APPROVE: Command = { flags: FLAGS, usage: USAGE, run: approve };
