import { baselineDocument, measurementsFromDocument } from '../../../function/core/baseline';
import { baselineDocumentId } from '../../../function/core/measurements';
import { FOOTER, Flags, Io, ParsedOptions, UsageError, printable, textOption } from '../../common';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { ACTOR_OPTION, TARGET_FLAGS, TARGET_OPTIONS, actorOf, oneId, targetOf } from '../options';
import { findBaseline, pathOf, sameMeasurementDocuments, withBaselines } from '../repository';

const USAGE = `usage: ${BIN} revoke <id> --reason TEXT [options]

Withdraws trust in a baseline's measurements at once: it, and every other document of the
collection holding exactly the same measurements (tutorial documents included), is marked
revoked, kept for audit and never matched again. The responder reads baselines afresh on
every event, so the next report with these measurements contains its VM.

options:
  --reason TEXT         why (required), kept with the baseline
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = { ...TARGET_FLAGS, actor: { type: 'string' }, reason: { type: 'string' } } as const satisfies Flags;

async function revoke({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'revoke');
  const reason = textOption(values, 'reason');
  if (reason === undefined) throw new UsageError('revoke needs --reason: why these measurements are no longer trusted');
  const t = targetOf(values, io);
  const actor = await actorOf(values, io, t, 'revoke a baseline of');
  await withBaselines(io, t, 'revoke a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const parsed = measurementsFromDocument(doc.data() ?? {});
    const revokedAt = new Date().toISOString();
    const revocation = { state: 'revoked' as const, revokedBy: actor.name, revokedAt, revokeReason: reason };
    // Every document holding these values, and the one under their fingerprint (created if
    // missing, as a marker): in one transaction, so the revocation is whole or nothing.
    const outcome = await db.runTransaction(async (tx) => {
      // Every read before any write, as transactions require.
      const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements, tx) : [];
      const targets = same.some((d) => d.id === doc.id) ? same : [doc, ...same];
      const markerRef = parsed.ok ? db.collection(t.collection).doc(baselineDocumentId(parsed.measurements)) : undefined;
      const current = await tx.getAll(...targets.map((d) => d.ref), ...(markerRef ? [markerRef] : []));
      const marker = markerRef ? current.pop() : undefined;
      const revoked: string[] = [];
      const already: { path: string; by: string; at: string; reason: string }[] = [];
      current.forEach((snapshot, i) => {
        const path = pathOf(t, targets[i]!.id);
        if (!snapshot.exists) return;
        if (snapshot.get('state') === 'revoked') {
          already.push({
            path,
            by: String(snapshot.get('revokedBy') ?? 'an unknown principal'),
            at: String(snapshot.get('revokedAt') ?? 'an unknown time'),
            reason: typeof snapshot.get('revokeReason') === 'string' ? `"${String(snapshot.get('revokeReason'))}"` : 'no reason recorded',
          });
        } else {
          tx.update(snapshot.ref, revocation);
          revoked.push(`revoked ${path}`);
        }
      });
      if (parsed.ok && markerRef && marker && !marker.exists) {
        const created = baselineDocument(parsed.measurements, {
          ...revocation,
          description: `revocation of the measurements of ${doc.id}`,
          createdVia: 'revoke',
          createdBy: actor.name,
          createdAt: revokedAt,
        });
        tx.create(markerRef, created.data);
        revoked.push(
          `revoked ${pathOf(t, markerRef.id)} (created: the fingerprint of these measurements, so they can never be recorded again)`,
        );
      }
      return { revoked, already };
    });
    // One line per earlier revocation (the documents it covered, by whom, when, why), printed as recorded.
    const earlier = new Map<string, string[]>();
    for (const a of outcome.already) {
      const key = `by ${printable(a.by)} at ${printable(a.at)} (reason: ${printable(a.reason)})`;
      earlier.set(key, [...(earlier.get(key) ?? []), a.path]);
    }
    const alreadyLines = [...earlier].map(
      ([how, paths]) => `${paths.join(', ')} ${paths.length === 1 ? 'was' : 'were'} already revoked ${how}`,
    );
    if (outcome.revoked.length === 0) {
      // Exit 0: what was asked for is the case. Nothing is written, so the new reason is not kept anywhere.
      return io.stdout(
        `${alreadyLines.join('; ')}: nothing was written, and the new reason "${reason}" was not recorded; these measurements match nothing already\n`,
      );
    }
    for (const line of [...outcome.revoked, ...alreadyLines]) io.stdout(`${line}\n`);
    io.stdout(`by ${actor.name}: these measurements match nothing from the next event on\n`);
  });
}

/** `integrity-baselines revoke`: withdraws trust in a baseline's measurements, in every document holding them. */
export const REVOKE: Command = { flags: FLAGS, usage: USAGE, run: revoke };
