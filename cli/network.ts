import { connect } from 'node:net';

/*
 * Failures below HTTP (a name that does not resolve, a refused or unroutable connection), told
 * apart from every other error so that both tools word them alike: which host, what happened,
 * and what to check. Never advice to log in: credentials do not fix a network.
 */

/** A connection that failed before any HTTP answer. */
export interface NetworkFailure {
  /** The host (or `address:port`) that could not be resolved or reached. */
  readonly host: string;
  readonly kind: 'unresolved' | 'refused' | 'unreachable' | 'cut';
  /** The system's code, like `ENOTFOUND`. */
  readonly code: string;
  /** The variable naming the proxy, when `host` is that proxy. */
  readonly proxy?: string;
}

const KINDS: Readonly<Record<string, NetworkFailure['kind']>> = {
  ENOTFOUND: 'unresolved',
  EAI_AGAIN: 'unresolved',
  EAI_FAIL: 'unresolved',
  EAI_NONAME: 'unresolved',
  ECONNREFUSED: 'refused',
  ENETUNREACH: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETDOWN: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ETIMEDOUT: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'unreachable',
  ECONNRESET: 'cut',
  EPIPE: 'cut',
};

/** `getaddrinfo ENOTFOUND host`, `connect ECONNREFUSED 127.0.0.1:443`: Node's words for a failed socket. */
const SOCKET_ERROR = /\b(?:getaddrinfo|connect|read|write|queryA|queryAaaa) ([A-Z_]+) (\[[^\]]+\](?::\d+)?|[^\s,;)]+)/;
/** gRPC's word for a name that does not resolve. */
const GRPC_UNRESOLVED = /Name resolution failed for target dns:(?:\/\/\/)?([^\s:,]+)/;
/** gaxios's `request to <url> failed`: the host asked, when the error does not name one. */
const REQUEST_TO = /request to (https?:\/\/[^\s/]+)/;

/** The variables gaxios (and so every Google client here) takes a proxy from, in its order. */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

