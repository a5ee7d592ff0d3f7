import { MAX_PCR_INDEX, PcrMeasurement, parsePcr } from '../../../function/core/measurements';
import { parseMeasurements } from '../../../function/core/parse';
import { FOOTER, Flags, Io, ParsedOptions, UsageError, describeError, str, textOption } from '../../common';
import type { Command } from '../../tool';
import { BASELINES_BIN as BIN } from '../names';
import { TARGET_FLAGS, TARGET_OPTIONS } from '../options';
import { NEW_BASELINE_FLAGS, NEW_BASELINE_OPTIONS, beforeRecording, record } from '../recording';
import { lateBootPcrProblem } from '../records';

const USAGE = `usage: ${BIN} add --pcr PCR_n=VALUE [--pcr …] --note TEXT --project P [options]

Records explicit PCR values as a known-good baseline (e.g. values computed from a signed
image). VALUE is the digest exactly as Shielded VM logs it (base64). A baseline matches a
late-boot report only when it holds exactly the report's PCRs, and every late-boot report
holds PCR_0, PCR_4 and PCR_7: a set without all three could never match and is refused.

options:
  --pcr PCR_n=VALUE     one PCR (repeat: a Linux VM reports PCR_0, 4 and 7, Windows also 11, 13, 14)
  --hash-algo ALGO      hashAlgo of every PCR (e.g. SHA1, SHA256), as the reports name it
  --source TEXT         where the values come from (stored as 'source')
${NEW_BASELINE_OPTIONS}
${TARGET_OPTIONS}

${FOOTER}`;

const FLAGS = {
  ...TARGET_FLAGS,
  ...NEW_BASELINE_FLAGS,
  pcr: { type: 'string', multiple: true },
  'hash-algo': { type: 'string' },
  source: { type: 'string' },
} as const satisfies Flags;

async function add({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`add takes no arguments besides options, got '${positionals[0]}'`);
  const pcrs = (values.pcr as string[] | undefined) ?? [];
  if (pcrs.length === 0) throw new UsageError('add needs at least one --pcr PCR_n=VALUE');
  if (str(values.note) === undefined) {
    throw new UsageError(
      "add needs --note: why these measurements are trusted (stored as 'description'); --source says where they come from",
    );
  }
  textOption(values, 'note');
  const algo = str(values['hash-algo']);
  if (algo !== undefined && !/^[A-Z0-9_]{2,20}$/.test(algo)) {
    throw new UsageError(`--hash-algo must name an algorithm as the reports do (SHA1, SHA256), got '${algo}'`);
  }
  // Each --pcr judged as written, and named as written: the parser's own paths (--pcr[1].pcrNum) mean nothing to its user.
  const seen = new Set<number>();
  const raw = pcrs.map((p) => {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--pcr must be PCR_n=VALUE, got '${p}'`);
    const name = p.slice(0, eq);
    const value = p.slice(eq + 1);
    const given = `--pcr ${name}=${value === '' ? '' : '…'}`;
    const pcr = parsePcr(name);
    if (pcr === undefined) {
      throw new UsageError(`${given}: ${name} is not a PCR name like PCR_0 (PCR_0 to PCR_${MAX_PCR_INDEX}, no leading zeros)`);
    }
    if (seen.has(pcr)) throw new UsageError(`--pcr ${name} is given twice`);
    seen.add(pcr);
    // Shielded VM logs digests in base64: 28 characters for SHA1, 44 for SHA256.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value) || value === '') {
      throw new UsageError(`${given}: ${name} must be a base64 digest, as Shielded VM logs it; got '${value}'`);
    }
    const length = algo === undefined ? undefined : ({ SHA1: 28, SHA256: 44, SHA384: 64, SHA512: 88 } as Record<string, number>)[algo];
    if (length !== undefined && value.length !== length) {
      throw new UsageError(`${given}: ${name} has ${value.length} base64 characters; a ${algo} digest has ${length}`);
    }
    return { pcrNum: name, value, ...(algo !== undefined && { hashAlgo: algo }) };
  });
  let measurements: PcrMeasurement[];
  try {
    measurements = parseMeasurements(raw, '--pcr');
  } catch (e) {
    // What the checks above leave to the parser (a value too long), in the same words.
    const detail = describeError(e).replace(/--pcr\[(\d+)\](?:\.\w+)?/g, (_, i: string) => `--pcr ${raw[Number(i)]?.pcrNum ?? ''}=…`);
    throw new UsageError(`the PCR values are not usable: ${detail}`);
  }
  const never = lateBootPcrProblem(measurements);
  if (never !== undefined) throw new UsageError(never);
  const checked = await beforeRecording(values, io, 'add');
  const source = textOption(values, 'source');
  await record(values, io, checked, {
    measurements,
    origin: source ?? 'explicit values',
    fields: { ...(source !== undefined && { source }), createdVia: 'add' },
  });
}

/** `integrity-baselines add`: records explicit PCR values as a known-good baseline. */
export const ADD: Command = { flags: FLAGS, usage: USAGE, run: add };
