import { REPO_ROOT } from '../support/paths';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunningEmulator, useFirestoreEmulator, usePubsubEmulator } from '../../testkit/emulators';
import { httpRequest } from '../../testkit/http';
import { npmDependenciesState } from '../../scripts/setup/npm-dependencies';
import { DOC_WORLDS, DocWorld, SeededWorld, WorldVariant } from '../support/doc-worlds';
import { describeWithEmulators } from '../support/emulator-suite';

/*
 * Every command that README.md and docs/**\/*.md show in a fenced `sh`, `bash`, `shell` or
 * `console` block is checked, one of four ways, and the table of how is printed:
 *
 * - run:     executed here (fast, local), and must succeed;
 * - mapped:  run by a named CI step or test, whose file must contain the command (or the text
 *            that runs it), listed in RULES below;
 * - install: an `npm install` of the package, whose peers must be exactly package.json's
 *            peerDependencies with their ranges, plus `typescript@~6.0`; the packed tarball is
 *            installed by the package test and the peers by `npm run test:peers`;
 * - cloud:   in a block whose first line is `# needs Google Cloud…`: a block that runs the
 *            operator tools (integrity-baselines, integrity-budget) is executed, command by
 *            command in its order, on the Firestore emulator and the loopback Compute Engine and
 *            Cloud Logging fakes, in the world its narrative takes for granted
 *            (support/doc-worlds.ts): each must exit 0, and print what the doc shows as its
 *            output; the dead-letter replay is run whole against the Pub/Sub emulator; other
 *            commands are parsed by their own tool (gcloud against a loopback server that
 *            answers `{}`, the cdktf CLI's `--help` of the subcommand).
 *
 * A command that fits none of them fails this test, naming the file and line.
 */

const root = REPO_ROOT;

interface Block {
  readonly file: string;
  readonly line: number;
  readonly info: string;
  readonly body: readonly { readonly line: number; readonly text: string }[];
  /** The block's first line says it needs Google Cloud. */
  readonly googleCloud: boolean;
  /** The lines of a `text` block right after it: the output of its first command. */
  readonly output?: readonly string[];
}

interface DocCommand {
  readonly block: Block;
  readonly at: string;
  readonly text: string;
  /** The line it ends on. */
  readonly end: number;
}

function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

const SHELL_BLOCKS = new Set(['sh', 'bash', 'shell', 'console']);
const GOOGLE_CLOUD = /^#\s*needs Google Cloud\b/;

function blocksOf(file: string, text: string = readFileSync(file, 'utf8')): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const info = open[1]!;
    const start = i;
    const body: { line: number; text: string }[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push({ line: i + 1, text: lines[i]! });
    if (SHELL_BLOCKS.has(info)) {
      let next = i + 1;
      while (next < lines.length && lines[next]!.trim() === '') next++;
      const output: string[] = [];
      if (/^\s*```text\s*$/.test(lines[next] ?? '')) {
        for (next++; next < lines.length && !/^\s*```\s*$/.test(lines[next]!); next++) output.push(lines[next]!);
      }
      blocks.push({
        file: relative(root, file),
        line: start + 1,
        info,
        body,
        googleCloud: GOOGLE_CLOUD.test(body[0]?.text.trim() ?? ''),
        ...(output.length > 0 && { output }),
      });
    }
  }
  return blocks;
}

/** `text` without a trailing `# comment` (a `#` that starts a word outside quotes), and whether a quote is left open. */
function uncomment(text: string): { readonly code: string; readonly openQuote: boolean } {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '\\') {
      i++;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      return { code: text.slice(0, i).trimEnd(), openQuote: false };
    }
  }
  return { code: text.trimEnd(), openQuote: quote !== undefined };
}

/**
 * The commands of a block: its logical lines, continuations (`\`, a trailing `|`, `&&` or `||`,
 * an open quote, a `do … done` loop) joined, comments and blank lines dropped. In a `console`
 * block only the lines after a `$ ` prompt.
 */
