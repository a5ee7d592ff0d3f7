import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CtyValue, decodeValue, encodeValue, isObject, UNKNOWN } from './cty';
import { ProviderSchemas, Schema, SchemaAttribute, SchemaBlock, SchemaType } from './schema';

/*
 * A Terraform provider that knows its schemas and nothing else, for running the real Terraform
 * offline: it serves the published schemas of one provider release over the plugin protocol
 * (version 5, plain gRPC on loopback), and Terraform attaches to it through
 * TF_REATTACH_PROVIDERS as it does to a provider under a debugger. It
 *  - validates configurations as the schema implies (block counts against min_items/max_items,
 *    required attributes), on top of what Terraform itself checks against the schema;
 *  - plans every create as an SDK-based provider does: configured values as written, every
 *    computed attribute left unset unknown until apply;
 *  - reads data sources with fixed values (see DATA_VALUES);
 *  - refuses to apply: nothing here ever creates anything.
 */

/** The values a data source read returns for computed attributes, by attribute name. */
const DATA_VALUES: Record<string, (config: Record<string, CtyValue>, provider: Record<string, CtyValue>) => CtyValue> = {
  project_id: (config, provider) => config.project_id ?? provider.project ?? 'stand-in-project',
  number: () => '123456789012',
  name: (config, provider) => config.project_id ?? provider.project ?? 'stand-in-project',
  id: (config, provider) => `projects/${String(config.project_id ?? provider.project ?? 'stand-in-project')}`,
  org_id: () => '4242',
};

/** The running stand-in of one provider. */
export interface ProviderStandIn {
  /** Registry address of the provider it stands in for. */
  readonly provider: string;
  /** host:port it listens on. */
  readonly address: string;
  /** Its entry in TF_REATTACH_PROVIDERS. */
  readonly reattach: Record<string, unknown>;
  /** Calls received, by method, for tests that check what Terraform asked. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: { steps: { attribute_name?: string; element_key_int?: number; element_key_string?: string }[] };
}

type Path = (string | number)[];

let packageDefinition: grpc.GrpcObject | undefined;
function protocol(): grpc.GrpcObject {
  packageDefinition ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(join(__dirname, 'tfplugin5.proto'), { keepCase: true, longs: Number, enums: String, defaults: true }),
  );
  return packageDefinition;
}

/** The protocol's Schema message for a schema of the JSON form. */
function wireSchema(schema: Schema): unknown {
  return { version: schema.version, block: wireBlock(schema.block) };
}

function wireBlock(block: SchemaBlock): unknown {
  return {
    attributes: Object.entries(block.attributes ?? {}).map(([name, a]) => ({
      name,
      type: Buffer.from(JSON.stringify(a.type ?? 'dynamic')),
      description: a.description ?? '',
      required: a.required === true,
      optional: a.optional === true,
      computed: a.computed === true,
      sensitive: a.sensitive === true,
      deprecated: a.deprecated === true,
    })),
    block_types: Object.entries(block.block_types ?? {}).map(([name, b]) => ({
      type_name: name,
      block: wireBlock(b.block),
      nesting: b.nesting_mode.toUpperCase(),
      min_items: b.min_items ?? 0,
      max_items: b.max_items ?? 0,
    })),
    description: block.description ?? '',
    deprecated: block.deprecated === true,
  };
}

function wirePath(path: Path): Diagnostic['attribute'] {
  return { steps: path.map((step) => (typeof step === 'number' ? { element_key_int: step } : { attribute_name: step })) };
}

function printed(path: Path): string {
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('');
}

/** The elements of a nested block's value, whatever its nesting. */
function blockElements(value: CtyValue): CtyValue[] {
  if (value === null || value === UNKNOWN) return [];
  if (Array.isArray(value)) return value;
  if (isObject(value)) return [value];
  return [];
}

/** What the schema implies about a configuration that Terraform leaves to the provider. */
function validate(block: SchemaBlock, value: CtyValue, path: Path, diagnostics: Diagnostic[]): void {
  if (!isObject(value)) return;
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (attribute.required === true && value[name] === null) {
      diagnostics.push({
        severity: 'ERROR',
        summary: 'Missing required argument',
        detail: `The argument "${name}" is required, but no definition was found.`,
        attribute: wirePath([...path, name]),
      });
    }
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const child = value[name] ?? null;
    if (child === UNKNOWN) continue;
    if (nested.nesting_mode === 'list' || nested.nesting_mode === 'set') {
      const count = blockElements(child).length;
      if (nested.max_items !== undefined && nested.max_items > 0 && count > nested.max_items) {
        diagnostics.push({
          severity: 'ERROR',
          summary: `Too many ${name} blocks`,
          detail: `No more than ${nested.max_items} "${name}" blocks are allowed at ${printed([...path, name])}, found ${count}.`,
          attribute: wirePath([...path, name]),
        });
      }
      if (nested.min_items !== undefined && count < nested.min_items) {
        diagnostics.push({
          severity: 'ERROR',
          summary: `Insufficient ${name} blocks`,
          detail: `At least ${nested.min_items} "${name}" blocks are required at ${printed([...path, name])}, found ${count}.`,
          attribute: wirePath([...path, name]),
        });
      }
    }
    blockElements(child).forEach((element, i) => validate(nested.block, element, [...path, name, i], diagnostics));
  }
}

