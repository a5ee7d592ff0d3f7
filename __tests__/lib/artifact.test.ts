import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { buildFunctionBundle, functionInstallFiles } from '../../lib/bundle/build';
import { Lockfile, functionLockfile } from '../../lib/bundle/lockfile';
import { FUNCTIONS_FRAMEWORK_VERSION, MIN_NODE_MAJOR } from '../../lib/bundle/manifest';
import { packageRoot } from '../../lib/bundle/sources';
import { deterministicZip } from '../../lib/bundle/zip';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { npmCiOffline, serveFunction } from '../../testkit/function-host';
import { nodeBinary, runtimeMajor } from '../../testkit/node-runtime';
import { synthResponders } from '../support/synth';

const root = packageRoot(__dirname);
const plan = synthResponders({});
const fn = plan.only('google_cloudfunctions2_function') as Record<string, any>;
const object = plan.only('google_storage_bucket_object');
const bundle = loadFunctionBundle();
const zipPath = bundle.zipPath;
const zip = new AdmZip(zipPath);
const rootLock = (): Lockfile => JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));

/** The zip unpacked into a fresh directory, removed after `use`. */
async function withUnpacked<T>(use: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'svir-artifact-'));
  try {
    zip.extractAllTo(dir, true);
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A lockfile with the integrity hash of one package changed by one bit. */
function withTamperedIntegrity(lock: Lockfile, location: string): Lockfile {
  const entry = lock.packages[location]!;
  const [algorithm, digest] = entry.integrity!.split('-', 2) as [string, string];
  const bytes = Buffer.from(digest, 'base64');
  bytes[0]! ^= 1;
  return { ...lock, packages: { ...lock.packages, [location]: { ...entry, integrity: `${algorithm}-${bytes.toString('base64')}` } } };
}

interface InstalledPackage {
  readonly version: string;
  /** Lifecycle scripts npm would run when installing it (a binding.gyp implies `install`). */
  readonly installScripts: string[];
}

/** Every package under `dir/node_modules`, by its lockfile location. */
function installedPackages(dir: string, prefix = ''): Map<string, InstalledPackage> {
  const found = new Map<string, InstalledPackage>();
  const modules = join(dir, prefix, 'node_modules');
  if (!existsSync(modules)) return found;
  const names = readdirSync(modules)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n]));
  for (const name of names) {
    const location = `${prefix}${prefix === '' ? '' : '/'}node_modules/${name}`;
    const pkg = JSON.parse(readFileSync(join(dir, location, 'package.json'), 'utf8'));
    const scripts = Object.keys(pkg.scripts ?? {}).filter((k) => ['preinstall', 'install', 'postinstall'].includes(k));
    if (existsSync(join(dir, location, 'binding.gyp'))) scripts.push('binding.gyp');
    found.set(location, { version: pkg.version, installScripts: scripts });
    for (const [nested, p] of installedPackages(dir, location)) found.set(nested, p);
  }
  return found;
}

