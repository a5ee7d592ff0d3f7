import { measurementsFromDocument } from '../../../function/core/baseline';
import { FOOTER, Flags, Io, ParsedOptions } from '../../common';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { TARGET_FLAGS, TARGET_OPTIONS, oneId, targetOf } from '../options';
import { effectiveViews, jsonView, showText, viewOf } from '../records';
import { approvalOf, findBaseline, pathOf, sameMeasurementDocuments, withBaselines } from '../repository';

const USAGE = `usage: ${BIN} show <id> [options]

Prints one baseline: its state and why, its provenance and its PCR values.

options:
  --json                print one JSON object
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = { ...TARGET_FLAGS, json: { type: 'boolean' } } as const satisfies Flags;

async function show({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'show');
  const t = targetOf(values, io);
  await withBaselines(
    io,
    t,
    'read a baseline of',
    async (db) => {
      const doc = await findBaseline(db, t, id);
      const approval = await approvalOf(db, t.collection);
      const now = Date.now();
      // Judged with every document holding the same values, as the responder judges it.
      const parsed = measurementsFromDocument(doc.data() ?? {});
      const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements) : [];
      const others = same.filter((d) => d.id !== doc.id).map((d) => viewOf(d.id, d.data(), now, approval));
      const view = effectiveViews([viewOf(doc.id, doc.data() ?? {}, now, approval), ...others])[0]!;
      io.stdout(values.json ? `${JSON.stringify(jsonView(view), null, 2)}\n` : showText(view, pathOf(t, doc.id)));
    },
    'read',
  );
}

/** `integrity-baselines show`: one baseline, its state and why, its provenance and PCR values. */
export const SHOW: Command = { flags: FLAGS, usage: USAGE, run: show };
