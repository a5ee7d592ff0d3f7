import { run as baselines } from '../cli/integrity-baselines';
import { emulatorsAvailable } from '../testkit/emulators';
import { FakeLogging, startFakeLogging } from '../testkit/fake-logging';
import { LoggedPcr, integrityEntry, linuxPcrs } from '../testkit/fixtures';
import { Harness, Responder } from '../testkit/harness';
import { handleArguments } from './usage';

const USAGE = `usage: npm run demo [-- --help]

Replays a kernel rollout on a simulated fleet against the real responder: the zip the plan
uploads, served by the Functions Framework behind the Pub/Sub emulator, the Firestore emulator,
a loopback Compute API and a loopback Logging API. Baselines are recorded, approved and revoked
with integrity-baselines, under the two-person rule. Prints a timeline; no cloud account.
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
  if (!available.ok) throw new Error(`the demo needs ${available.missing}: \`npm run demo\` installs them where it can, or says how`);
  heading('Setting up: emulators, loopback Compute API, the synthesized function behind Pub/Sub');
  const h = await Harness.start();
  let logging: FakeLogging | undefined;
  try {
    logging = await startFakeLogging();
    const responder = await h.deploy({ REQUIRE_BASELINE_APPROVAL: 'true' });
    process.env.FIRESTORE_EMULATOR_HOST = h.firestore.host;
    const project = responder.plan.projectId;
    /** The database a command reads: the decision ledger for `decisions`, the baselines otherwise. */
    const databaseFor = (command: string) => responder.plan.env[command === 'decisions' ? 'LEDGER_DATABASE' : 'FIRESTORE_DATABASE']!;
    /** Runs integrity-baselines as an operator would, printing the command and what it printed. */
    const operator = async (who: string, ...args: string[]) => {
      say(`${who}$ integrity-baselines ${args.join(' ')}`);
      let out = '';
      const acts = !['list', 'show', 'decisions'].includes(args[0]!);
      const target = ['--project', project, '--database', databaseFor(args[0]!)];
      const code = await baselines([...args, ...target, ...(acts ? ['--actor', who] : [])], {
        stdout: (t) => (out += t),
        stderr: (t) => (out += t),
        readStdin: () => '',
        env: { ...process.env, LOGGING_API_ENDPOINT: logging!.url, COMPUTE_API_ENDPOINT: h.compute.endpoint },
      });
      for (const line of out.trimEnd().split('\n')) process.stdout.write(`           │ ${line}\n`);
      return { code, out };
    };
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
      logging!.entries.push(entry); // Shielded VM writes the report to Cloud Logging, which the sink forwards
      const { log } = await r.publishAndWait(entry);
      return { log, calls: callsSince(before) };
    };

    /** The VM starts (again): a new boot, whose late-boot report the responder acts on. */
    const boot = async (r: Responder, name: string, measured: LoggedPcr[], passed: boolean, note: string) => {
      const vm = vmNamed(name);
      const counter = (boots.get(name) ?? 0) + 1;
      boots.set(name, counter);
      vm.status = 'RUNNING';
      // Started now, after whatever stopped it: the report below is written as this boot completes.
      vm.lastStartTimestamp = new Date().toISOString();
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

    heading('3. The team checks web-1 and records its late-boot measurements; a second person approves');
    const captured = await operator('alice@example.com', 'capture', '--instance', 'web-1', '--zone', ZONE, '--note', 'kernel 6.9 rollout');
    const id = /sha256-[0-9a-f]{12}/.exec(captured.out)![0];
    await operator('alice@example.com', 'approve', id);
    await operator('bob@example.com', 'approve', id);
    await operator('bob@example.com', 'list');
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

    heading('7. Kernel 6.9 is found vulnerable: its baseline is revoked, effective on the next report');
    await operator('carol@example.com', 'revoke', id, '--reason', 'CVE in kernel 6.9');
    await boot(responder, 'web-2', linuxPcrs('kernel-6.9'), false, 'kernel 6.9 (revoked)');

    heading('Fleet state');
    for (const vm of h.compute.instances) say(`${vm.name.padEnd(6)} ${vm.status}`);
    const actions = h.compute.actions();
    say(
      `${actions.length} Compute actions: ${actions.filter((a) => a.path.endsWith('/stop')).length} stop, ${actions.filter((a) => a.path.endsWith('Policy')).length} relearn`,
    );

    heading('8. What the responder did, as its decision ledger recorded it');
    // The ledger keys VMs by instance id, the only name a report cannot change.
    say(`instance ids: ${h.compute.instances.map((vm) => `${vm.name}=${vm.id}`).join(', ')}`);
    await operator('carol@example.com', 'decisions', '--limit', '10');
  } finally {
    heading('Cleaning up');
    await logging?.close();
    await h.stop();
    say('emulators, Compute API and function stopped');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