/** The proxy requests go through, and the variable naming it; undefined when none is set. */
function proxyOf(env: NodeJS.ProcessEnv): { readonly variable: string; readonly url: URL } | undefined {
  for (const variable of PROXY_VARIABLES) {
    const value = env[variable];
    if (!value) continue;
    try {
      return { variable, url: new URL(value.includes('://') ? value : `http://${value}`) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether NO_PROXY exempts `host` from the proxy, as gaxios reads it (exact names, `.suffix` and `*`). */
function bypassesProxy(host: string, env: NodeJS.ProcessEnv): boolean {
  const list = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase());
  const h = host.toLowerCase();
  return list.some((n) => n !== '' && (n === '*' || n === h || (n.startsWith('.') ? h.endsWith(n) : h.endsWith(`.${n}`))));
}

/** The errors an error was caused by, itself first: `cause`, gaxios's `error`, an AggregateError's `errors`. */
function chain(e: unknown, depth = 0): object[] {
  if (typeof e !== 'object' || e === null || depth > 4) return [];
  const o = e as { cause?: unknown; error?: unknown; errors?: unknown };
  const nested = [o.cause, o.error, ...(Array.isArray(o.errors) ? o.errors : [])];
  return [e, ...nested.flatMap((n) => chain(n, depth + 1))];
}

/**
 * The network failure behind an error, wherever in its chain of causes it is; undefined for
 * anything else (an HTTP answer, a refusal by the API, a credentials problem). `env` tells a
 * proxy apart from the host asked.
 */
export function networkFailure(e: unknown, env: NodeJS.ProcessEnv = process.env): NetworkFailure | undefined {
  for (const link of chain(e)) {
    const o = link as { code?: unknown; message?: unknown; hostname?: unknown; address?: unknown; port?: unknown };
    const message = typeof o.message === 'string' ? o.message : '';
    const socket = SOCKET_ERROR.exec(message);
    const grpc = GRPC_UNRESOLVED.exec(message);
    const code = grpc ? 'ENOTFOUND' : typeof o.code === 'string' && KINDS[o.code] ? o.code : socket && KINDS[socket[1]!] ? socket[1]! : '';
    const kind = KINDS[code];
    if (kind === undefined) continue;
    const host =
      grpc?.[1] ??
      (socket && socket[1] === code ? socket[2] : undefined) ??
      (typeof o.hostname === 'string' ? o.hostname : undefined) ??
      (typeof o.address === 'string' ? `${o.address}${typeof o.port === 'number' ? `:${o.port}` : ''}` : undefined) ??
      chain(e)
        .map((l) => REQUEST_TO.exec(String((l as { message?: unknown }).message ?? ''))?.[1])
        .find((u) => u !== undefined)
        ?.replace(/^https?:\/\//, '');
    if (host === undefined) continue;
    const proxy = proxyOf(env);
    const viaProxy = proxy !== undefined && [proxy.url.hostname, proxy.url.host].includes(host.replace(/^\[|\](?=:|$)/g, ''));
    return viaProxy ? { host: proxy.url.host, kind, code, proxy: proxy.variable } : { host, kind, code };
  }
  return undefined;
}

const HAPPENED: Readonly<Record<NetworkFailure['kind'], string>> = {
  unresolved: 'could not be resolved (DNS',
  refused: 'refused the connection (',
  unreachable: 'could not be reached (',
  cut: 'cut the connection (',
};

/** The failure in a few words, for a line that lists what could not be checked: the host and what happened. */
export function networkReason(f: NetworkFailure): string {
  return networkSentence(f).replace(/ \([^)]*\); check .*$/, '');
}

/**
 * The one sentence both tools say about a network failure, after `could not <do this>: `: the
 * host, what happened to the connection, and what to check.
 */
export function networkSentence(f: NetworkFailure): string {
  const who = f.proxy === undefined ? f.host : `the proxy ${f.host} (${f.proxy})`;
  const code = f.kind === 'unresolved' ? `: ${f.code})` : `${f.code})`;
  return `the network failed: ${who} ${HAPPENED[f.kind]}${code}; check the network connection, any proxy (HTTPS_PROXY) and DNS`;
}

/**
 * What a short TCP connection to `host:port` finds wrong: a name that does not resolve, a
 * refusal, no route. Undefined when it connects, or when nothing answers within `ms` (a silent
 * network says nothing about why).
 */
export function probeConnection(host: string, port: number, ms = 2000): Promise<Omit<NetworkFailure, 'proxy'> | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: Omit<NetworkFailure, 'proxy'> | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      const kind = KINDS[code];
      done(kind === undefined ? undefined : { host: kind === 'unresolved' ? host : `${host}:${port}`, kind, code });
    });
  });
}

/**
 * Why a request to one of `urls` may not have been answered before a deadline: what a
 * connection to each (or to the proxy requests to it go through) finds wrong, within `ms`, the
 * first in the order given. Undefined when nothing is found.
 */
export async function unansweredBecause(
  urls: string | readonly string[],
  env: NodeJS.ProcessEnv,
  ms = 2000,
): Promise<NetworkFailure | undefined> {
  const proxy = proxyOf(env);
  const probes = (typeof urls === 'string' ? [urls] : urls).map(async (url): Promise<NetworkFailure | undefined> => {
    const target = new URL(url);
    if (proxy !== undefined && !bypassesProxy(target.hostname, env)) {
      const port = Number(proxy.url.port || (proxy.url.protocol === 'https:' ? 443 : 80));
      const found = await probeConnection(proxy.url.hostname, port, ms);
      return found && { ...found, host: proxy.url.host, proxy: proxy.variable };
    }
    return probeConnection(target.hostname.replace(/^\[|\]$/g, ''), Number(target.port || (target.protocol === 'http:' ? 80 : 443)), ms);
  });
  return (await Promise.all(probes)).find((f) => f !== undefined);
}
