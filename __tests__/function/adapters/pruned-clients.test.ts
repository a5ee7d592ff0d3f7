import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { functionBuildOptions, functionBundlePlugins } from '../../../lib/bundle/build';
import { FakeResourceManager } from '../../../testkit/fake-resource-manager';
import { FakeSecurityCenter } from '../../../testkit/fake-security-center';
import { nodeBinary } from '../../../testkit/node-runtime';
import { REPO_ROOT } from '../../support/paths';

// The quarantine and findings adapters as the function ships them: bundled with the descriptors
// cut to the services it calls (lib/bundle/build.ts), run on the runtime's Node major against the
// loopback APIs. The other tests load the clients' full descriptors from node_modules; a type the
// cut left out (a long-running method's result, the operations service) fails only here.

const ENTRY = `
export { ResourceManagerQuarantine } from './function/adapters/tag-quarantine';
export { SecurityCenterFindings } from './function/adapters/scc-findings';
export { createProjectsClient, createSecurityCenterClient, createTagBindingsClient } from './function/runtime/clients';
`;

const RUN = (rmPort: number, sccPort: number) => `
const m = require('./index.js');
const rm = { endpoint: { protocol: 'http', host: '127.0.0.1', port: ${rmPort} } };
const scc = { endpoint: { protocol: 'http', host: '127.0.0.1', port: ${sccPort} } };
const quarantine = new m.ResourceManagerQuarantine((zone) => m.createTagBindingsClient(zone, rm), () => m.createProjectsClient(rm));
const findings = new m.SecurityCenterFindings(() => m.createSecurityCenterClient(scc));
const vm = { projectId: 'fleet-prod-1234', zone: 'europe-west1-b', id: '1001' };
const finding = {
  source: 'organizations/800000000001/sources/5550001', findingId: 'i1001b6', category: 'SHIELDED_VM_INTEGRITY_FAILURE',
  severity: 'HIGH', resourceName: '//compute.googleapis.com/projects/fleet-prod-1234/zones/europe-west1-b/instances/1001',
  eventTime: '2026-11-11T10:00:00Z', description: 'failed', properties: { bootCounter: '6', snapshots: ['s1'] },
};
(async () => {
  const out = {
    bound: await quarantine.bind(vm, 'tagValues/42'),
    again: await quarantine.bind(vm, 'tagValues/42'),
    unbound: await quarantine.unbind(vm, 'tagValues/42'),
    raised: await findings.raise(finding),
    raisedAgain: await findings.raise(finding),
  };
  await findings.deactivate(out.raised.name);
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

let dir: string;
let rm: FakeResourceManager;
let scc: FakeSecurityCenter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pruned-clients-'));
  const { entryPoints: _unused, ...options } = functionBuildOptions(REPO_ROOT, 'unused.ts');
  const result = await build({
    ...options,
    stdin: { contents: ENTRY, resolveDir: REPO_ROOT, sourcefile: 'pruned-clients-entry.ts', loader: 'ts' },
    plugins: functionBundlePlugins(),
  });
  writeFileSync(join(dir, 'index.js'), result.outputFiles[0]!.contents);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  rm = new FakeResourceManager().addProject('fleet-prod-1234', '204512345678');
  scc = new FakeSecurityCenter().addSource('organizations/800000000001/sources/5550001');
  await Promise.all([rm.start(), scc.start()]);
});

afterEach(async () => {
  await Promise.all([rm.stop(), scc.stop()]);
});

it('bind, unbind, raise and deactivate from the bundle, with its cut descriptors, on the runtime Node', async () => {
  // Operations that are not done at once: their result is decoded from the cut descriptor.
  rm.operationPolls = 1;

  const { stdout } = await promisify(execFile)(nodeBinary(24), ['-e', RUN(rm.port, scc.port)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none' },
    timeout: 30_000,
  });

  const binding = `tagBindings/${encodeURIComponent('//compute.googleapis.com/projects/204512345678/zones/europe-west1-b/instances/1001')}/tagValues/42`;
  const name = 'organizations/800000000001/sources/5550001/locations/global/findings/i1001b6';
  expect(JSON.parse(stdout)).toEqual({
    bound: { binding, existed: false },
    again: { binding, existed: true },
    unbound: true,
    raised: { name, existed: false },
    raisedAgain: { name, existed: true },
  });
  expect(rm.lines('/v3/operations/')).toHaveLength(2);
  expect(scc.findings.get(name)).toMatchObject({ state: 'INACTIVE', findingClass: 'THREAT', sourceProperties: { snapshots: ['s1'] } });
}, 60_000);
