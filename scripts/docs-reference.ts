import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { Extractor, ExtractorConfig, type ExtractorMessage } from '@microsoft/api-extractor';
import ts from 'typescript';
import { API_REPORT, REFERENCE_DIR } from './docs-drift';

/*
 * The generated reference: TypeDoc with typedoc-plugin-markdown renders the TSDoc of what
 * lib/index.ts exports into docs/reference/ (typedoc.json), and API Extractor writes the API
 * report docs/api/shielded-vm-integrity-responder.api.md (api-extractor.json) from the
 * declarations of lib/, emitted into a scratch directory for the run. Both are generated into
 * that scratch directory first: `npm run docs` copies them into docs/, the check compares them
 * with what is committed (docs/adr/0024).
 */

/** The repository root. */
export const ROOT = join(__dirname, '..');

/** What one generation produced, in a scratch directory laid out like the repository. */
export interface Generated {
  /** Root of the generated tree: holds `docs/reference/` and the API report, as in the repository. */
  readonly root: string;
  /** Warnings of TypeDoc and API Extractor (a symbol referenced but not exported, …), one per line. */
  readonly warnings: readonly string[];
  /** Removes the scratch directory. */
  remove(): void;
}

/** Runs the TypeDoc CLI (an ES module, so in a process of its own) with typedoc.json, writing into `out`. */
function runTypeDoc(out: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'),
        '--options',
        join(ROOT, 'typedoc.json'),
        '--out',
        out,
        '--logLevel',
        'Warn',
      ],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      if (code !== 0) reject(new Error(`TypeDoc failed (exit ${code}):\n${lines.join('\n')}`));
      else
        resolve(
          lines.filter((l) => /warning/i.test(l) && !/Found 0 errors/.test(l)).map((l) => `typedoc: ${l.replace(/^\[warning\]\s*/, '')}`),
        );
    });
  });
}

/** Emits the declarations of lib/ (tsconfig.build.json) into `outDir`; throws with the compiler's diagnostics. */
function emitDeclarations(outDir: string): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.build.json'),
    { outDir, declaration: true, emitDeclarationOnly: true, noEmit: false },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (parsed === undefined) throw new Error('cannot read tsconfig.build.json');
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const result = program.emit();
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (result.emitSkipped || errors.length > 0) {
    throw new Error(
      `could not emit the declarations of lib/: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}; run \`npm run typecheck\``,
    );
  }
}

/** Runs API Extractor (api-extractor.json) on the declarations in `dtsDir`, writing the report into `reportDir`. */
function runApiExtractor(dtsDir: string, reportDir: string, tempDir: string): string[] {
  const configPath = join(ROOT, 'api-extractor.json');
  const configObject = ExtractorConfig.loadFile(configPath);
  // The committed config names fixed places; this run uses its own scratch directory.
  configObject.mainEntryPointFilePath = join(dtsDir, 'lib', 'index.d.ts');
  configObject.apiReport = { ...configObject.apiReport!, enabled: true, reportFolder: reportDir, reportTempFolder: tempDir };
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: configPath,
    packageJsonFullPath: join(ROOT, 'package.json'),
  });
  const warnings: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback: (m: ExtractorMessage) => {
      // Console messages narrate the run ("the report file was missing, so a new file was created").
      if (m.category !== 'console' && (m.logLevel === 'warning' || m.logLevel === 'error')) {
        const where = m.sourceFilePath ? `${relative(dtsDir, m.sourceFilePath)}:${m.sourceFileLine ?? 0}: ` : '';
        warnings.push(`api-extractor: ${where}${m.text}`);
      }
      m.handled = true;
    },
  });
  if (result.errorCount > 0) throw new Error(`API Extractor failed:\n${warnings.join('\n')}`);
  // The report's warnings name declaration files under this run's scratch directory: name them
  // from lib/'s root instead, so that two runs write the same report.
  const report = join(reportDir, basename(API_REPORT));
  const scratchPrefix = `${relative(ROOT, dtsDir).split(sep).join('/')}/`;
  writeFileSync(report, readFileSync(report, 'utf8').split(scratchPrefix).join(''));
  return warnings;
}

/**
 * Generates the reference and the API report into a scratch directory under `.gen/` (inside the
 * repository, where API Extractor finds package.json and the peers' declarations).
 */
export async function generate(): Promise<Generated> {
  mkdirSync(join(ROOT, '.gen'), { recursive: true });
  const scratch = mkdtempSync(join(ROOT, '.gen', 'docs-'));
  const root = join(scratch, 'out');
  const remove = () => rmSync(scratch, { recursive: true, force: true });
  try {
    // TypeDoc runs in its own process while this one emits declarations and runs API Extractor.
    const typedoc = runTypeDoc(join(root, REFERENCE_DIR));
    let extractor: string[];
    try {
      emitDeclarations(join(scratch, 'dts'));
      mkdirSync(join(root, 'docs', 'api'), { recursive: true });
      extractor = runApiExtractor(join(scratch, 'dts'), join(root, 'docs', 'api'), join(scratch, 'api-temp'));
    } finally {
      // Settles TypeDoc before a failure above propagates, so no process outlives the run.
      await typedoc.catch(() => undefined);
    }
    const warnings = [...(await typedoc), ...extractor];
    return { root, warnings, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/** Replaces the committed reference and API report with a generation's. */
export function install(generated: Generated): void {
  rmSync(join(ROOT, REFERENCE_DIR), { recursive: true, force: true });
  cpSync(join(generated.root, REFERENCE_DIR), join(ROOT, REFERENCE_DIR), { recursive: true });
  mkdirSync(join(ROOT, 'docs', 'api'), { recursive: true });
  cpSync(join(generated.root, API_REPORT), join(ROOT, API_REPORT));
}
