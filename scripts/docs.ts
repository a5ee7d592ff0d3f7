import { API_REPORT, REFERENCE_DIR, compareGenerated, staleMessage } from './docs-drift';
import { ROOT, generate, install } from './docs-reference';
import { handleArguments } from './usage';

const USAGE = `usage: npm run docs [-- --check]

Regenerates the API reference from the TSDoc of what lib/index.ts exports:
  ${REFERENCE_DIR}/   Markdown pages (TypeDoc with typedoc-plugin-markdown, typedoc.json)
  ${API_REPORT}   the API report (API Extractor, api-extractor.json)

  --check   generate into a scratch directory and compare with the committed files instead of
            writing them; exit 1, naming the files that differ, when they are stale
            (npm run docs:check; __tests__/docs/reference.test.ts runs it)
`;

const check = handleArguments(USAGE, ['--check']).includes('--check');

async function main(): Promise<void> {
  const started = Date.now();
  const generated = await generate();
  try {
    for (const w of generated.warnings) process.stderr.write(`${w}\n`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (check) {
      const drifts = compareGenerated(ROOT, generated.root);
      if (drifts.length > 0) {
        process.stderr.write(staleMessage(drifts));
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`docs: ${REFERENCE_DIR}/ and ${API_REPORT} match the TSDoc of lib/ (${seconds} s)\n`);
    } else {
      install(generated);
      process.stdout.write(`docs: wrote ${REFERENCE_DIR}/ and ${API_REPORT} (${seconds} s)\n`);
    }
  } finally {
    generated.remove();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`docs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
