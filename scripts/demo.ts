import { baselineDocument } from '../function/baseline';
import { parseMeasurements } from '../function/parse';
import { emulatorsAvailable } from '../testkit/emulators';
import { LoggedPcr, integrityEntry, linuxPcrs } from '../testkit/fixtures';
import { Harness, Responder } from '../testkit/harness';
import { handleArguments } from './usage';

const USAGE = `usage: npm run demo [-- --help]

Replays a kernel rollout on a simulated fleet against the real responder: the zip the plan
uploads, served by the Functions Framework behind the Pub/Sub emulator, the Firestore emulator
and a loopback Compute API. Prints a timeline of events and decisions; no cloud account.
`;

handleArguments(USAGE);

// Replays a kernel rollout on a simulated fleet against the real responder (the zip the plan
// uploads, the Firestore and Pub/Sub emulators, a loopback Compute API), printing what
// happens. No cloud account involved.

const ZONE = 'us-central1-a';
const FLEET = ['web-1', 'web-2', 'web-3', 'app-1', 'app-2'];
const started = Date.now();

function say(text: string): void {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s] ${text}\n`);
}

function heading(text: string): void {
  process.stdout.write(`\n── ${text}\n`);
}

async function main(): Promise<void> {
  const available = emulatorsAvailable();
  if (!available.ok) throw new Error(`the demo needs ${available.missing}`);
  heading('Setting up: emulators, loopback Compute API, the synthesized function behind Pub/Sub');
  const h = await Harness.start();
  try {
    const responder = await h.deploy();
    const project = responder.plan.projectId;
    say(
      `function ${responder.plan.entryPoint} (${responder.plan.runtime}, mode ${responder.plan.env.RESPONSE_MODE}) serving the planned zip`,
    );
    // Each VM counts its boots, as Shielded VM does: the decision ledger keys every report by
    // instance id, boot and report kind.
    const boots = new Map<string, number>();
    FLEET.forEach((name, i) => h.compute.add({ project, zone: ZONE, name, id: String(5000 + i) }));
    const vmNamed = (name: string) => h.compute.instances.find((i) => i.name === name)!;

    /** The Compute calls since `before`, short: `GET`, `PATCH setShielded…`, `POST stop`, `wait`. */
    const callsSince = (before: number) =>
      h.compute.requests.slice(before).map((q) => {
        const last = q.path.split('/').pop()!;
        if (last === 'wait') return 'wait';
        if (q.method === 'GET') return 'GET';
        return `${q.method} ${last === 'setShieldedInstanceIntegrityPolicy' ? 'setShielded…' : last}`;
      });

    /** Publishes a late-boot report about a VM's boot and waits for the function's decision line. */
    const report = async (r: Responder, name: string, counter: number, measured: LoggedPcr[], passed: boolean) => {
      const before = h.compute.requests.length;
      const entry = integrityEntry({
        projectId: project,
        zone: ZONE,
        name,
        instanceId: vmNamed(name).id,
        bootCounter: String(counter),
        passed,
        actual: measured,
        timestamp: new Date().toISOString(),
      });
      const { log } = await r.publishAndWait(entry);
      return { log, calls: callsSince(before) };
    };

    /** The VM starts (again): a new boot, whose late-boot report the responder acts on. */
    const boot = async (r: Responder, name: string, measured: LoggedPcr[], passed: boolean, note: string) => {
      const vm = vmNamed(name);
      const counter = (boots.get(name) ?? 0) + 1;
      boots.set(name, counter);
      vm.status = 'RUNNING';
      vm.lastStartTimestamp = new Date(Date.now() - 1000).toISOString();
      const { log, calls } = await report(r, name, counter, measured, passed);
      const outcome =
        log.decision === 'relearn' ? `RELEARN (baseline ${String(log.baselineId).slice(0, 19)}…)` : String(log.decision).toUpperCase();
      say(
        `${name.padEnd(6)} boot ${counter} ${note.padEnd(22)} late boot ${passed ? 'passed' : 'FAILED'} → ${outcome}${calls.length ? `   [${calls.join(', ')}]` : ''}`,
      );
    };

    heading('1. The fleet boots on kernel 6.8: measurements match every policy');
    for (const name of FLEET) await boot(responder, name, linuxPcrs('kernel-6.8'), true, 'kernel 6.8');

    heading('2. Canary web-1 gets kernel 6.9: its late-boot measurements change, nobody vetted them');
    await boot(responder, 'web-1', linuxPcrs('kernel-6.9'), false, 'kernel 6.9 (canary)');

    heading('3. The team checks web-1 and records its late-boot measurements as known good');
    const doc = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.9'), 'demo'), {
      description: 'kernel 6.9 rollout',
      source: `projects/${project}/zones/${ZONE}/instances/web-1`,
    });
    await h.putDocument(responder.plan, doc.id, doc.data);
    say(`baseline ${doc.id.slice(0, 19)}… written to ${responder.plan.env.FIRESTORE_DATABASE}/${responder.plan.env.BASELINE_COLLECTION}`);
    await boot(responder, 'web-1', linuxPcrs('kernel-6.9'), false, 'kernel 6.9 (restart)');

    heading('4. The rest of the fleet gets kernel 6.9: each relearns instead of being stopped');
    for (const name of FLEET.slice(1, 4)) await boot(responder, name, linuxPcrs('kernel-6.9'), false, 'kernel 6.9');

    heading('5. app-2 boots a tampered bootloader: PCR_4 differs from every baseline');
    const tampered = linuxPcrs('kernel-6.9').map((p) => (p.pcrNum === 'PCR_4' ? { ...p, value: 'Ym9vdGtpdCB3YXMgaGVyZSEhIQ==' } : p));
    await boot(responder, 'app-2', tampered, false, 'tampered bootloader');

    heading("6. A forged entry claims app-2's tampered boot is known good");
    // Anyone who can write log entries in the project can write one that looks like an
    // integrity report: here, app-2's boot with the measurements of the approved kernel.
    const tamperedBoot = boots.get('app-2')!;
    const app2 = vmNamed('app-2');
    const forged = await report(responder, 'app-2', tamperedBoot, linuxPcrs('kernel-6.9'), false);
    say(
      `app-2  boot ${tamperedBoot} forged: known-good measurements  → ${String(forged.log.decision).toUpperCase()} (${String(forged.log.reason)})${forged.calls.length ? `   [${forged.calls.join(', ')}]` : ''}`,
    );
    say(`${String(forged.log.severity)}: ${String(forged.log.message)}`);
    const relearnsOfApp2 = h.compute.actions().filter((a) => a.path.includes(`/instances/${app2.id}/`) && a.path.endsWith('Policy'));
    say(
      `app-2 relearn requests: ${relearnsOfApp2.length}; app-2 is ${app2.status}; ledger ${String(forged.log.ledger)}: nothing will relearn boot ${tamperedBoot}`,
    );

    heading('Fleet state');
    for (const vm of h.compute.instances) say(`${vm.name.padEnd(6)} ${vm.status}`);
    const actions = h.compute.actions();
    say(
      `${actions.length} Compute actions: ${actions.filter((a) => a.path.endsWith('/stop')).length} stop, ${actions.filter((a) => a.path.endsWith('Policy')).length} relearn`,
    );
  } finally {
    heading('Cleaning up');
    await h.stop();
    say('emulators, Compute API and function stopped');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