/** A create's planned state: the proposed value with every unset computed attribute unknown. */
function planCreate(block: SchemaBlock, proposed: CtyValue): CtyValue {
  if (!isObject(proposed)) return proposed;
  const planned: Record<string, CtyValue> = { ...proposed };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (attribute.computed === true && (planned[name] ?? null) === null) planned[name] = UNKNOWN;
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const child = planned[name] ?? null;
    if (child === null || child === UNKNOWN) continue;
    if (Array.isArray(child)) planned[name] = child.map((element) => planCreate(nested.block, element));
    else if (nested.nesting_mode === 'map' && isObject(child)) {
      planned[name] = Object.fromEntries(Object.entries(child).map(([key, element]) => [key, planCreate(nested.block, element)]));
    } else planned[name] = planCreate(nested.block, child);
  }
  return planned;
}

/** A value of a type that stands for "read, nothing there": empty collections, false, 0, "". */
function emptyOf(type: SchemaType | undefined): CtyValue {
  if (type === 'string') return '';
  if (type === 'number') return 0;
  if (type === 'bool') return false;
  if (Array.isArray(type) && (type[0] === 'list' || type[0] === 'set')) return [];
  if (Array.isArray(type) && type[0] === 'map') return {};
  return null;
}

/** A data source's state after a read: the configuration with every unset computed value fixed. */
function readData(
  block: SchemaBlock,
  config: CtyValue,
  provider: Record<string, CtyValue>,
): { state: CtyValue; diagnostics: Diagnostic[] } {
  if (!isObject(config)) return { state: config, diagnostics: [] };
  const state: Record<string, CtyValue> = { ...config };
  const unknown = Object.entries(config).filter(([, value]) => value === UNKNOWN);
  if (unknown.length > 0) {
    return {
      state: config,
      diagnostics: unknown.map(([name]) => ({
        severity: 'ERROR',
        summary: 'Unknown data source argument',
        detail: `The stand-in reads data sources only from known arguments; "${name}" is unknown.`,
        attribute: wirePath([name]),
      })),
    };
  }
  for (const [name, attribute] of Object.entries(block.attributes ?? {}) as [string, SchemaAttribute][]) {
    if (attribute.computed !== true || (state[name] ?? null) !== null) continue;
    state[name] = DATA_VALUES[name]?.(config, provider) ?? emptyOf(attribute.type);
  }
  for (const name of Object.keys(block.block_types ?? {})) {
    if ((state[name] ?? null) === null) state[name] = [];
  }
  return { state, diagnostics: [] };
}

