import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadFunctionBundle } from '../lib/function-bundle';
import { packageRoot } from '../lib/bundle/sources';
import { nodeBinary } from '../testkit/node-runtime';
import {
  CONSUMER_TOOLING,
  Consumer,
  PEERS,
  TWO_RESPONDERS_APP,
  createConsumer,
  inConsumer,
  installedVersion,
  packPackage,
  scrubPlan,
  synthConsumer,
} from '../testkit/consumer';
import { handleArguments } from './usage';

const USAGE = `usage: npm run test:peers [-- --help]

Packs the project and installs the tarball into two fresh consumer projects (laid out like
'cdktf init --template=typescript', with ${Object.entries(CONSUMER_TOOLING)
  .map(([n, v]) => `${n}@${v}`)
  .join(', ')}),
one with the LOWEST registry versions inside the peerDependencies ranges of package.json, on
this machine's Node, and one with the HIGHEST, on Node 24 (tools/runtime-node). In each it synthesizes a stack with two responders through ts-node and
checks: no EBADENGINE while installing, the uploaded zip is the prebuilt one (same sha256),
plain require() works, 'npx integrity-baselines --help' works. Then both plans must be equal.
Needs the npm registry; takes a few minutes on a cold npm cache. Exit code 0 when all holds.
`;

function versionsInRange(name: string, range: string): string[] {
  const r = spawnSync('npm', ['view', `${name}@${range}`, 'version', '--json', '--loglevel=error'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm view ${name}@${range} failed:\n${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as string | string[];
  const list = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => !v.includes('-'));
  const key = (v: string) => v.split('.').map(Number);
  return list.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
}

function check(label: string, ok: boolean, detail: string): boolean {
  process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${label}${detail ? `: ${detail}` : ''}\n`);
  return ok;
}

async function main(): Promise<number> {
  handleArguments(USAGE);
  const root = packageRoot(__dirname);
  const ranges = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> })
    .peerDependencies;
  const ends: Record<'lowest' | 'highest', Record<string, string>> = { lowest: {}, highest: {} };
  for (const name of PEERS) {
    const range = ranges[name]!;
    const versions = versionsInRange(name, range);
    if (versions.length === 0) throw new Error(`no released version of ${name} satisfies ${range}`);
    ends.lowest[name] = versions[0]!;
    ends.highest[name] = versions[versions.length - 1]!;
  }

  // The lowest peers on the oldest Node the package claims (this machine's), the highest on the
  // newest major (the function runtime's binary in tools/runtime-node).
  execFileSync(process.execPath, [join(root, 'scripts', 'install-runtime-node.js')], { stdio: 'inherit' });
  const nodes = { lowest: process.execPath, highest: nodeBinary(24) };
  const work = mkdtempSync(join(tmpdir(), 'svir-peers-'));
  const expectedZip = loadFunctionBundle(root).zipSha256;
  let passed = true;
  const plans: Partial<Record<'lowest' | 'highest', unknown>> = {};
  try {
    const { tarball, report } = packPackage(work);
    process.stdout.write(
      `packed ${report.filename} (${(report.size / 1e6).toFixed(2)} MB, ${report.files.length} files); prebuilt zip sha256 ${expectedZip}\n`,
    );
    for (const end of ['lowest', 'highest'] as const) {
      const v = ends[end];
      const node = nodes[end];
      const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
      process.stdout.write(
        `\n${end} peers: ${Object.entries(v)
          .map(([n, ver]) => `${n}@${ver}`)
          .join(' ')}, on node ${nodeVersion}\n`,
      );
      const started = performance.now();
      let consumer: Consumer | undefined;
      try {
        consumer = createConsumer(tarball, { kind: 'installed', versions: v }, node);
        process.stdout.write(`  installed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
        const got = Object.fromEntries(PEERS.map((n) => [n, installedVersion(consumer!, n)]));
        passed = check('installed versions', isDeepStrictEqual(got, v), JSON.stringify(got)) && passed;
        passed = check('no EBADENGINE or install-script warning', !/EBADENGINE|install-scripts/.test(consumer.installLog), '') && passed;
        // A team's CI installs from the lockfile the install wrote.
        const ci = inConsumer(consumer, 'npm', ['ci', '--no-audit', '--no-fund', '--loglevel=warn']);
        passed =
          check('npm ci from the lockfile: no EBADENGINE or install-script warning', !/EBADENGINE|install-scripts/.test(ci), '') && passed;
        const exported = inConsumer(consumer, 'node', [
          '-e',
          "console.log(typeof require('shielded-vm-integrity-responder').IntegrityResponder)",
        ]).trim();
        passed =
          check(
            "plain require('shielded-vm-integrity-responder')",
            exported.endsWith('function'),
            `IntegrityResponder is a ${exported.split('\n').pop()}`,
          ) && passed;
        writeFileSync(join(consumer.dir, 'main.ts'), TWO_RESPONDERS_APP);
        const synth = synthConsumer(consumer);
        const stack = synth.stacks.security;
        const zips = stack?.zipSha256s ?? [];
        passed = check('synth of two responders (ts-node, ES2018 strict)', stack !== undefined, '') && passed;
        passed =
          check('uploaded zips are the prebuilt zip', zips.length === 2 && zips.every((z) => z === expectedZip), zips.join(', ')) && passed;
        const bin = inConsumer(consumer, 'npx', ['integrity-baselines', '--help']);
        passed = check('npx integrity-baselines --help', /^usage: integrity-baselines/m.test(bin), '') && passed;
        if (stack) {
          const plan = scrubPlan(stack.plan, consumer.dir) as { terraform?: { required_providers?: Record<string, { version?: string }> } };
          const pinned = Object.entries(plan.terraform?.required_providers ?? {});
          process.stdout.write(`  providers pinned by the plan: ${pinned.map(([n, p]) => `${n} ${p.version}`).join(', ')}\n`);
          for (const [, provider] of pinned) delete provider.version;
          plans[end] = plan;
        }
      } catch (e) {
        passed = check(`${end} consumer`, false, e instanceof Error ? e.message : String(e));
      } finally {
        consumer?.remove();
      }
    }
    process.stdout.write('\n');
    passed =
      check(
        'the two plans are the same (apart from the provider versions they pin)',
        plans.lowest !== undefined && isDeepStrictEqual(plans.lowest, plans.highest),
        '',
      ) && passed;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`\ntest:peers ${passed ? 'passed' : 'FAILED'}\n`);
  return passed ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`test-peers failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
