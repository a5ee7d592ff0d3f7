// testkit/: loopback stand-ins (a fake Compute API, a local Functions Framework host) and
// Firestore/Pub/Sub emulator helpers, shared by the test suite, the benchmark
// (scripts/bench.ts) and the demo (scripts/demo.ts). Never shipped in the package.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../lib/bundle/sources';
import { Server, Socket, connect, createServer } from 'node:net';
import { Server as HttpServer, createServer as createHttpServer, request as httpForward } from 'node:http';
import { RunningEmulator, useFirestoreEmulator, usePubsubEmulator } from './emulators';
import { FakeComputeApi } from './fake-compute';
import { FakeResourceManager } from './fake-resource-manager';
import { FakeSecurityCenter } from './fake-security-center';
import { FunctionHost, serveFunction, unpackFunction } from './function-host';
import { clearEmulatorDatabase, httpRequest, putEmulatorDocument, putEmulatorFields } from './http';
import { runtimeMajor } from './node-runtime';

/** What the example stack's plan says about the function, read from `cdk.tf.json`. */
export interface PlannedFunction {
  readonly projectId: string;
  /** The file the storage object uploads (its `source`, resolved in the stack directory). */
  readonly zipPath: string;
  readonly entryPoint: string;
  readonly runtime: string;
  readonly env: Record<string, string>;
  readonly topic: string;
  /** The push subscription the plan declares, and its dead-letter topic and subscription. */
  readonly delivery: PlannedDelivery;
  /** The plan's `google_firestore_document`s (the baseline policy), as `terraform apply` would write them. */
  readonly documents: readonly PlannedDocument[];
}

/** A `google_firestore_document` of the plan: `fields` in the Firestore REST API's value format. */
export interface PlannedDocument {
  readonly database: string;
  readonly collection: string;
  readonly documentId: string;
  readonly fields: Record<string, unknown>;
}

/** What the plan's `google_pubsub_subscription`s say about delivery. */
export interface PlannedDelivery {
  readonly subscription: string;
  readonly ackDeadlineSeconds: number;
  readonly retryPolicy: { readonly minimumBackoff: string; readonly maximumBackoff: string };
  readonly maxDeliveryAttempts: number;
  readonly deadLetterTopic: string;
  readonly deadLetterSubscription: string;
}

/**
 * Synthesizes `main.ts` (the example stack, as `npm run synth` does) into a temporary
 * directory with the given environment, and reads the function's facts from the plan.
 */