function commandsOf(block: Block): DocCommand[] {
  const commands: DocCommand[] = [];
  let pending: { line: number; text: string } | undefined;
  let depth = 0;
  let inQuote = false;
  for (const { line, text } of block.body) {
    let source = text;
    if (block.info === 'console' && pending === undefined) {
      if (!source.startsWith('$ ')) continue;
      source = source.slice(2);
    }
    if (!inQuote && pending === undefined && /^\s*(#.*)?$/.test(source)) continue;
    const { code, openQuote }: { code: string; openQuote: boolean } = inQuote ? { code: source, openQuote: true } : uncomment(source);
    const joined: string = pending === undefined ? code : `${pending.text}\n${code}`;
    // A quote opened on an earlier line closes on this one when its quotes balance overall.
    inQuote = inQuote ? uncomment(joined).openQuote : openQuote;
    depth += (code.match(/(^|[;\s])do(\s|$)/g) ?? []).length - (code.match(/(^|[;\s])done(\s|;|$)/g) ?? []).length;
    if (inQuote || depth > 0 || /(\\|\||&&)$/.test(code.trimEnd())) {
      pending = { line: pending?.line ?? line, text: joined };
      continue;
    }
    commands.push({ block, at: `${block.file}:${pending?.line ?? line}`, text: joined.replace(/\\\n\s*/g, '').trim(), end: line });
    pending = undefined;
  }
  if (pending !== undefined) {
    commands.push({ block, at: `${block.file}:${pending.line}`, text: pending.text.trim(), end: block.body.at(-1)!.line });
  }
  return commands;
}

/** How one command is checked. */
type Check =
  | { readonly kind: 'run'; readonly how: string }
  | { readonly kind: 'mapped'; readonly by: Readonly<Record<string, readonly string[]>> }
  | { readonly kind: 'install' }
  | { readonly kind: 'cloud'; readonly how: 'gcloud' | 'cdktf' | 'assignment' | 'emulator' }
  | { readonly kind: 'cloud'; readonly how: 'executed'; readonly world: DocWorld };

interface Rule {
  readonly pattern: RegExp;
  /** The CI step or test that runs it: file → texts it must contain (default: the command itself). */
  readonly by?: Readonly<Record<string, readonly string[] | 'command'>>;
  readonly run?: string;
  readonly install?: true;
}

/** Commands outside Google Cloud blocks, first match wins. */
const RULES: readonly Rule[] = [
  { pattern: /^npm test$/, by: { '.ci/run': 'command' } },
  { pattern: /^npm run (typecheck|lint|format:check|test:peers)$/, by: { '.ci/run': 'command' } },
  { pattern: /^export CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=1$/, by: { '.ci/run': 'command' } },
  // npm test's setup step runs npm ci when node_modules is missing or stale; CI runs that step.
  { pattern: /^npm ci$/, by: { 'scripts/setup/npm-dependencies.js': ["'ci'"], '.ci/run': ['node scripts/setup test'] } },
  // The package test packs the checkout (npm pack runs the build first, as prepack).
  { pattern: /^npm pack$/, by: { 'testkit/consumer.ts': ["npm(['pack'"], '__tests__/package/package.test.ts': ['packPackage('] } },
  {
    pattern: /^npm run build$/,
    by: {
      'package.json': ['"prepack": "node scripts/setup pack && npm run build"'],
      'testkit/consumer.ts': ["npm(['pack'"],
      '__tests__/package/package.test.ts': ['packPackage('],
    },
  },
  // The reference and plan tests run the same generations, comparing instead of writing.
  {
    pattern: /^npm run docs(:check)?$/,
    by: {
      'package.json': [
        '"docs": "tsx scripts/docs.ts && tsx scripts/terraform-plans.ts"',
        '"docs:check": "tsx scripts/docs.ts --check && tsx scripts/terraform-plans.ts --check"',
      ],
      '__tests__/docs/reference.test.ts': ["'docs.ts'", "'--check'"],
      '__tests__/terraform/plan-docs.test.ts': ['renderPlans()'],
    },
  },
  // The module archive test writes the archive with the script's own function, then has Terraform fetch it.
  {
    pattern: /^npm run terraform-module:archive$/,
    by: {
      'package.json': ['"terraform-module:archive": "tsx scripts/terraform-module-archive.ts"'],
      '__tests__/terraform/module-archive.test.ts': ['archiveModule('],
    },
  },
  // docs/migrating-from-cdktf.md: the migration test follows its steps with the real Terraform.
  {
    pattern: /^terraform -chdir=\S+ (init|state pull > \S+)$/,
    by: { '__tests__/terraform/migration.test.ts': ['ws.init()', "'state', 'pull'"] },
  },
  {
    pattern: /^npx integrity-module moved --plan \S+ --out moved\.tf$/,
    by: { '__tests__/terraform/migration.test.ts': ["'integrity-module.ts'", "'moved', '--plan'", "'--out'", "'moved.tf'"] },
  },
  {
    pattern: /^terraform state list$/,
    by: { '__tests__/terraform/migration.test.ts': ["'state', 'list'"] },
  },
  {
    pattern: /^terraform (init|plan)$/,
    by: { '__tests__/terraform/migration.test.ts': ['ws.init()', 'ws.plan()'], 'testkit/terraform/workspace.ts': ["'init'", "'plan'"] },
  },
  { pattern: /^npm install (\.\.\/\S+\.tgz|shielded-vm-integrity-responder) /, install: true },
  { pattern: /^npm run synth$/, run: 'synthesizes the example stack into a scratch CDKTF_OUTDIR' },
  { pattern: /^npm run demo$/, run: 'runs the demo on the emulators' },
  { pattern: /^(npm run [\w:-]+ --|npx integrity-(baselines|budget|containment)( [\w-]+)?) --help$/, run: 'runs it' },
];

/** The texts a mapped command's file must contain. */
function evidence(rule: Rule, command: string): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(rule.by!).map(([file, texts]) => [file, texts === 'command' ? [command] : texts]));
}

