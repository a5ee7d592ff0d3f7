import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AddressInfo } from 'node:net';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { archiveModule } from '../../scripts/terraform-module-archive';
import { REPO_ROOT } from '../support/paths';
import { describeWithTerraform } from '../support/terraform';
import { startStandIns, StandIns, workspace } from '../../testkit/terraform/workspace';

/*
 * The release archive of the Terraform module, as a stack gets it: by URL. Terraform downloads
 * the archive from a loopback server, unpacks it, and plans the root module and a submodule
 * (`<url>//modules/organization`) from it.
 */

describeWithTerraform('the Terraform module as a release archive', () => {
  let standIns: StandIns;
  let server: Server;
  let out: string;
  let archive: string;
  const requests: string[] = [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'svir-archive-'));
    archive = archiveModule(out);
    standIns = await startStandIns();
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url?.split('?')[0] === `/${basename(archive)}`) {
        response.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(archive));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await standIns.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(out, { recursive: true, force: true });
  });

  it('is named after the version and holds the module, its submodules, the function zip and the LICENSE', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(basename(archive)).toBe(`shielded-vm-integrity-responder-terraform-module-${version}.tar.gz`);
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n');
    for (const file of [
      'main.tf.json',
      'variables.tf.json',
      'README.md',
      'function.zip',
      'LICENSE',
      'modules/organization/main.tf.json',
      'modules/folder/main.tf.json',
    ]) {
      expect(listed).toContain(`./${file}`);
    }
    const zip = execFileSync('tar', ['-xzOf', archive, './function.zip'], { maxBuffer: 256 * 1024 * 1024 });
    expect(createHash('sha256').update(zip).digest('hex')).toBe(loadFunctionBundle(REPO_ROOT).zipSha256);
  });

  it('is fetched by URL, root module and submodule, and plans', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${basename(archive)}`;
    const ws = workspace(standIns, {
      files: {
        'main.tf': [
          'provider "google" {\n  project = "sec-ops-1234"\n}',
          `module "fleet" {\n  source     = "${url}"\n  project_id = "sec-ops-1234"\n  watched_project_id = "fleet-prod-1234"\n}`,
          `module "organization" {\n  source          = "${url}//modules/organization"\n  project_id      = "sec-ops-1234"\n  name_prefix     = "org-integrity"\n  organization_id = "800000000001"\n}`,
        ].join('\n\n'),
      },
    });
    const init = await ws.init();
    expect(init.stdout).toContain(`Downloading ${url} for fleet...`);
    expect(init.code).toBe(0);
    expect((await ws.validate()).stdout).toContain('Success! The configuration is valid.');
    const planned = await ws.plan();
    expect(planned.stderr).toBe('');
    expect(planned.summary).toMatch(/^Plan: \d+ to add, 0 to change, 0 to destroy\.$/);
    const calls = new Set(planned.show!.resource_changes!.map((c) => c.address.split('.').slice(0, 2).join('.')));
    expect(calls).toEqual(new Set(['module.fleet', 'module.organization']));
    expect(requests.length).toBeGreaterThan(0);
  });
});
