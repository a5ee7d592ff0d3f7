import type { QueryDocumentSnapshot } from '@google-cloud/firestore';
import { BaselineApproval } from '../../../function/contract';
import { baselineDocument, expiryMillis, measurementsFromDocument } from '../../../function/core/baseline';
import { PcrMeasurement, baselineDocumentId } from '../../../function/core/measurements';
import { CliError, FOOTER, Flags, Io, ParsedOptions, UsageError, localUser, textOption } from '../../common';
import { Actor } from '../../principal';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { ACTOR_OPTION, TARGET_FLAGS, TARGET_OPTIONS, actorOf, targetOf } from '../options';
import { approvalOf, pathOf, whereOf, withBaselines } from '../repository';

const USAGE = `usage: ${BIN} import-legacy [options]

Copies every tutorial-format document of the collection (PCR maps under an id of your own,
e.g. 'baseline1') into this tool's format: under its fingerprint id (one document per
measurement set), with provenance (importedFrom, who, when). Their state and expiry are kept; under
the two-person rule they arrive proposed. Idempotent: a document already imported is skipped.
Originals are left in place unless --delete-originals.

options:
  --delete-originals    delete each original once its copy exists (in the same transaction)
  --dry-run             print what would be done, change nothing
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = {
  ...TARGET_FLAGS,
  actor: { type: 'string' },
  'delete-originals': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const satisfies Flags;

async function importLegacy({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`import-legacy takes no arguments besides options, got '${positionals[0]}'`);
  const t = targetOf(values, io);
  const dryRun = values['dry-run'] === true;
  const actor: Actor = dryRun
    ? { name: textOption(values, 'actor') ?? localUser(), from: 'local' }
    : await actorOf(values, io, t, 'import the tutorial documents of');
  const deleteOriginals = values['delete-originals'] === true;
  let unusable = 0;
  await withBaselines(
    io,
    t,
    'import the tutorial documents of',
    async (db) => {
      const approval: BaselineApproval = await approvalOf(db, t.collection);
      const snapshot = await db.collection(t.collection).get();
      // Documents grouped by the values they hold: one copy per measurement set, whose state
      // honours every original (a revocation anywhere carries over).
      const groups = new Map<string, { measurements: readonly PcrMeasurement[]; docs: QueryDocumentSnapshot[] }>();
      for (const doc of snapshot.docs) {
        const data = doc.data();
        const parsed = measurementsFromDocument(data);
        const state = data.state ?? 'active';
        if (!parsed.ok || !['active', 'proposed', 'revoked'].includes(state)) {
          if (state === 'revoked') continue; // withdrawn already: nothing to import
          unusable++;
          const why = !parsed.ok ? `its PCR fields are malformed (${parsed.detail})` : `its state ${JSON.stringify(state)} is unknown`;
          io.stderr(`${BIN}: skipped ${pathOf(t, doc.id)}: ${why}; fix, revoke or delete it by hand\n`);
          continue;
        }
        const id = baselineDocumentId(parsed.measurements);
        const group = groups.get(id) ?? { measurements: parsed.measurements, docs: [] };
        group.docs.push(doc);
        groups.set(id, group);
      }
      const counts = { imported: 0, present: 0, deleted: 0 };
      let legacy = 0;
      for (const [id, group] of groups) {
        const originals = group.docs.filter((d) => d.id !== id);
        if (originals.length === 0) continue; // only the tool's own document
        legacy += originals.length;
        const revoked = group.docs.find((d) => d.get('state') === 'revoked');
        const first = originals[0]!;
        const note = originals.map((d) => d.get('description')).find((d): d is string => typeof d === 'string');
        const expiries = originals.map((d) => d.get('expiresAt')).filter((e) => e !== undefined && e !== null);
        const state = revoked
          ? 'revoked'
          : approval === 'two-person' || originals.some((d) => d.get('state') === 'proposed')
            ? 'proposed'
            : 'active';
        const doc = baselineDocument(group.measurements, {
          state,
          description: note ?? `imported from tutorial document ${first.id}`,
          ...(typeof first.get('source') === 'string' && { source: String(first.get('source')) }),
          createdVia: 'import-legacy',
          importedFrom: originals.map((d) => d.id).join(','),
          createdBy: actor.name,
          createdAt: new Date().toISOString(),
          ...(revoked && {
            revokedBy: String(revoked.get('revokedBy') ?? actor.name),
            revokedAt: String(revoked.get('revokedAt') ?? new Date().toISOString()),
            revokeReason: String(revoked.get('revokeReason') ?? `revoked in ${revoked.id}`),
          }),
        });
        const fields = doc.data as Record<string, unknown>;
        // The earliest expiry of the originals, as it is (text or a Firestore timestamp).
        if (expiries.length > 0) fields.expiresAt = expiries.sort((a, b) => (expiryMillis(a) ?? 0) - (expiryMillis(b) ?? 0))[0];
        const names = originals.map((d) => pathOf(t, d.id)).join(', ');
        const copy = db.collection(t.collection).doc(id);
        if (dryRun) {
          const existing = group.docs.find((d) => d.id === id);
          io.stdout(
            `${existing ? `present as ${pathOf(t, id)} (${String(existing.get('state') ?? 'active')})` : `would import ${names} → ${pathOf(t, id)} (${state})`}` +
              `${deleteOriginals ? '; would delete the original' + (originals.length > 1 ? 's' : '') : ''}\n`,
          );
          continue;
        }
        const outcome = await db.runTransaction(async (tx) => {
          const existing = await tx.get(copy);
          if (!existing.exists) tx.create(copy, fields);
          // A revoked original is deleted only when the copy holds the revocation too.
          const copyRevoked = existing.exists ? existing.get('state') === 'revoked' : state === 'revoked';
          if (deleteOriginals) for (const d of originals) if (d.get('state') !== 'revoked' || copyRevoked) tx.delete(d.ref);
          return existing.exists ? ('present' as const) : ('imported' as const);
        });
        counts[outcome]++;
        if (deleteOriginals) counts.deleted += originals.length;
        io.stdout(
          `${outcome === 'imported' ? 'imported' : 'already imported'} ${names} → ${pathOf(t, id)}` +
            `${outcome === 'imported' ? ` (${state})` : ''}${deleteOriginals ? `; original${originals.length > 1 ? 's' : ''} deleted` : ''}\n`,
        );
      }
      if (legacy === 0 && unusable === 0) return io.stdout(`no tutorial-format documents in ${whereOf(t)}: nothing to import\n`);
      if (!dryRun) {
        io.stdout(
          `${counts.imported} imported, ${counts.present} already present${deleteOriginals ? `, ${counts.deleted} originals deleted` : ''}` +
            `${unusable ? `, ${unusable} unusable` : ''} in ${whereOf(t)}\n`,
        );
        if (counts.imported > 0 && approval === 'two-person')
          io.stdout(`the imported baselines are proposed: a second principal approves each with '${BIN} approve <id>'\n`);
      }
    },
    dryRun ? 'read' : 'write',
  );
  if (unusable > 0) throw new CliError(`${unusable} document(s) could not be imported (named above)`);
}

/** `integrity-baselines import-legacy`: copies tutorial-format documents into this tool's format, one per measurement set. */
export const IMPORT_LEGACY: Command = { flags: FLAGS, usage: USAGE, run: importLegacy };