const ASSIGNMENTS = /^(export\s+)?([A-Z_][A-Z0-9_]*=\S*\s*)+$/;
/** The dead-letter replay of the runbook, run whole against the Pub/Sub emulator. */
const REPLAY = 'gcloud pubsub subscriptions pull "$SUB"';
const OPERATOR_TOOL = /^(?:npx integrity-(baselines|budget|containment)|npm run (baselines|budget|containment) --)(?= )/;

/** The worlds whose story a Google Cloud block tells (one, for a block the test can run). */
function worldsOf(block: Block): DocWorld[] {
  const commands = commandsOf(block).map((c) => c.text);
  return block.googleCloud ? DOC_WORLDS.filter((w) => w.serves(commands)) : [];
}

function checkOf(command: DocCommand): Check | undefined {
  const { text, block } = command;
  if (block.googleCloud) {
    if (block.body.some((l) => l.text.includes(REPLAY))) return { kind: 'cloud', how: 'emulator' };
    if (ASSIGNMENTS.test(text)) return { kind: 'cloud', how: 'assignment' };
    const worlds = worldsOf(block);
    if (worlds.length === 1) return { kind: 'cloud', how: 'executed', world: worlds[0]! };
    // An operator tool's command runs in a world of doc-worlds.ts: one that tells its block's story.
    if (OPERATOR_TOOL.test(text)) return undefined;
    if (/^gcloud /.test(text)) return { kind: 'cloud', how: 'gcloud' };
    if (/^npx cdktf \w+$/.test(text)) return { kind: 'cloud', how: 'cdktf' };
    return undefined;
  }
  const rule = RULES.find((r) => r.pattern.test(text));
  if (rule === undefined) return undefined;
  if (rule.install) return { kind: 'install' };
  if (rule.run !== undefined) return { kind: 'run', how: rule.run };
  return { kind: 'mapped', by: evidence(rule, text) };
}

