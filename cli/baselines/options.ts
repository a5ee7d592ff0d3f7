import {
  COLLECTION_ID,
  DATABASE_ID,
  DEFAULT_BASELINE_COLLECTION,
  DEFAULT_NAME_PREFIX,
  PROJECT_ID,
  dedicatedDatabaseId,
} from '../../function/contract';
import { Flags, Io, OptionValues, UNPRINTABLE, UsageError, str, timeoutSeconds } from '../common';
import { Actor, nameOnEmulatorOnly, recordedAsHelp, resolveActor } from '../principal';
import { BASELINES_BIN as BIN } from './names';
import { SHORT_ID } from './records';
import { BaselineTarget, MIN_ID_PREFIX, whereOf } from './repository';

/*
 * The options the baseline commands share: which collection they work on (project, database,
 * collection, deadline), who a change is recorded as, and the id of one baseline; their lines
 * of help, their declarations and how they are read.
 */

/** Database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedDatabaseId(DEFAULT_NAME_PREFIX);

/** The help lines of the options that name the collection, and `--help`: every command lists them. */
export const TARGET_OPTIONS = `  --project P           project of the database (default: $GOOGLE_CLOUD_PROJECT)
  --database D          Firestore database id (default: ${DEFAULT_DATABASE}, the example
                        stack's; pass '<namePrefix>-baselines' or '(default)')
  --collection C        collection (default: ${DEFAULT_BASELINE_COLLECTION})
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

/** The help lines of `--actor`, for the commands that record who changed a baseline. */
export const ACTOR_OPTION = recordedAsHelp('--actor');

/** The options that name the collection: every command takes them. */
export const TARGET_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  collection: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/**
 * Who the change is recorded as. On the emulator `--actor` names anyone (default: the local
 * user); against Firestore it is the principal of the credentials, always: a name given on the
 * command line would let one person both propose and approve. `what` (`approve a baseline of`)
 * words a failure to tell, with the collection.
 */
export async function actorOf(values: OptionValues, io: Io, t: BaselineTarget, what: string): Promise<Actor> {
  const flag = nameOnEmulatorOnly(values, 'actor', io.env);
  return resolveActor(flag, io.env, { doing: `${what} ${whereOf(t)}`, option: '--actor', seconds: t.seconds });
}

/** Where a command works, before it is known whether it may go without a project (a dry run does). */
export type Place = Omit<BaselineTarget, 'project'> & { readonly project?: string };

/** The collection named by the options (the example stack's by default), its project when one is given. */
export function placeOf(values: OptionValues, io: Io): Place {
  const project = str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined);
  if (project !== undefined && !PROJECT_ID.test(project)) {
    throw new UsageError(`--project must be a Google Cloud project id, got '${project}'`);
  }
  const database = str(values.database) ?? DEFAULT_DATABASE;
  const collection = str(values.collection) ?? DEFAULT_BASELINE_COLLECTION;
  if (!DATABASE_ID.test(database))
    throw new UsageError(`--database must be '(default)' or a database id like '${DEFAULT_DATABASE}', got '${database}'`);
  if (!COLLECTION_ID.test(collection)) throw new UsageError(`--collection must be a top-level collection id, got '${collection}'`);
  return {
    ...(project !== undefined && { project }),
    database,
    collection,
    seconds: timeoutSeconds(values.timeout),
    ...(io.env.FIRESTORE_EMULATOR_HOST && { emulator: io.env.FIRESTORE_EMULATOR_HOST }),
  };
}

/** The place with its project, which every command that reads or writes Firestore needs. */
export function required(place: Place, why = 'the project of the baseline database'): BaselineTarget {
  const { project } = place;
  if (project === undefined) throw new UsageError(`--project is required (or set GOOGLE_CLOUD_PROJECT): ${why}`);
  return { ...place, project };
}

/** The collection a command works on, from its options. */
export function targetOf(values: OptionValues, io: Io): BaselineTarget {
  return required(placeOf(values, io));
}

/** One word after an id: the argument of show, approve and revoke. */
export function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${command} needs the id of a baseline ('${BIN} list' shows them)`
        : `${command} takes one id, got ${positionals.length}`,
    );
  }
  const id = positionals[0]!.replace(/…$/, '');
  if (id === '' || id === '.' || id === '..' || /^__.*__$/.test(id) || id.includes('/') || UNPRINTABLE.test(id) || id.length > 1500) {
    throw new UsageError(`'${id}' is not a document id ('${BIN} list' shows them)`);
  }
  if (/^sha256-[0-9a-f]*$/.test(id) && id.length < MIN_ID_PREFIX) {
    throw new UsageError(`give at least ${MIN_ID_PREFIX} characters of a sha256- id ('${BIN} list' shows ${SHORT_ID}), got '${id}'`);
  }
  return id;
}
