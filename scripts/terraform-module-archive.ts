import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadFunctionBundle } from '../lib/function-bundle';
import { handleArguments } from './usage';

const USAGE = `usage: npx tsx scripts/terraform-module-archive.ts

Packs the Terraform module (terraform/, with the function zip the build copies in) into
dist/shielded-vm-integrity-responder-terraform-module-<version>.tar.gz, the file to
attach to a release. Its root is the module's root, with LICENSE, so a stack can call it by URL:

  module "integrity_responder" {
    source = "https://…/shielded-vm-integrity-responder-terraform-module-<version>.tar.gz"
  }

and a submodule as "<that URL>//modules/organization". The function zip in it is the one the
construct uploads (rebuilt first when older than function/). Run it after 'npm run build', which
checks that terraform/ is what the construct generates today.
`;

const ROOT = join(__dirname, '..');

/** Writes the archive; returns its path. */
export function archiveModule(outDir: string = join(ROOT, 'dist')): string {
  const moduleDir = join(ROOT, 'terraform');
  // The zip the construct uploads (built first when older than function/), whatever terraform/ holds.
  const bundle = loadFunctionBundle(ROOT);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const staging = mkdtempSync(join(tmpdir(), 'svir-module-archive-'));
  try {
    cpSync(moduleDir, staging, { recursive: true });
    copyFileSync(bundle.zipPath, join(staging, 'function.zip'));
    copyFileSync(join(ROOT, 'LICENSE'), join(staging, 'LICENSE'));
    mkdirSync(outDir, { recursive: true });
    const archive = join(outDir, `shielded-vm-integrity-responder-terraform-module-${version}.tar.gz`);
    execFileSync('tar', ['-czf', archive, '-C', staging, '.'], { stdio: 'pipe' });
    return archive;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  handleArguments(USAGE);
  try {
    const archive = archiveModule();
    process.stdout.write(`terraform-module-archive: wrote ${relative(process.cwd(), archive)}\n`);
  } catch (e) {
    process.stderr.write(`terraform-module-archive: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
