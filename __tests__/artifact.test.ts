import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { buildFunctionBundle } from '../lib/bundle/build';
import { FUNCTIONS_FRAMEWORK_VERSION, MIN_NODE_MAJOR } from '../lib/bundle/manifest';
import { packageRoot } from '../lib/bundle/sources';
import { deterministicZip } from '../lib/bundle/zip';
import { loadFunctionBundle } from '../lib/function-bundle';
import { nodeBinary, runtimeMajor } from '../testkit/node-runtime';
import { synthResponders } from './support/synth';

const root = packageRoot(__dirname);
const plan = synthResponders({});
const fn = plan.only('google_cloudfunctions2_function') as Record<string, any>;
const object = plan.only('google_storage_bucket_object');
const bundle = loadFunctionBundle();
const zipPath = bundle.zipPath;
const zip = new AdmZip(zipPath);

describe('the function source zip', () => {
  it('is the file the storage object uploads', () => {
    expect(String(object.source)).toContain(bundle.zipSha256);
    expect(createHash('sha256').update(readFileSync(zipPath)).digest('hex')).toBe(bundle.zipSha256);
  });

  it('holds exactly index.js and package.json', () => {
    expect(
      zip
        .getEntries()
        .map((e) => e.entryName)
        .sort(),
    ).toEqual(['index.js', 'package.json']);
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