/** Starts a stand-in of one provider release on a free loopback port. */
export async function startProviderStandIn(schemas: ProviderSchemas): Promise<ProviderStandIn> {
  const server = new grpc.Server();
  const calls = new Map<string, number>();
  let providerConfig: Record<string, CtyValue> = {};
  const count = (method: string): void => void calls.set(method, (calls.get(method) ?? 0) + 1);
  const unary =
    <Req, Res>(method: string, answer: (request: Req) => Res): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      count(method);
      try {
        callback(null, answer(call.request));
      } catch (error) {
        callback({ code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
      }
    };
  const schemaOf = (kind: 'resource' | 'data', type: string): Schema => {
    const schema = (kind === 'resource' ? schemas.resource_schemas : schemas.data_source_schemas)[type];
    if (schema === undefined) throw new Error(`${schemas.provider} ${schemas.version}: no ${kind} schema for ${type} in the fixture`);
    return schema;
  };
  type Dynamic = { msgpack?: Uint8Array };
  const service = (protocol().tfplugin5 as grpc.GrpcObject).Provider as grpc.ServiceClientConstructor;
  server.addService(service.service, {
    GetSchema: unary('GetSchema', () => ({
      provider: wireSchema(schemas.provider_schema ?? { version: 0, block: {} }),
      resource_schemas: Object.fromEntries(Object.entries(schemas.resource_schemas).map(([k, v]) => [k, wireSchema(v)])),
      data_source_schemas: Object.fromEntries(Object.entries(schemas.data_source_schemas).map(([k, v]) => [k, wireSchema(v)])),
      diagnostics: [],
      server_capabilities: { plan_destroy: false, get_provider_schema_optional: false },
    })),
    PrepareProviderConfig: unary('PrepareProviderConfig', (request: { config?: Dynamic }) => {
      const diagnostics: Diagnostic[] = [];
      validate(schemas.provider_schema?.block ?? {}, decodeValue(request.config?.msgpack), [], diagnostics);
      return { prepared_config: request.config, diagnostics };
    }),
    ValidateResourceTypeConfig: unary('ValidateResourceTypeConfig', (request: { type_name: string; config?: Dynamic }) => {
      const diagnostics: Diagnostic[] = [];
      validate(schemaOf('resource', request.type_name).block, decodeValue(request.config?.msgpack), [], diagnostics);
      return { diagnostics };
    }),
    ValidateDataSourceConfig: unary('ValidateDataSourceConfig', (request: { type_name: string; config?: Dynamic }) => {
      const diagnostics: Diagnostic[] = [];
      validate(schemaOf('data', request.type_name).block, decodeValue(request.config?.msgpack), [], diagnostics);
      return { diagnostics };
    }),
    Configure: unary('Configure', (request: { config?: Dynamic }) => {
      const config = decodeValue(request.config?.msgpack);
      providerConfig = isObject(config) ? config : {};
      return { diagnostics: [] };
    }),
    PlanResourceChange: unary(
      'PlanResourceChange',
      (request: { type_name: string; prior_state?: Dynamic; proposed_new_state?: Dynamic }) => {
        const block = schemaOf('resource', request.type_name).block;
        const proposed = decodeValue(request.proposed_new_state?.msgpack);
        const prior = decodeValue(request.prior_state?.msgpack);
        // A destroy (proposed null) or an update of a resource in state keeps what it was given.
        const planned = prior === null && proposed !== null ? planCreate(block, proposed) : proposed;
        return {
          planned_state: { msgpack: encodeValue(planned) },
          requires_replace: [],
          planned_private: Buffer.alloc(0),
          diagnostics: [],
        };
      },
    ),
    ReadDataSource: unary('ReadDataSource', (request: { type_name: string; config?: Dynamic }) => {
      const { state, diagnostics } = readData(
        schemaOf('data', request.type_name).block,
        decodeValue(request.config?.msgpack),
        providerConfig,
      );
      return { state: { msgpack: encodeValue(state) }, diagnostics };
    }),
    Stop: unary('Stop', () => ({ Error: '' })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const address = `127.0.0.1:${port}`;
  return {
    provider: schemas.provider,
    address,
    reattach: { Protocol: 'grpc', ProtocolVersion: 5, Pid: process.pid, Test: true, Addr: { Network: 'tcp', String: address } },
    calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
