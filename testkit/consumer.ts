import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PACKAGE_NAME, packageRoot } from '../lib/bundle/sources';

/*
 * A project that uses the published package the way a platform team does: made like
 * `cdktf init --template=typescript` (its tsconfig: ES2018, strict, CommonJS; its app command:
 * ts-node main.ts), with the package installed from the `npm pack` tarball, and neither tsx nor
 * esbuild anywhere. Shared by the package test and `npm run test:peers`.
 */

const root = packageRoot(__dirname);

/** The peers a consumer brings: linked from this checkout, or installed from the registry. */
export type Peers = { readonly kind: 'linked' } | { readonly kind: 'installed'; readonly versions: Readonly<Record<string, string>> };

/** The peer dependencies of the package, as declared in its package.json. */
export const PEERS: readonly string[] = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies,
);

/** Tooling a cdktf TypeScript project has besides the peers; only used when peers are installed. */
export const CONSUMER_TOOLING = { 'ts-node': '10.9.2', typescript: '5.9.3', '@types/node': '20.19.25' } as const;

/** The compiler options of `cdktf init --template=typescript`, plus `types`, which TypeScript 6 requires. */
export const CDKTF_INIT_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ['es2018'],
    module: 'CommonJS',
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: 'ES2018',
    incremental: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'cdktf.out'],
};

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, streams: 'both' | 'stdout' = 'both'): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', npm_config_update_notifier: 'false', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return streams === 'stdout' ? r.stdout : `${r.stdout}${r.stderr}`;
}

/** npm's own entry script, run with whichever Node a consumer uses. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm?.endsWith('npm-cli.js')) return fromNpm;
  const besideNode = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(besideNode)) return besideNode;
  throw new Error(`cannot find npm-cli.js (npm_execpath is ${fromNpm ?? 'unset'}, nothing at ${besideNode})`);
}

/** Environment that makes `node` (and `#!/usr/bin/env node` scripts such as npx) the given binary. */
function withNode(node: string): NodeJS.ProcessEnv {
  return { PATH: `${dirname(node)}:${process.env.PATH ?? ''}` };
}

const npm = (args: string[], cwd: string, streams: 'both' | 'stdout' = 'both', node: string = process.execPath) =>
  run(node, [npmCli(), ...args], cwd, withNode(node), streams);

/** Packs the checkout (`prepack` builds dist/ first) into `dir`; returns the tarball's path and npm's file list. */
export function packPackage(dir: string): { readonly tarball: string; readonly report: PackReport } {
  mkdirSync(dir, { recursive: true });
  const out = npm(['pack', '--json', '--pack-destination', dir, '--loglevel=error'], root, 'stdout');
  const report = (JSON.parse(out) as PackReport[])[0]!;
  return { tarball: join(dir, report.filename), report };
}

/** What `npm pack --json` says about a tarball. */
export interface PackReport {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/** A consumer project on disk. */
export interface Consumer {
  readonly dir: string;
  /** The Node.js binary the consumer installs and synthesizes with. */
  readonly node: string;
  /** Output of the install, for asserting what npm printed (e.g. no EBADENGINE). */
  readonly installLog: string;
  /** Installed package directory. */
  readonly packageDir: string;
  remove(): void;
}

function linkFromCheckout(consumerDir: string, name: string): void {
  const target = join(root, 'node_modules', name);
  if (!existsSync(target)) throw new Error(`cannot link ${name} into the consumer: ${target} is missing (run npm ci)`);
  const link = join(consumerDir, 'node_modules', name);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'dir');
}

/**
 * Creates a consumer with the tarball installed. Linked peers reuse this checkout's
 * node_modules (fast: the package alone is installed, with `--omit=peer`); installed peers
 * come from the registry at the given versions, as `npm install` in a real project does.
 */
