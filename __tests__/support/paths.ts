import { join } from 'node:path';

/** The repository's root, for tests that read its files or run its scripts. */
export const REPO_ROOT = join(__dirname, '..', '..');