export function synthesizeExampleStack(env: Record<string, string> = {}): PlannedFunction & { remove(): void } {
  const root = packageRoot(__dirname);
  const outdir = mkdtempSync(join(tmpdir(), 'svir-synth-'));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        ![
          'GOOGLE_CLOUD_PROJECT',
          'GOOGLE_CLOUD_REGION',
          'RESPONSE_MODE',
          'FAILURE_ACTION',
          'ENFORCEMENT',
          'INSTANCE_GROUP_ACTION',
          'FIRESTORE_DATABASE',
          'ENABLE_APIS',
          'EXEMPT_LABEL',
          'SCOPE',
          'ORGANIZATION_ID',
          'EXCLUDED_PROJECTS',
          'MAX_ACTIONS_PER_WINDOW',
          'ACTION_WINDOW_SECONDS',
          'REQUIRE_BASELINE_APPROVAL',
          'CONTAINMENT',
          'FORENSICS_PROJECT_ID',
          'FIREWALL_POLICY_PARENT',
          'QUARANTINE_FIREWALL_POLICY',
          'QUARANTINE_RULE_PRIORITY',
          'RAISE_FINDINGS',
          'RELEASE_PRINCIPALS',
          'REQUIRE_RELEASE_APPROVAL',
        ].includes(k),
    ),
  );
  execFileSync(process.execPath, ['--require', 'tsx/cjs', 'main.ts'], {
    cwd: root,
    env: { ...clean, ...env, CDKTF_OUTDIR: outdir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stackDir = join(outdir, 'stacks', 'integrity-responder');
  const plan = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, any>> };
  const only = (type: string) => {
    const all = Object.values(plan.resource[type] ?? {});
    if (all.length !== 1) throw new Error(`expected one ${type} in the example stack, found ${all.length}`);
    return all[0];
  };
  const fn = only('google_cloudfunctions2_function');
  const object = only('google_storage_bucket_object');
  const subscriptions = Object.values(plan.resource.google_pubsub_subscription ?? {});
  const push = subscriptions.find((s) => s.push_config !== undefined);
  const topics = Object.values(plan.resource.google_pubsub_topic ?? {});
  if (push === undefined || subscriptions.length !== 2 || topics.length !== 2) {
    throw new Error('expected a push subscription, a dead-letter subscription and two topics in the example stack');
  }
  const deadLetters = subscriptions.find((s) => s !== push)!;
  const topicNamed = (suffix: string): string => {
    const t = topics.find((x) => String(x.name).endsWith(suffix));
    if (t === undefined) throw new Error(`no topic named *${suffix} in the example stack`);
    return t.name;
  };
  return {
    projectId: fn.project,
    zipPath: resolve(stackDir, object.source),
    entryPoint: fn.build_config.entry_point,
    runtime: fn.build_config.runtime,
    env: fn.service_config.environment_variables,
    topic: topicNamed('-events'),
    delivery: {
      subscription: push.name,
      ackDeadlineSeconds: push.ack_deadline_seconds,
      retryPolicy: { minimumBackoff: push.retry_policy.minimum_backoff, maximumBackoff: push.retry_policy.maximum_backoff },
      maxDeliveryAttempts: push.dead_letter_policy.max_delivery_attempts,
      deadLetterTopic: topicNamed('-dead-letters'),
      deadLetterSubscription: deadLetters.name,
    },
    documents: Object.values(plan.resource.google_firestore_document ?? {}).map((d) => ({
      database: d.database,
      collection: d.collection,
      documentId: d.document_id,
      fields: JSON.parse(d.fields) as Record<string, unknown>,
    })),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/**
 * Retry backoff of the emulator's push subscriptions unless a test sets its own: the plan's
 * (10 s doubling to 600 s) would make every redelivery test wait minutes.
 */
export const FAST_RETRY = { minimumBackoff: '0.1s', maximumBackoff: '1s' } as const;

/** How {@link Harness.deploy} wires a responder. */
export interface DeployOptions {
  /** Put an {@link InvokerGate} between the subscription and the function. */
  readonly gate?: boolean;
  /** The push subscription's retry backoff; {@link FAST_RETRY} by default. */
  readonly retryPolicy?: { readonly minimumBackoff: string; readonly maximumBackoff: string };
  /** Deliveries before dead-lettering (5–100); the plan's by default. */
  readonly maxDeliveryAttempts?: number;
}

/** One deployed responder: its function, fed by a push subscription on its topic. */
export interface Responder {
  readonly plan: PlannedFunction;
  readonly host: FunctionHost;
  /** The invoker gate the push subscription goes through, when deployed with `{ gate: true }`. */
  readonly gate?: InvokerGate;
  /** Publishes a LogEntry as the log sink does; resolves to the message id. */
  publish(entry: unknown): Promise<string>;
  /** Publishes an arbitrary base64 `data` (what any publisher on the topic could send). */
  publishData(base64: string): Promise<string>;
  /** Takes the messages waiting on the dead-letter subscription. */
  pullDeadLetters(): Promise<{ messageId: string; data: string; attributes?: Record<string, string> }[]>;
  /** Publishes and waits for the function's log line about that message. */
  publishAndWait(entry: unknown): Promise<{ messageId: string; log: Record<string, unknown>; publishedAt: number }>;
}

/**
 * The responder on real parts: the zip the plan uploads, installed like the Cloud Functions
 * build does and served by the Functions Framework on the plan's Node major with the plan's
 * entry point and environment; the Firestore and Pub/Sub emulators; a loopback Compute API.
 */
export class Harness {
  readonly compute = new FakeComputeApi();
  /** Tag bindings (the quarantine) and project numbers. */
  readonly resourceManager = new FakeResourceManager();
  /** Findings. */
  readonly securityCenter = new FakeSecurityCenter();
  firestore!: RunningEmulator;
  pubsub!: RunningEmulator;
  /** What the functions use as FIRESTORE_EMULATOR_HOST: a proxy that can simulate an outage. */
  private firestoreProxy!: FaultProxy;
  /** The plans of the responders deployed so far, whose databases {@link reset} empties. */
  private readonly plans: PlannedFunction[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  static async start(): Promise<Harness> {
    const h = new Harness();
    try {
      // Whatever started is registered for cleanup, even when something else failed to start.
      const started = await Promise.allSettled([
        useFirestoreEmulator(),
        usePubsubEmulator(),
        h.compute.start(),
        h.resourceManager.start(),
        h.securityCenter.start(),
      ]);
      const [firestore, pubsub] = started;
      h.cleanups.push(
        () => h.compute.stop(),
        () => h.resourceManager.stop(),
        () => h.securityCenter.stop(),
      );
      if (firestore.status === 'fulfilled') h.cleanups.push(() => firestore.value.stop());
      if (pubsub.status === 'fulfilled') h.cleanups.push(() => pubsub.value.stop());
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      h.firestore = (firestore as PromiseFulfilledResult<RunningEmulator>).value;
      h.pubsub = (pubsub as PromiseFulfilledResult<RunningEmulator>).value;
      h.firestoreProxy = await FaultProxy.start(h.firestore.host);
      h.cleanups.push(() => h.firestoreProxy.stop());
      return h;
    } catch (e) {
      await h.stop();
      throw e;
    }
  }

  /**
   * Synthesizes the example stack with `env`, installs its zip and serves it behind Pub/Sub.
   * `runtimeEnv` adds variables the plan leaves to their defaults (e.g. a short
   * COMPUTE_TIMEOUT_SECONDS for timeout tests). With `options.gate`, the push subscription
   * reaches the function through an {@link InvokerGate}, which can refuse deliveries as Cloud
   * Run does before the subscription's invoker grant has propagated. `options.retryPolicy` sets
   * the subscription's redelivery backoff (e.g. `{ minimumBackoff: '1s', maximumBackoff: '2s' }`
   * for a suite that waits for redeliveries).
   */
  async deploy(
    env: Record<string, string> = {},
    name = 'default',
    runtimeEnv: Record<string, string> = {},
    options: DeployOptions = {},
  ): Promise<Responder> {
    const plan = synthesizeExampleStack(env);
    this.cleanups.push(plan.remove);
    this.plans.push(plan);
    await this.applyDocuments(plan);
    const unpacked = unpackFunction(plan.zipPath, 'install');
    this.cleanups.push(unpacked.remove);
    const host = await serveFunction({
      dir: unpacked.dir,
      entryPoint: plan.entryPoint,
      nodeMajor: runtimeMajor(plan.runtime),
      env: {
        ...plan.env,
        ...runtimeEnv,
        FIRESTORE_EMULATOR_HOST: this.firestoreProxy.host,
        COMPUTE_API_ENDPOINT: this.compute.endpoint,
        RESOURCE_MANAGER_API_ENDPOINT: this.resourceManager.endpoint,
        SECURITY_CENTER_API_ENDPOINT: this.securityCenter.endpoint,
      },
    });
    this.cleanups.push(() => host.stop());
    const gate = options.gate ? await InvokerGate.start(host.url) : undefined;
    if (gate) this.cleanups.push(() => gate.stop());
    const project = plan.projectId;
    const topic = `${plan.topic}-${name}`;
    const { delivery } = plan;
    const deadLetterTopic = `${delivery.deadLetterTopic}-${name}`;
    const deadLetterSubscription = `${delivery.deadLetterSubscription}-${name}`;
    await this.pubsubCall('PUT', `/v1/projects/${project}/topics/${topic}`, {});
    await this.pubsubCall('PUT', `/v1/projects/${project}/topics/${deadLetterTopic}`, {});
    await this.pubsubCall('PUT', `/v1/projects/${project}/subscriptions/${deadLetterSubscription}`, {
      topic: `projects/${project}/topics/${deadLetterTopic}`,
      ackDeadlineSeconds: 60,
    });
    // The plan's push subscription: its ack deadline, dead-letter policy and (unless the test
    // shortens it) retry backoff.
    await this.pubsubCall('PUT', `/v1/projects/${project}/subscriptions/${delivery.subscription}-${name}`, {
      topic: `projects/${project}/topics/${topic}`,
      pushConfig: { pushEndpoint: `${gate?.url ?? host.url}projects/${project}/topics/${topic}` },
      ackDeadlineSeconds: delivery.ackDeadlineSeconds,
      retryPolicy: options.retryPolicy ?? FAST_RETRY,
      deadLetterPolicy: {
        deadLetterTopic: `projects/${project}/topics/${deadLetterTopic}`,
        maxDeliveryAttempts: options.maxDeliveryAttempts ?? delivery.maxDeliveryAttempts,
      },
    });
    const publishData = async (data: string) => {
      const res = (await this.pubsubCall('POST', `/v1/projects/${project}/topics/${topic}:publish`, { messages: [{ data }] })) as {
        messageIds: string[];
      };
      return res.messageIds[0]!;
    };
    const publish = (entry: unknown) =>
      publishData(Buffer.from(typeof entry === 'string' ? entry : JSON.stringify(entry)).toString('base64'));
    return {
      plan,
      host,
      ...(gate && { gate }),
      publish,
      publishData,
      pullDeadLetters: async () => {
        const res = (await this.pubsubCall('POST', `/v1/projects/${project}/subscriptions/${deadLetterSubscription}:pull`, {
          maxMessages: 100,
        })) as { receivedMessages?: { message: { messageId: string; data: string; attributes?: Record<string, string> } }[] };
        return (res.receivedMessages ?? []).map((r) => r.message);
      },
      async publishAndWait(entry) {
        const publishedAt = Date.now();
        const messageId = await publish(entry);
        return { messageId, log: await host.waitForLog(messageId), publishedAt };
      },
    };
  }

  /**
   * A fresh world for the next test, on the same emulators and function processes: an empty
   * Compute API (see {@link FakeComputeApi.reset}), Firestore reachable, and every database the
   * deployed plans name emptied (baselines, decision ledger, action budget) but for the documents
   * the plans write. What a function instance keeps in memory stays: the tests meet warm instances.
   */
  async reset(): Promise<void> {
    this.compute.reset();
    this.setFirestoreReachable(true);
    const databases = new Set<string>();
    for (const { projectId, env, documents } of this.plans) {
      for (const database of [env.FIRESTORE_DATABASE, env.LEDGER_DATABASE, ...documents.map((d) => d.database)]) {
        if (database !== undefined) databases.add(`${projectId}/${database}`);
      }
    }
    for (const key of databases) {
      const [projectId, database] = key.split('/') as [string, string];
      await clearEmulatorDatabase(this.firestore.host, projectId, database);
    }
    for (const plan of this.plans) await this.applyDocuments(plan);
  }

  /** Writes what `terraform apply` writes into Firestore besides the databases: the baseline policy. */
  private async applyDocuments(plan: PlannedFunction): Promise<void> {
    for (const d of plan.documents) {
      await putEmulatorFields(this.firestore.host, plan.projectId, d.database, d.collection, d.documentId, d.fields);
    }
  }

  /**
   * Makes Firestore unreachable for the functions (connections refused and cut) or reachable
   * again; the emulator and its data stay as they are.
   */
  setFirestoreReachable(reachable: boolean): void {
    this.firestoreProxy.setReachable(reachable);
  }

  /** Writes a document straight into the Firestore emulator. */
  putDocument(plan: PlannedFunction, id: string, data: Record<string, unknown>): Promise<void> {
    return putEmulatorDocument(this.firestore.host, plan.projectId, plan.env.FIRESTORE_DATABASE!, plan.env.BASELINE_COLLECTION!, id, data);
  }

  /**
   * Writes a baseline for `r` and starts a new instance of its function: a warm instance answers
   * from the index its listener keeps (ADR 0015), which may not have seen a document written this
   * instant, and would then stop, not relearn, the next VM (fail closed). A test about what a
   * baseline decides must not race the listener.
   */
  async putBaseline(r: Responder, id: string, data: Record<string, unknown>): Promise<void> {
    await this.putDocument(r.plan, id, data);
    await r.host.restart();
  }

  async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep stopping the rest
      }
    }
    this.cleanups.length = 0;
  }

  private async pubsubCall(method: string, path: string, body: unknown): Promise<unknown> {
    const res = await httpRequest(`http://${this.pubsub.host}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`Pub/Sub emulator ${method} ${path}: ${res.status} ${res.body}`);
    return res.body ? JSON.parse(res.body) : {};
  }
}

/** A loopback TCP proxy that can refuse and cut connections, to simulate an outage. */
class FaultProxy {
  private reachable = true;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly host: string,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const [upHost, upPort] = upstream.split(':') as [string, string];
    // eslint-disable-next-line prefer-const -- assigned once the server listens; the handler above it reads it
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => {
      if (!proxy?.reachable) return void client.destroy();
      const remote = connect(Number(upPort), upHost);
      for (const s of [client, remote]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy?.sockets.delete(s));
        s.on('error', () => (client.destroy(), remote.destroy()));
      }
      client.pipe(remote).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, `127.0.0.1:${(server.address() as { port: number }).port}`);
    return proxy;
  }

  setReachable(reachable: boolean): void {
    this.reachable = reachable;
    if (!reachable) for (const s of this.sockets) s.destroy();
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One push delivery the invoker gate received, and what it answered. */
export interface GateDelivery {
  readonly at: number;
  /** The Pub/Sub message id in the push body, when it has one. */
  readonly messageId?: string;
  /** What the subscription was answered. */
  readonly status: number;
  /** Whether the delivery reached the function. */
  readonly forwarded: boolean;
}

/**
 * An HTTP front for a function host, standing where Cloud Run's front end stands: it can answer
 * 403 as Cloud Run does to a caller without `run.invoker` (a push subscription whose grant has
 * not propagated yet), or forward a delivery and answer 503 instead of the function's reply (an
 * acknowledgement lost after the function acted). Otherwise it forwards every request as is.
 */
export class InvokerGate {
  readonly deliveries: GateDelivery[] = [];
  private refuseCount = 0;
  private refuseUntil = 0;
  private loseCount = 0;
  private readonly dropped = new Set<string>();

  private constructor(
    private readonly server: HttpServer,
    /** Base URL, ending in `/`. */
    readonly url: string,
  ) {}

  static async start(upstream: string): Promise<InvokerGate> {
    const target = new URL(upstream);
    // eslint-disable-next-line prefer-const -- assigned once the server listens; the handler above it reads it
    let gate: InvokerGate | undefined;
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let messageId: string | undefined;
        try {
          messageId = (JSON.parse(body.toString()) as { message?: { messageId?: string } }).message?.messageId;
        } catch {
          // not a push body
        }
        const at = Date.now();
        if (messageId !== undefined && gate!.dropped.has(messageId)) {
          gate!.deliveries.push({ at, messageId, status: 204, forwarded: false });
          res.writeHead(204);
          res.end();
          return;
        }
        if (gate!.refuseCount > 0 || at < gate!.refuseUntil) {
          if (gate!.refuseCount > 0) gate!.refuseCount--;
          gate!.deliveries.push({ at, messageId, status: 403, forwarded: false });
          res.writeHead(403, { 'content-type': 'text/html; charset=UTF-8' });
          res.end(
            `<html><head><title>403 Forbidden</title></head><body><h1>Error: Forbidden</h1><h2>Your client does not have permission to get URL <code>${req.url}</code> from this server.</h2></body></html>`,
          );
          return;
        }
        const lose = gate!.loseCount > 0;
        if (lose) gate!.loseCount--;
        const forward = httpForward(
          { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
          (up) => {
            const upChunks: Buffer[] = [];
            up.on('data', (c: Buffer) => upChunks.push(c));
            up.on('end', () => {
              const status = lose ? 503 : (up.statusCode ?? 502);
              gate!.deliveries.push({ at, messageId, status, forwarded: true });
              if (lose) {
                res.writeHead(503, { 'content-type': 'text/plain' });
                res.end('upstream connect error or disconnect/reset before headers');
              } else {
                res.writeHead(up.statusCode ?? 502, up.headers);
                res.end(Buffer.concat(upChunks));
              }
            });
          },
        );
        forward.on('error', (e) => {
          gate!.deliveries.push({ at, messageId, status: 502, forwarded: false });
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(e));
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    gate = new InvokerGate(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    return gate;
  }

  /** Answers 403 to the next `count` deliveries. */
  refuseNext(count: number): void {
    this.refuseCount = count;
  }

  /** Answers 403 to every delivery for the next `ms` milliseconds. */
  refuseFor(ms: number): void {
    this.refuseUntil = Date.now() + ms;
  }

  /** Forwards the next `count` deliveries but answers 503 whatever the function replied. */
  loseAcknowledgementOfNext(count: number): void {
    this.loseCount = count;
  }

  /**
   * Acknowledges every further delivery of a message without forwarding it, as if it had been
   * purged from the subscription: ends the redeliveries of a message that keeps failing.
   */
  drop(messageId: string): void {
    this.dropped.add(messageId);
  }

  /** Deliveries of one message, in order. */
  deliveriesOf(messageId: string): GateDelivery[] {
    return this.deliveries.filter((d) => d.messageId === messageId);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
