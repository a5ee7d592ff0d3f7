/** One entry of a lockfileVersion 3 `packages` map, as npm writes it. */
interface LockedPackage {
  readonly name?: string;
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  readonly hasInstallScript?: boolean;
  readonly [field: string]: unknown;
}

/** A `package-lock.json` of lockfileVersion 3. */
export interface Lockfile {
  readonly name?: string;
  readonly lockfileVersion: number;
  readonly requires?: boolean;
  readonly packages: Readonly<Record<string, LockedPackage>>;
}

/** Where npm's public registry serves tarballs; `npm ci` maps it onto the configured registry. */
const NPM_REGISTRY = 'https://registry.npmjs.org/';

// Flags that say how a package is reached from the root. They describe the repository's tree
// (where the framework is a dev dependency), so they are recomputed for the function's tree:
// a `dev` copied over would make the Cloud Functions build, which omits dev dependencies, skip it.
const TREE_FLAGS = ['dev', 'optional', 'devOptional', 'peer', 'extraneous'] as const;

type EdgeKind = 'prod' | 'optional' | 'peer';

/** Package name of a lock entry: its `name` (an alias) or the path after the last node_modules/. */
function packageName(location: string, entry: LockedPackage): string {
  return entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The registry URL of a package's tarball, as npm's public registry names it. */
function registryTarball(name: string, version: string): string {
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `${NPM_REGISTRY}${name}/-/${base}-${version}.tgz`;
}

/** The location Node.js would load `name` from when required by the package at `from` ('' is the root). */
function resolveLocation(packages: Lockfile['packages'], from: string, name: string): string | undefined {
  for (let dir = from; ;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

function edgesOf(entry: LockedPackage): Array<[string, EdgeKind]> {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((n): [string, EdgeKind] => [n, 'prod']),
    ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, EdgeKind] => [n, 'optional']),
    // An optional peer is installed only when something else brings it in.
    ...Object.keys(entry.peerDependencies ?? {})
      .filter((n) => optionalPeers[n]?.optional !== true)
      .map((n): [string, EdgeKind] => [n, 'peer']),
  ];
}

/** Locations reached from `starts`, following the edges `follow` accepts. */
function reach(
  packages: Lockfile['packages'],
  starts: ReadonlyArray<readonly [string, EdgeKind]>,
  follow: (kind: EdgeKind) => boolean,
): Set<string> {
  const seen = new Set<string>();
  const queue: Array<[string, string, EdgeKind]> = starts.map(([name, kind]) => ['', name, kind]);
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    const [from, name, kind] = item;
    if (!follow(kind)) continue;
    const location = resolveLocation(packages, from, name);
    if (location === undefined) {
      if (kind === 'optional') continue; // e.g. a platform binary npm did not install here
      throw new Error(
        `the repository's package-lock.json has no ${name} for ${from === '' ? 'the function' : from}; run 'npm install' at the repository root`,
      );
    }
    if (seen.has(location)) continue;
    seen.add(location);
    for (const [dep, depKind] of edgesOf(packages[location]!)) queue.push([location, dep, depKind]);
  }
  return seen;
}

/**
 * The lockfile of the function's own tree, cut from the repository's lockfile: the packages that
 * `dependencies` reach there, at the same locations and versions (so the function runs with
 * exactly what the tests ran with), each with its registry URL and integrity, and with the
 * dependency flags recomputed for a tree whose root is the function.
 */
export function functionLockfile(rootLock: Lockfile, name: string, dependencies: Readonly<Record<string, string>>): Lockfile {
  if (rootLock.lockfileVersion !== 3) {
    throw new Error(`the repository's package-lock.json has lockfileVersion ${rootLock.lockfileVersion}; npm 9 or newer writes version 3`);
  }
  const { packages } = rootLock;
  const starts = Object.keys(dependencies).map((n): [string, EdgeKind] => [n, 'prod']);
  const all = reach(packages, starts, () => true);
  const required = reach(packages, starts, (k) => k !== 'optional');
  const notOnlyByPeers = reach(packages, starts, (k) => k !== 'peer');

  const out: Record<string, LockedPackage> = { '': { name, dependencies: { ...dependencies } } };
  for (const location of [...all].sort()) {
    const entry = packages[location]!;
    const { version, integrity } = entry;
    if (entry.link === true || version === undefined || integrity === undefined) {
      throw new Error(`${location} in the repository's package-lock.json is not a registry package with an integrity hash`);
    }
    const copy: Record<string, unknown> = {
      version,
      resolved: entry.resolved ?? registryTarball(packageName(location, entry), version),
      integrity,
    };
    for (const [field, value] of Object.entries(entry)) {
      if (!(field in copy) && !(TREE_FLAGS as readonly string[]).includes(field)) copy[field] = value;
    }
    if (!required.has(location)) copy.optional = true;
    if (!notOnlyByPeers.has(location)) copy.peer = true;
    out[location] = copy as LockedPackage;
  }
  return { name, lockfileVersion: 3, requires: true, packages: out };
}