export function createConsumer(tarball: string, peers: Peers, node: string = process.execPath): Consumer {
  const dir = mkdtempSync(join(tmpdir(), 'svir-consumer-'));
  const dependencies: Record<string, string> = { [PACKAGE_NAME]: `file:${tarball}` };
  if (peers.kind === 'installed') {
    Object.assign(dependencies, peers.versions);
  }
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'consumer-stack',
        version: '1.0.0',
        private: true,
        main: 'main.js',
        types: 'main.ts',
        dependencies,
        devDependencies: peers.kind === 'installed' ? CONSUMER_TOOLING : {},
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(CDKTF_INIT_TSCONFIG, null, 2)}\n`);
  writeFileSync(
    join(dir, 'cdktf.json'),
    `${JSON.stringify({ language: 'typescript', app: 'npx ts-node main.ts', terraformProviders: [], terraformModules: [], context: {} }, null, 2)}\n`,
  );
  const common = ['--no-audit', '--no-fund', '--loglevel=warn'];
  const installLog =
    peers.kind === 'installed'
      ? npm(['install', ...common], dir, 'both', node)
      : npm(['install', ...common, '--omit=peer', '--prefer-offline'], dir, 'both', node);
  if (peers.kind === 'linked') {
    for (const name of [...PEERS, 'ts-node', 'typescript', '@types/node']) linkFromCheckout(dir, name);
  }
  return {
    dir,
    node,
    installLog,
    packageDir: join(dir, 'node_modules', PACKAGE_NAME),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A synthesized consumer app: the plan of each stack and the zips its assets upload. */
export interface ConsumerSynth {
  readonly stacks: Record<
    string,
    { readonly plan: Record<string, unknown>; readonly zipSha256s: readonly string[]; /** cdktf.out/stacks/<name> */ readonly dir: string }
  >;
  readonly output: string;
}

/**
 * Runs the consumer's app command (`ts-node main.ts`) from `appDir` and reads cdktf.out. With
 * `types: 'checked-apart'`, ts-node only strips the types: the caller has checked them with
 * {@link typecheckConsumerApps} (one compiler run for several apps instead of one per app).
 */
export function synthConsumer(
  consumer: Consumer,
  appDir: string = consumer.dir,
  types: 'checked' | 'checked-apart' = 'checked',
): ConsumerSynth {
  const outdir = join(appDir, 'cdktf.out');
  rmSync(outdir, { recursive: true, force: true });
  const output = run(consumer.node, [join(consumer.dir, 'node_modules', 'ts-node', 'dist', 'bin.js'), 'main.ts'], appDir, {
    ...withNode(consumer.node),
    TS_NODE_PROJECT: join(appDir, 'tsconfig.json'),
    ...(types === 'checked-apart' && { TS_NODE_TRANSPILE_ONLY: 'true' }),
  });
  const stacks: Record<string, ConsumerSynth['stacks'][string]> = {};
  for (const stack of readdirSync(join(outdir, 'stacks'))) {
    const stackDir = join(outdir, 'stacks', stack);
    const plan = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
    const zips = listFiles(join(stackDir, 'assets')).filter((f) => f.endsWith('.zip'));
    stacks[stack] = { plan, zipSha256s: zips.map((f) => sha256(readFileSync(f))), dir: stackDir };
  }
  return { stacks, output };
}

/**
 * Type-checks the `main.ts` of each app directory, as ts-node checks an app before running it,
 * in one run of the consumer's compiler: the peers' declarations are loaded once for all apps.
 * Each app must hold cdktf init's tsconfig, whose options the run uses (with `declaration`, which
 * ts-node turns off, so this check is, if anything, stricter). Returns the compiler's output;
 * throws with it when an app does not compile.
 */
export function typecheckConsumerApps(consumer: Consumer, appDirs: readonly string[]): string {
  for (const dir of appDirs) {
    const own = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
    if (JSON.stringify(JSON.parse(own)) !== JSON.stringify(CDKTF_INIT_TSCONFIG)) {
      throw new Error(`${dir}/tsconfig.json is not cdktf init's: checking it with cdktf init's options would check something else`);
    }
  }
  const project = join(consumer.dir, 'tsconfig.apps.json');
  writeFileSync(
    project,
    `${JSON.stringify({ ...CDKTF_INIT_TSCONFIG, include: undefined, exclude: undefined, files: appDirs.map((d) => join(d, 'main.ts')) }, null, 2)}\n`,
  );
  return run(consumer.node, [join(consumer.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', project], consumer.dir);
}

/** Copies an example app (main.ts, cdktf.json, its README) next to the consumer's node_modules. */
export function placeExample(consumer: Consumer, exampleDir: string): string {
  const target = join(consumer.dir, 'apps', exampleDir.split(/[\\/]/).pop()!);
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(exampleDir)) {
    if (file.endsWith('.ts') || file === 'cdktf.json') cpSync(join(exampleDir, file), join(target, file));
  }
  writeFileSync(join(target, 'tsconfig.json'), `${JSON.stringify(CDKTF_INIT_TSCONFIG, null, 2)}\n`);
  return target;
}

/** Runs a command from the consumer's directory, with the consumer's Node first on PATH (`node`, `npx`). */
export function inConsumer(consumer: Consumer, cmd: string, args: string[]): string {
  return run(cmd === 'node' ? consumer.node : cmd, args, consumer.dir, withNode(consumer.node));
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Two responders in one stack, written the way the README tells consumers to. */
export const TWO_RESPONDERS_APP = `
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from 'shielded-vm-integrity-responder';

const app = new App();
const stack = new TerraformStack(app, 'security');
new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234', region: 'europe-west1' });
const relearn = new IntegrityResponder(stack, 'Relearn', { projectId: 'fleet-prod-1234', region: 'europe-west1' });
const strict: IntegrityResponderProps = { projectId: 'fleet-prod-1234', region: 'europe-west1', namePrefix: 'strict', responseMode: 'shutdown' };
new IntegrityResponder(stack, 'Strict', strict);
new TerraformOutput(stack, 'relearn_function', { value: relearn.function.name });
app.synth();
`;

/** The plan without what varies between runs: content hashes and the consumer's temporary directory. */
export function scrubPlan(plan: unknown, dir: string): unknown {
  return JSON.parse(
    JSON.stringify(plan)
      .replace(/[0-9a-f]{64}/g, '<sha256>')
      .split(dir)
      .join('<consumer>'),
  );
}

/** Hex SHA-256. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Versions a package declares (for reporting which peers a consumer really ran). */
export function installedVersion(consumer: Consumer, name: string): string {
  return (JSON.parse(readFileSync(join(consumer.dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
