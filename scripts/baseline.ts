import { readFileSync } from 'node:fs';
import { baselineDocument } from '../function/baseline';
import { createFirestore } from '../function/clients';
import { loadConfig } from '../function/config';
import { parseMeasurements } from '../function/parse';

const USAGE = `Records the late-boot measurements of a log entry as a known-good baseline.

usage: npm run baseline -- <entries.json | -> [--write] [--project P] [--database D]
                           [--collection C] [--description TEXT]

  <entries.json>  a LogEntry, or the JSON array printed by
                  gcloud logging read 'logName:"shielded_vm_integrity" AND jsonPayload.lateBootReportEvent:*' --limit=1 --format=json
                  ('-' reads standard input). The newest entry with a lateBootReportEvent is used.
  --write         create the document in Firestore (Application Default Credentials); without it,
                  the document is only printed.
  --project, --database, --collection
                  where to write (defaults: the entry's project, 'integrity-responder-baselines',
                  'known_good_measurements').
`;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  const file = args[0];
  if (file === undefined || args.includes('--help')) {
    process.stdout.write(USAGE);
    process.exit(file === undefined ? 2 : 0);
  }
  const parsed: unknown = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, any>>;
  const entry = entries.find((e) => e?.jsonPayload?.lateBootReportEvent !== undefined);
  if (!entry) throw new Error('no entry with a jsonPayload.lateBootReportEvent in the input');
  const measurements = parseMeasurements(entry.jsonPayload.lateBootReportEvent.actualMeasurements, 'lateBootReportEvent.actualMeasurements');
  const labels = entry.resource?.labels ?? {};
  const name = entry.labels?.['compute.googleapis.com/resource_name'] ?? labels.instance_id;
  const doc = baselineDocument(measurements, {
    description: arg(args, '--description') ?? `late-boot measurements of ${name} at boot ${entry.jsonPayload.bootCounter ?? '?'}`,
    source: `projects/${labels.project_id}/zones/${labels.zone}/instances/${name}`,
  });
  process.stdout.write(`${JSON.stringify({ id: doc.id, data: doc.data }, null, 2)}\n`);
  if (!args.includes('--write')) return;

  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: arg(args, '--project') ?? labels.project_id,
    FIRESTORE_DATABASE: arg(args, '--database') ?? 'integrity-responder-baselines',
    BASELINE_COLLECTION: arg(args, '--collection'),
  });
  const db = await createFirestore(config);
  try {
    await db.collection(config.baselineCollection).doc(doc.id).create(doc.data);
    process.stderr.write(`created ${config.firestoreDatabase}/${config.baselineCollection}/${doc.id}\n`);
  } finally {
    await db.terminate();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`baseline: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
