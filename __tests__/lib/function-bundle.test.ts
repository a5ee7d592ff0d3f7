import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleDir, packageRoot } from '../../lib/bundle/sources';
import { loadFunctionBundle } from '../../lib/function-bundle';

// A package installed without sources: only its prebuilt dist/function.
function prebuiltPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'svir-prebuilt-'));
  cpSync(bundleDir(packageRoot(__dirname)), bundleDir(dir), { recursive: true });
  return dir;
}

describe('loadFunctionBundle', () => {
  it('uses the prebuilt bundle of a package without sources', () => {
    const dir = prebuiltPackage();
    try {
      expect(loadFunctionBundle(dir)).toEqual(
        expect.objectContaining({ zipPath: join(bundleDir(dir), 'function.zip'), entryPoint: 'respondToIntegrityEvent' }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a prebuilt zip that does not match its manifest', () => {
    const dir = prebuiltPackage();
    try {
      writeFileSync(join(bundleDir(dir), 'function.zip'), 'tampered');
      expect(() => loadFunctionBundle(dir)).toThrow(/function\.zip does not match its manifest/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a package with no bundle at all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svir-empty-'));
    try {
      expect(() => loadFunctionBundle(dir)).toThrow(
        /the installed package in .* is incomplete: the function bundle is missing .*; reinstall it/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