const DOCUMENTS = [join(root, 'README.md'), ...markdownUnder(join(root, 'docs'))];
const BLOCKS = DOCUMENTS.flatMap((d) => blocksOf(d));
const COMMANDS = BLOCKS.flatMap(commandsOf);
const checked = COMMANDS.map((c) => ({ command: c, check: checkOf(c) }));
const of = (kind: Check['kind'], how?: string) =>
  checked.filter((c) => c.check?.kind === kind && (how === undefined || (c.check as { how?: string }).how === how)).map((c) => c.command);

/** The first of each command shown more than once (with the same assignments before it). */
function unique(commands: readonly DocCommand[]): DocCommand[] {
  const seen = new Set<string>();
  return commands.filter((c) => {
    const key = `${assignmentsBefore(c)}\n${c.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Runs a shell command line with bash, in this process's environment and `env` (only `env` when
 * `isolated`); resolves with its exit code and output (both streams in `out`, as they came).
 */
function bash(
  script: string,
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; isolated?: boolean },
): Promise<{ status: number | null; out: string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      cwd: options.cwd,
      env: options.isolated ? options.env : { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 60000,
    });
    let out = '';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => ((out += d.toString()), (stdout += d.toString())));
    child.stderr.on('data', (d: Buffer) => ((out += d.toString()), (stderr += d.toString())));
    child.on('close', (status) => resolve({ status, out, stdout, stderr }));
  });
}

/** The assignments a block makes before a command (its `export X=…` lines), to run with it. */
function assignmentsBefore(command: DocCommand): string {
  return commandsOf(command.block)
    .filter((c) => ASSIGNMENTS.test(c.text) && c !== command)
    .map((c) => c.text)
    .join('\n');
}

/** The world runs: each block that runs the operator tools, once per variant of its world. */
const WORLD_RUNS = BLOCKS.flatMap((block) => {
  const worlds = worldsOf(block);
  return worlds.length === 1 ? worlds[0]!.variants.map((variant) => ({ block, world: worlds[0]!, variant })) : [];
});

/** What the test appends to a command in the runs of its block (`--actor` on the emulator). */
function appended(command: DocCommand, variant: WorldVariant): string {
  return variant.checks
    .filter((c) => c.append !== undefined && c.command.test(command.text))
    .map((c) => ` ${c.append}`)
    .join('');
}

/** The command as the test runs it: an operator tool from the checkout's sources, as its bin does, from any directory. */
const TSX = pathToFileURL(require.resolve('tsx')).href;
function runnable(text: string): string {
  return text.replace(OPERATOR_TOOL, (_m, a?: string, b?: string) => `node --import ${TSX} ${join(root, 'cli', `integrity-${a ?? b}.ts`)}`);
}

/**
 * The output the doc shows for a command, one pattern per line: comment lines right after it (one
 * output line wrapped; a trailing `(remark)` set off by two spaces is not output), or the `text`
 * block after its block for the block's first command (the whole output). Times, `sha256-…` and
 * `frees in …` stand for any; a run of spaces may be a tab (gcloud's `value()` columns).
 */
function shownOutput(
  command: DocCommand,
): { readonly lines: readonly string[]; readonly patterns: readonly RegExp[]; readonly whole: boolean } | undefined {
  const { body, output } = command.block;
  const after: string[] = [];
  for (const l of body.filter((b) => b.line > command.end)) {
    if (!/^\s*#/.test(l.text)) break;
    after.push(l.text.replace(/^\s*#\s*/, ''));
  }
  const first = commandsOf(command.block).find((c) => !ASSIGNMENTS.test(c.text));
  const lines = after.length > 0 ? [after.join(' ').replace(/\s{2,}\([^()]*\)\s*$/, '')] : first?.end === command.end ? output : undefined;
  if (lines === undefined) return undefined;
  return { lines, patterns: lines.map((l) => new RegExp(`^${linePattern(l)}$`)), whole: after.length === 0 };
}

const VARYING: readonly (readonly [RegExp, (shown: string) => string])[] = [
  [
    /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/,
    () => String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`,
  ],
  [/\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?Z/, () => String.raw`\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?Z`],
  [/sha256-…/, () => 'sha256-[0-9a-f]{64}'],
  [/frees in \d+ (?:s|min|h|days)\b/, () => String.raw`frees in \d+ (?:s|min|h|days)`],
  [/ {2,}/, (spaces) => `(?:${spaces}|\t)`],
];

/** A line of shown output as a pattern of the real line. */
function linePattern(line: string): string {
  const any = new RegExp(VARYING.map(([p]) => `(?:${p.source})`).join('|'), 'g');
  let pattern = '';
  let from = 0;
  for (const m of line.matchAll(any)) {
    pattern += escapeRegExp(line.slice(from, m.index));
    pattern += VARYING.find(([p]) => new RegExp(`^(?:${p.source})$`).test(m[0]))![1](m[0]);
    from = m.index + m[0].length;
  }
  return pattern + escapeRegExp(line.slice(from));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

afterAll(() => {
  const rows = checked.map(({ command, check }) => {
    const how =
      check === undefined
        ? 'NOT CHECKED'
        : check.kind === 'mapped'
          ? `run by ${Object.keys(check.by).join(', ')}`
          : check.kind === 'install'
            ? 'install: peers checked against package.json; the tarball installed by __tests__/package/package.test.ts'
            : check.kind === 'run'
              ? `executed here: ${check.how}`
              : check.how === 'executed'
                ? `Google Cloud: executed on the emulators: ${check.world.label}${[
                    ...new Set(check.world.variants.map((v) => appended(command, v))),
                  ]
                    .filter((a) => a !== '')
                    .map((a) => ` (the test adds${a})`)
                    .join('')}`
                : {
                    gcloud: 'Google Cloud: parsed by gcloud, sent to a loopback server',
                    cdktf: 'Google Cloud: the cdktf subcommand exists (--help)',
                    assignment: "Google Cloud: variables, run before the block's commands",
                    emulator: 'Google Cloud: the block run whole on the Pub/Sub emulator',
                  }[check.how];
    return `${command.at.padEnd(34)} ${command.text.split('\n')[0]!.slice(0, 70).padEnd(70)} ${how}`;
  });
  process.stdout.write(`\nCommands of README.md and docs/ (${rows.length})\n${rows.join('\n')}\n\n`);
});

describe('the commands of the README and docs/', () => {
  it('finds the shell blocks of the README and docs/', () => {
    expect(COMMANDS.map((c) => c.text)).toEqual(expect.arrayContaining(['npm run demo', 'npm test']));
  });

  it('checks every command one way or another', () => {
    const unchecked = checked.filter((c) => c.check === undefined).map((c) => `${c.command.at}: ${c.command.text}`);
    // Each one: run it in this test, map it to the test or CI step that runs it (RULES), or put it
    // in a block whose first line is `# needs Google Cloud…`.
    expect(unchecked).toEqual([]);
  });

  it('writes no <placeholder> outside quotes, where the shell reads it as a redirection', () => {
    const redirections = COMMANDS.filter((c) => /(^|\s)<[a-z][\w-]*>/i.test(c.text.replace(/'[^']*'|"[^"]*"/g, "''"))).map(
      (c) => `${c.at}: ${c.text}`,
    );
    expect(redirections).toEqual([]);
  });

  it('parses as shell', () => {
    const bad = BLOCKS.map((b) => ({ b, r: spawnSync('bash', ['-n'], { input: b.body.map((l) => l.text).join('\n'), encoding: 'utf8' }) }))
      .filter(({ r }) => r.status !== 0)
      .map(({ b, r }) => `${b.file}:${b.line}: ${r.stderr.trim()}`);
    expect(bad).toEqual([]);
  });

  describe('mapped to the CI step or test that runs them', () => {
    const mapped = checked.filter((c) => c.check?.kind === 'mapped');
    it.each(mapped.map((c) => [c.command.text, c.command.at, (c.check as Extract<Check, { kind: 'mapped' }>).by]))(
      '%s (%s)',
      (_text, _at, by) => {
        const missing = Object.entries(by).flatMap(([file, texts]) => {
          const content = readFileSync(join(root, file), 'utf8');
          return texts.filter((t) => !content.includes(t)).map((t) => `${file} does not contain ${JSON.stringify(t)}`);
        });
        expect(missing).toEqual([]);
      },
    );
  });

  describe('installing the package', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      peerDependencies: Record<string, string>;
    };
    const installs = of('install');

    it('is shown from a tarball and from the registry', () => {
      expect(installs.map((c) => c.text.split(/\s+/)[2])).toEqual([expect.stringMatching(/\.tgz$/), pkg.name]);
    });

    it.each(installs.map((c) => [c.at, c.text]))('%s names every peer with its range, and typescript@~6.0', (_at, text) => {
      const specs = text.split(/\s+/).slice(3);
      expect(specs.sort()).toEqual([...Object.entries(pkg.peerDependencies).map(([n, r]) => `${n}@${r}`), 'typescript@~6.0'].sort());
    });

    it('names the tarball npm pack writes', () => {
      const tarball = installs[0]!.text.split(/\s+/)[2]!;
      const name = tarball.split('/').pop()!;
      expect(new RegExp(`^${name.replace(/[.]/g, '\\.').replace('*', '.*')}$`).test(`${pkg.name}-${pkg.version}.tgz`)).toBe(true);
      expect(readFileSync(join(root, '__tests__', 'package', 'package.test.ts'), 'utf8')).toContain('createConsumer(packed.tarball');
    });
  });

  describe('run here', () => {
    let scratch: string;
    beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), 'svir-doc-commands-'))));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it.each(unique(of('run').filter((c) => c.text !== 'npm run demo')).map((c) => [c.text, c.at]))(
      '%s (%s)',
      async (text) => {
        const r = await bash(text, { cwd: root, env: { CDKTF_OUTDIR: join(scratch, 'cdktf.out'), CHECKPOINT_DISABLE: '1' } });
        expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: expect.any(String) });
      },
      60000,
    );
  });

  describe('needing Google Cloud, parsed by their own tools', () => {
    let stub: Server;
    let stubUrl: string;
    const requests: string[] = [];
    let scratch: string;
    let gcloudEnv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      scratch = mkdtempSync(join(tmpdir(), 'svir-doc-cloud-'));
      writeFileSync(join(scratch, 'token'), 'not-a-token\n');
      stub = createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
      stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
      gcloudEnv = {
        CLOUDSDK_CONFIG: join(scratch, 'gcloud'),
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(scratch, 'token'),
        CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
        CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING: `${stubUrl}/`,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${stubUrl}/compute/v1/`,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `${stubUrl}/`,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM: `${stubUrl}/`,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER: `${stubUrl}/`,
      };
    });
    afterAll(async () => {
      await new Promise((r) => stub.close(r));
      rmSync(scratch, { recursive: true, force: true });
    });

    it.each(unique(of('cloud', 'gcloud')).map((c) => [c.text, c.at, c]))(
      '%s (%s)',
      async (_text, _at, command) => {
        const before = requests.length;
        const r = await bash(`${assignmentsBefore(command)}\n${command.text}`, { cwd: scratch, env: gcloudEnv });
        expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: expect.not.stringMatching(/ERROR: \(gcloud/) });
        expect(requests.length).toBeGreaterThan(before);
      },
      30000,
    );

    it.each(unique(of('cloud', 'cdktf')).map((c) => [c.text, c.at]))(
      '%s (%s): the cdktf CLI knows the subcommand',
      async (text) => {
        const sub = text.split(' ')[2]!;
        const r = await bash(`node_modules/.bin/cdktf ${sub} --help`, {
          cwd: root,
          env: { CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1' },
        });
        expect(r.out).toContain(`cdktf ${sub}`);
        expect(r.status).toBe(0);
      },
      30000,
    );

    it.each(unique(of('cloud', 'assignment')).map((c) => [c.text, c.at]))('%s (%s): sets variables', async (text) => {
      expect((await bash(text, { cwd: scratch })).status).toBe(0);
    });
  });

  it('runs every world of doc-worlds.ts on one block, and every check of a world on a command of its blocks', () => {
    const ambiguous = BLOCKS.filter((b) => worldsOf(b).length > 1).map((b) => `${b.file}:${b.line}`);
    const unused = DOC_WORLDS.filter((w) => !WORLD_RUNS.some((r) => r.world === w)).map((w) => w.label);
    const idle = DOC_WORLDS.flatMap((w) =>
      w.variants.flatMap((v) =>
        v.checks
          .filter((c) => !WORLD_RUNS.some((r) => r.world === w && commandsOf(r.block).some((d) => c.command.test(d.text))))
          .map((c) => `${w.label} (${v.name}): no command matches ${String(c.command)}`),
      ),
    );
    expect({ ambiguous, unused, idle }).toEqual({ ambiguous: [], unused: [], idle: [] });
  });

  it('shows the dead-letter replay in the runbook', () => {
    expect(BLOCKS.filter((b) => b.body.some((l) => l.text.includes(REPLAY))).map((b) => b.file)).toEqual(['docs/operating/runbook.md']);
  });
});

describeWithEmulators('the commands of the docs that need the emulators', () => {
  const demo = of('run').filter((c) => c.text === 'npm run demo');
  it.each(demo.length > 0 ? [[demo.map((c) => c.at).join(', ')]] : [])(
    'npm run demo (%s) replays the rollout to its end',
    async () => {
      // Its setup step would run npm ci under the other test files on a stale tree; npm test's own
      // setup step has made it current.
      expect(npmDependenciesState(root)).toBe('current');
      const r = await bash('npm run demo', { cwd: root, timeoutMs: 150000 });
      expect(r.out).toMatch(/Compute actions: \d+ stop, \d+ relearn/);
      expect(r.status).toBe(0);
    },
    180000,
  );

  describe('the operator tools of docs/operating/, executed on the Firestore emulator and the Compute and Logging fakes', () => {
    let emulator: RunningEmulator;
    beforeAll(async () => {
      emulator = await useFirestoreEmulator();
    }, 60000);
    afterAll(async () => {
      delete process.env.FIRESTORE_EMULATOR_HOST;
      await emulator?.stop();
    });

    describe.each(WORLD_RUNS.map((r) => [`${r.block.file}:${r.block.line}`, r.variant.name, r] as const))('%s, %s', (_at, _name, run) => {
      let scratch: string;
      let world: SeededWorld | undefined;
      let env: NodeJS.ProcessEnv;

      beforeAll(async () => {
        // Each run on an empty emulator: the block's world only.
        expect((await httpRequest(`http://${emulator.host}/reset`, { method: 'POST' })).status).toBe(200);
        scratch = mkdtempSync(join(tmpdir(), 'svir-doc-world-'));
        writeFileSync(join(scratch, 'token'), 'not-a-token\n');
        world = await run.variant.seed(emulator.host);
        // Nothing here reaches Google: what the world has no fake for is a port where nothing listens.
        const compute = world.compute ?? 'http://127.0.0.1:1';
        const logging = world.logging ?? 'http://127.0.0.1:1';
        env = {
          PATH: process.env.PATH,
          HOME: scratch,
          METADATA_SERVER_DETECTION: 'none',
          FIRESTORE_EMULATOR_HOST: emulator.host,
          COMPUTE_API_ENDPOINT: compute,
          LOGGING_API_ENDPOINT: logging,
          RESOURCE_MANAGER_API_ENDPOINT: world.resourceManager ?? 'http://127.0.0.1:1',
          SECURITY_CENTER_API_ENDPOINT: world.securityCenter ?? 'http://127.0.0.1:1',
          CLOUDSDK_CONFIG: join(scratch, 'gcloud'),
          CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(scratch, 'token'),
          CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
          CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${compute}/compute/v1/`,
          CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING: `${logging}/`,
        };
      }, 90000);
      afterAll(async () => {
        await world?.close();
        rmSync(scratch, { recursive: true, force: true });
      });

      // In the block's order, in one directory: a file one command writes is there for the next.
      it.each(
        commandsOf(run.block)
          .filter((c) => !ASSIGNMENTS.test(c.text))
          .map((c) => [c.text, c.at, c] as const),
      )(
        '%s (%s)',
        async (_text, _at, command) => {
          const checks = run.variant.checks.filter((c) => c.command.test(command.text));
          const r = await bash(`${assignmentsBefore(command)}\n${runnable(command.text)}${appended(command, run.variant)}`, {
            cwd: scratch,
            env,
            isolated: true,
          });
          const status = checks.find((c) => c.status !== undefined)?.status ?? 0;
          expect({ status: r.status, out: r.out }).toEqual({ status, out: expect.any(String) });
          const shown = run.variant.showsDocOutput ? shownOutput(command) : undefined;
          if (shown !== undefined) {
            // The emulator's address, which a line adds on the emulator, is not in the doc.
            const real = r.stdout
              .replace(/ on the emulator at 127\.0\.0\.1:\d+/g, '')
              .replace(/\n$/, '')
              .split('\n');
            const compared = shown.whole ? real : real.slice(0, shown.lines.length);
            // Lines that match show as the doc's: a difference is one between the doc and the tool.
            expect(compared.map((line, i) => (shown.patterns[i]?.test(line) ? shown.lines[i] : line))).toEqual(shown.lines);
          }
          for (const pattern of checks.flatMap((c) => c.output ?? [])) expect(`${r.stdout}${r.stderr}`).toMatch(pattern);
        },
        60000,
      );
    });
  });

  describe('the dead-letter replay of the runbook, run whole on the Pub/Sub emulator', () => {
    const replay = BLOCKS.find((b) => b.body.some((l) => l.text.includes(REPLAY)))!;
    const entries = ['{"insertId":"a","logName":"projects/p/logs/x"}', '{"insertId":"b","logName":"projects/p/logs/x"}'];
    let emulator: RunningEmulator;
    let scratch: string;
    let api: string;
    const call = async (method: string, path: string, body: unknown) =>
      (await httpRequest(`${api}/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).body;
    const pull = async (subscription: string) =>
      (
        JSON.parse(await call('POST', `subscriptions/${subscription}:pull`, { maxMessages: 10, returnImmediately: true })) as {
          receivedMessages?: { message: { data: string } }[];
        }
      ).receivedMessages ?? [];

    beforeAll(async () => {
      emulator = await usePubsubEmulator();
      scratch = mkdtempSync(join(tmpdir(), 'svir-doc-replay-'));
      writeFileSync(join(scratch, 'token'), 'not-a-token\n');
      // What the construct creates, named as the runbook's block names them.
      api = `http://${emulator.host}/v1/projects/sec-ops-1234`;
      await call('PUT', 'topics/integrity-responder-events', {});
      await call('PUT', 'topics/integrity-responder-dead-letters', {});
      await call('PUT', 'subscriptions/integrity-responder-dead-letters', {
        topic: 'projects/sec-ops-1234/topics/integrity-responder-dead-letters',
      });
      await call('PUT', 'subscriptions/replayed', { topic: 'projects/sec-ops-1234/topics/integrity-responder-events' });
      await call('POST', 'topics/integrity-responder-dead-letters:publish', {
        messages: entries.map((e) => ({ data: Buffer.from(e).toString('base64') })),
      });
    });
    afterAll(async () => {
      rmSync(scratch, { recursive: true, force: true });
      await emulator?.stop();
    });

    it('republishes every dead letter to the events topic and acknowledges them', async () => {
      const r = await bash(replay.body.map((l) => l.text).join('\n'), {
        cwd: scratch,
        env: {
          CLOUDSDK_CONFIG: join(scratch, 'gcloud'),
          CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(scratch, 'token'),
          CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
          CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `http://${emulator.host}/`,
        },
      });
      expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: expect.stringContaining('Acked the messages') });
      expect((await pull('replayed')).map((m) => Buffer.from(m.message.data, 'base64').toString()).sort()).toEqual(entries);
      expect(await pull('integrity-responder-dead-letters')).toEqual([]);
    }, 60000);
  });
});