describe('the function source zip', () => {
  it('is the file the storage object uploads', () => {
    expect(String(object.source)).toContain(bundle.zipSha256);
    expect(createHash('sha256').update(readFileSync(zipPath)).digest('hex')).toBe(bundle.zipSha256);
  });

  it('holds exactly index.js, package.json, package-lock.json and .npmrc', () => {
    expect(zip.getEntries().map((e) => e.entryName)).toEqual(['index.js', 'package.json', 'package-lock.json', '.npmrc']);
  });

  it('is listed file by file in its manifest, the lockfile included', () => {
    expect(bundle.files).toEqual(
      zip.getEntries().map((e) => ({
        name: e.entryName,
        bytes: e.getData().length,
        sha256: createHash('sha256').update(e.getData()).digest('hex'),
      })),
    );
  });

  it('locks every package with its registry URL and integrity, in lockfile version 3', () => {
    const lock = JSON.parse(zip.readAsText('package-lock.json')) as Lockfile;
    expect(lock.lockfileVersion).toBe(3);
    const packages = Object.entries(lock.packages).filter(([location]) => location !== '');
    expect(packages.length).toBeGreaterThan(100);
    // The Cloud Functions build installs production dependencies only: nothing may be marked dev.
    expect(packages.filter(([, e]) => e.dev === true || e.devOptional === true || e.extraneous === true).map(([l]) => l)).toEqual([]);
    for (const [location, entry] of packages) {
      expect({ location, resolved: entry.resolved, integrity: entry.integrity }).toEqual({
        location,
        resolved: expect.stringMatching(/^https:\/\/registry\.npmjs\.org\/.+\/-\/.+\.tgz$/),
        integrity: expect.stringMatching(/^sha512-/),
      });
    }
  });

  it('installs offline from its lockfile what the tests run with, runs no install script, and answers a CloudEvent', async () => {
    await withUnpacked(async (dir) => {
      // A root postinstall, which the shipped package.json lacks, shows whether npm obeyed the
      // zip's .npmrc; scripts are not part of the lockfile, so the lock still matches.
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      pkg.scripts = { postinstall: `node -e "require('fs').writeFileSync('postinstall-ran', '')"` };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));

      expect(npmCiOffline(dir)).toMatchObject({ status: 0 });
      expect(existsSync(join(dir, 'postinstall-ran'))).toBe(false);

      const locked = JSON.parse(zip.readAsText('package-lock.json')) as Lockfile;
      const installed = installedPackages(dir);
      const versions = (m: Iterable<[string, { version?: string }]>) => Object.fromEntries([...m].map(([l, p]) => [l, p.version]));
      expect(versions(installed)).toEqual(versions(Object.entries(locked.packages).filter(([l]) => l !== '')));
      // The same versions at the same places as in the repository's node_modules, which the tests load.
      for (const [location, p] of installed) {
        expect({ location, version: JSON.parse(readFileSync(join(root, location, 'package.json'), 'utf8')).version }).toEqual({
          location,
          version: p.version,
        });
      }
      expect([...installed].filter(([, p]) => p.installScripts.length > 0)).toEqual([]);

      const host = await serveFunction({
        dir,
        entryPoint: fn.build_config.entry_point,
        nodeMajor: runtimeMajor(fn.build_config.runtime),
        env: fn.service_config.environment_variables,
      });
      try {
        const data = { message: { data: Buffer.from('not a log entry').toString('base64'), messageId: '1' } };
        expect(await host.deliver(data, 'artifact-locked-install-1')).toBe(204);
        expect(await host.waitForLog('artifact-locked-install-1')).toMatchObject({ severity: 'ERROR', rejection: expect.any(String) });
      } finally {
        await host.stop();
      }
    });
  });

  it('does not install from a lockfile whose integrity for one package was changed', async () => {
    await withUnpacked((dir) => {
      const location = 'node_modules/express';
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(withTamperedIntegrity(lock, location), null, 2));
      const install = npmCiOffline(dir);
      expect(install.status).not.toBe(0);
      // Refused for the changed package: its tarball is the one npm cannot find under that hash.
      expect(install.stderr).toContain(`/express/-/express-${lock.packages[location]!.version}.tgz`);
      expect(existsSync(join(dir, location))).toBe(false);
    });
  });

  it('declares main and the Functions Framework as its only dependency', () => {
    const pkg = JSON.parse(zip.readAsText('package.json'));
    expect(pkg.main).toBe('index.js');
    expect(pkg.dependencies).toEqual({ '@google-cloud/functions-framework': FUNCTIONS_FRAMEWORK_VERSION });
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });

  it('declares the Functions Framework version the project is tested with', () => {
    const installed = JSON.parse(readFileSync(join(root, 'node_modules/@google-cloud/functions-framework/package.json'), 'utf8'));
    expect(FUNCTIONS_FRAMEWORK_VERSION).toBe(installed.version);
  });

  it('does not bundle the Functions Framework, and reaches the Compute client by its deep path', () => {
    const code = zip.readAsText('index.js');
    expect(code).toMatch(/require\("@google-cloud\/functions-framework"\)/);
    expect(code).not.toMatch(/functions-framework\/build\/src\/function_registry/);
    expect(code).toContain('google.cloud.compute.v1.Instances');
    // Managed instance groups (ADR 0010): kept, zonal and regional; other services pruned.
    expect(code).toContain('google.cloud.compute.v1.InstanceGroupManagers');
    expect(code).toContain('google.cloud.compute.v1.RegionInstanceGroupManagers');
    expect(code).not.toContain('google.cloud.compute.v1.RegionOperations');
    expect(code).not.toContain('google.cloud.compute.v1.Firewalls');
  });

  it('is reproducible: the same sources give the same bytes', async () => {
    const before = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
    const rebuilt = await buildFunctionBundle(root, { force: true });
    expect(rebuilt.zipSha256).toBe(before);
  });

  it('is named after its content: different bytes, different archive hash', () => {
    const a = deterministicZip([{ name: 'index.js', data: Buffer.from('a') }]);
    const b = deterministicZip([{ name: 'index.js', data: Buffer.from('b') }]);
    expect(deterministicZip([{ name: 'index.js', data: Buffer.from('a') }]).equals(a)).toBe(true);
    expect(a.equals(b)).toBe(false);
  });

  it('is named after its lockfile too: one changed integrity hash, another archive hash', () => {
    const code = { name: 'index.js', data: Buffer.from('exports.x = 1;') };
    const sha = (lock: Lockfile) =>
      createHash('sha256')
        .update(deterministicZip([code, ...functionInstallFiles(lock)]))
        .digest('hex');
    expect(sha(rootLock())).toBe(sha(rootLock()));
    expect(sha(withTamperedIntegrity(rootLock(), 'node_modules/express'))).not.toBe(sha(rootLock()));
  });

  it(`registers the plan's entry point when loaded on the plan's Node major`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'svir-artifact-'));
    try {
      zip.extractAllTo(dir, true);
      // Resolve the declared dependency the way an installed function would.
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(
        join(dir, 'probe.js'),
        `const t0 = process.hrtime.bigint();
         require('./index.js');
         const { getFunction } = require('@google-cloud/functions-framework/testing');
         const entryPoint = process.argv[2];
         process.stdout.write(JSON.stringify({
           node: process.versions.node,
           registered: typeof getFunction(entryPoint),
           // The Google clients open HTTP/2 (gRPC) machinery when they initialise; lazy
           // loading means none of it is there before the first event needs a client.
           http2Loaded: process.moduleLoadList.some((m) => m === 'NativeModule http2'),
         }));`,
      );
      const major = runtimeMajor(fn.build_config.runtime);
      const out = execFileSync(nodeBinary(major), ['probe.js', fn.build_config.entry_point], {
        cwd: dir,
        // The function starts with the variables the plan gives it, and nothing else of ours.
        env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...fn.service_config.environment_variables },
        encoding: 'utf8',
      });
      const probe = JSON.parse(out);
      expect(probe).toEqual({ node: expect.stringMatching(new RegExp(`^${major}\\.`)), registered: 'function', http2Loaded: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('functionLockfile', () => {
  // A repository where the framework is a dev dependency: every entry carries the repository's flags.
  const repository: Lockfile = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'repo', devDependencies: { fw: '1.0.0', lone: '1.0.0' } },
      'node_modules/fw': {
        version: '1.0.0',
        integrity: 'sha512-fw',
        dev: true,
        dependencies: { a: '^1.0.0' },
        optionalDependencies: { native: '1.0.0', absent: '1.0.0' },
        peerDependencies: { p: '1.0.0', q: '1.0.0' },
        peerDependenciesMeta: { q: { optional: true } },
      },
      'node_modules/a': { version: '1.2.0', integrity: 'sha512-a', dev: true, dependencies: { b: '^2.0.0', '@s/x': '3.0.0' } },
      'node_modules/a/node_modules/b': { version: '2.0.0', integrity: 'sha512-b2', dev: true },
      'node_modules/b': { version: '1.0.0', integrity: 'sha512-b1', dev: true },
      'node_modules/@s/x': { version: '3.0.0', integrity: 'sha512-x', dev: true },
      'node_modules/native': { version: '1.0.0', integrity: 'sha512-n', dev: true, optional: true, devOptional: true },
      'node_modules/p': { version: '1.0.0', integrity: 'sha512-p', dev: true, peer: true },
      'node_modules/q': { version: '1.0.0', integrity: 'sha512-q', dev: true },
      'node_modules/lone': { version: '1.0.0', integrity: 'sha512-l', dev: true },
    },
  };

  it('keeps what the dependencies reach, at the same places, with registry URLs and without the dev flags', () => {
    const lock = functionLockfile(repository, 'fn', { fw: '1.0.0' });
    expect(lock).toEqual({
      name: 'fn',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'fn', dependencies: { fw: '1.0.0' } },
        'node_modules/@s/x': { version: '3.0.0', resolved: 'https://registry.npmjs.org/@s/x/-/x-3.0.0.tgz', integrity: 'sha512-x' },
        'node_modules/a': {
          version: '1.2.0',
          resolved: 'https://registry.npmjs.org/a/-/a-1.2.0.tgz',
          integrity: 'sha512-a',
          dependencies: { b: '^2.0.0', '@s/x': '3.0.0' },
        },
        'node_modules/a/node_modules/b': {
          version: '2.0.0',
          resolved: 'https://registry.npmjs.org/b/-/b-2.0.0.tgz',
          integrity: 'sha512-b2',
        },
        'node_modules/fw': {
          ...repository.packages['node_modules/fw'],
          dev: undefined,
          resolved: 'https://registry.npmjs.org/fw/-/fw-1.0.0.tgz',
        },
        'node_modules/native': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/native/-/native-1.0.0.tgz',
          integrity: 'sha512-n',
          optional: true,
        },
        'node_modules/p': { version: '1.0.0', resolved: 'https://registry.npmjs.org/p/-/p-1.0.0.tgz', integrity: 'sha512-p', peer: true },
      },
    });
    expect(Object.values(lock.packages).filter((e) => 'dev' in e)).toEqual([]);
  });

  it('fails when the repository lock lacks a package the function needs', () => {
    const { ['node_modules/a']: _dropped, ...packages } = repository.packages;
    expect(() => functionLockfile({ ...repository, packages }, 'fn', { fw: '1.0.0' })).toThrow(
      /package-lock\.json has no a for node_modules\/fw; run 'npm install' at the repository root/,
    );
  });
});
