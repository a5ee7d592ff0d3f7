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
 *  - plans an update of a resource in state as the proposed value, and a replacement where an
 *    attribute that the real provider marks ForceNew changes (REPLACED_ON: the schema JSON does
 *    not carry that flag, so it is transcribed per type from the provider's source);
 *  - "applies" in memory only, filling what was unknown with fixed values, so a state exists
 *    for tests that move it (nothing here talks to Google Cloud);
 *  - upgrades stored state as is (every fixture is the schema version the state was written
 *    with) and refreshes a resource as what the state says.
 */

/** The values a data source read returns for computed attributes, by attribute name. */
const DATA_VALUES: Record<string, (config: Record<string, CtyValue>, provider: Record<string, CtyValue>) => CtyValue> = {
  project_id: (config, provider) => config.project_id ?? provider.project ?? 'stand-in-project',
  number: () => '123456789012',
  name: (config, provider) => config.project_id ?? provider.project ?? 'stand-in-project',
  id: (config, provider) => `projects/${String(config.project_id ?? provider.project ?? 'stand-in-project')}`,
  org_id: () => '4242',
};

/**
 * Attributes whose change makes the real provider replace the resource (`ForceNew` in the
 * provider's Go source at the pinned tag), for the types whose updates the tests plan:
 * hashicorp/terraform-provider-google v6.50.0, google/services/storage/resource_storage_bucket_object.go.
 */
const REPLACED_ON: Record<string, readonly string[]> = {
  google_storage_bucket_object: [
    'bucket',
    'name',
    'cache_control',
    'content_disposition',
    'content_encoding',
    'content_language',
    'content_type',
    'force_empty_content_type',
    'source',
    'storage_class',
    'kms_key_name',
    'customer_encryption',
    'metadata',
  ],
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

/** A fixed value of a type for what apply would have learned from the API. */
function appliedOf(type: SchemaType | undefined, name: string): CtyValue {
  if (type === 'string') return `stand-in-${name}`;
  if (type === 'number') return 1;
  if (type === 'bool') return false;
  return emptyOf(type);
}

/** A resource's state after an in-memory apply: the planned value with every unknown fixed. */
function applied(block: SchemaBlock, planned: CtyValue): CtyValue {
  if (!isObject(planned)) return planned;
  const state: Record<string, CtyValue> = { ...planned };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (state[name] === UNKNOWN) state[name] = appliedOf(attribute.type, name);
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const child = state[name] ?? null;
    if (child === UNKNOWN) state[name] = nested.nesting_mode === 'single' || nested.nesting_mode === 'group' ? null : [];
    else if (Array.isArray(child)) state[name] = child.map((element) => applied(nested.block, element));
    else if (isObject(child)) {
      state[name] =
        nested.nesting_mode === 'map'
          ? Object.fromEntries(Object.entries(child).map(([key, element]) => [key, applied(nested.block, element)]))
          : applied(nested.block, child);
    }
  }
  return state;
}

/** A value from stored state (JSON) in the shape msgpack needs: every attribute and block present. */
function fromState(block: SchemaBlock, stored: unknown): CtyValue {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return null;
  const value = stored as Record<string, unknown>;
  const state: Record<string, CtyValue> = {};
  for (const name of Object.keys(block.attributes ?? {})) state[name] = (value[name] ?? null) as CtyValue;
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const child = value[name];
    if (Array.isArray(child)) state[name] = child.map((element) => fromState(nested.block, element));
    else if (nested.nesting_mode === 'map' && typeof child === 'object' && child !== null) {
      state[name] = Object.fromEntries(Object.entries(child).map(([key, element]) => [key, fromState(nested.block, element)]));
    } else if (typeof child === 'object' && child !== null) state[name] = fromState(nested.block, child);
    else state[name] = nested.nesting_mode === 'single' || nested.nesting_mode === 'group' ? null : [];
  }
  return state;
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
      (request: { type_name: string; prior_state?: Dynamic; proposed_new_state?: Dynamic; config?: Dynamic }) => {
        const block = schemaOf('resource', request.type_name).block;
        const proposed = decodeValue(request.proposed_new_state?.msgpack);
        const prior = decodeValue(request.prior_state?.msgpack);
        // A destroy (proposed null) keeps what it was given; an update is the proposed value, or
        // a replacement (a create's plan) where an attribute the real provider marks ForceNew changes.
        const replaced =
          prior !== null && isObject(prior) && isObject(proposed)
            ? (REPLACED_ON[request.type_name] ?? []).filter(
                (name) => JSON.stringify(prior[name] ?? null) !== JSON.stringify(proposed[name] ?? null),
              )
            : [];
        const planned =
          prior === null && proposed !== null
            ? planCreate(block, proposed)
            : replaced.length > 0
              ? planCreate(block, decodeValue(request.config?.msgpack))
              : proposed;
        return {
          planned_state: { msgpack: encodeValue(planned) },
          requires_replace: replaced.map((name) => wirePath([name])),
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
    ApplyResourceChange: unary('ApplyResourceChange', (request: { type_name: string; planned_state?: Dynamic }) => {
      const planned = decodeValue(request.planned_state?.msgpack);
      const state = planned === null ? null : applied(schemaOf('resource', request.type_name).block, planned);
      return { new_state: { msgpack: encodeValue(state) }, private: Buffer.alloc(0), diagnostics: [] };
    }),
    UpgradeResourceState: unary('UpgradeResourceState', (request: { type_name: string; raw_state?: { json?: Uint8Array } }) => {
      const stored: unknown = JSON.parse(Buffer.from(request.raw_state?.json ?? Buffer.from('null')).toString('utf8'));
      return {
        upgraded_state: { msgpack: encodeValue(fromState(schemaOf('resource', request.type_name).block, stored)) },
        diagnostics: [],
      };
    }),
    ReadResource: unary('ReadResource', (request: { current_state?: Dynamic; private?: Uint8Array }) => ({
      new_state: request.current_state,
      diagnostics: [],
      private: request.private ?? Buffer.alloc(0),
    })),
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
