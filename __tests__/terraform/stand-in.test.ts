import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeValue, encodeValue, UNKNOWN } from '../../testkit/terraform/cty';
import { ProviderStandIn, startProviderStandIn } from '../../testkit/terraform/provider-stand-in';
import { loadSchemas } from '../../testkit/terraform/schema';
import { startStandIns, StandIns, workspace } from '../../testkit/terraform/workspace';
import { describeWithTerraform } from '../support/terraform';

/*
 * The provider stand-in on its own: what it answers on the wire (through a gRPC client built from
 * the same protocol file), and what the real Terraform makes of it.
 */

const GOOGLE = 'registry.terraform.io/hashicorp/google';

type Call = (request: unknown) => Promise<any>;

function client(address: string): Record<string, Call> {
  const proto = grpc.loadPackageDefinition(
    protoLoader.loadSync(join(__dirname, '../../testkit/terraform/tfplugin5.proto'), {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
    }),
  );
  const Provider = (proto.tfplugin5 as grpc.GrpcObject).Provider as grpc.ServiceClientConstructor;
  const raw = new Provider(address, grpc.credentials.createInsecure()) as unknown as Record<
    string,
    (request: unknown, callback: (error: Error | null, response: unknown) => void) => void
  >;
  return new Proxy({} as Record<string, Call>, {
    get: (_, method: string) => (request: unknown) =>
      new Promise((resolve, reject) => raw[method]!.call(raw, request, (error, response) => (error ? reject(error) : resolve(response)))),
  });
}

describe('the provider stand-in on the wire', () => {
  let standIn: ProviderStandIn;
  let call: Record<string, Call>;
  beforeAll(async () => {
    standIn = await startProviderStandIn(loadSchemas().get(GOOGLE)!);
    call = client(standIn.address);
  });
  afterAll(() => standIn.close());

  it('serves every resource and data source schema of the fixture, with the provider block', async () => {
    const schemas = loadSchemas().get(GOOGLE)!;
    const answer = await call.GetSchema!({});
    expect(Object.keys(answer.resource_schemas).sort()).toEqual(Object.keys(schemas.resource_schemas).sort());
    expect(Object.keys(answer.data_source_schemas).sort()).toEqual(Object.keys(schemas.data_source_schemas).sort());
    expect(answer.provider.block.attributes.map((a: { name: string }) => a.name)).toContain('project');
    const topic = answer.resource_schemas.google_pubsub_topic.block;
    const name = topic.attributes.find((a: { name: string }) => a.name === 'name');
    expect({ type: JSON.parse(Buffer.from(name.type).toString()), required: name.required }).toEqual({ type: 'string', required: true });
  });

  it('refuses a second block where the schema allows one, and a missing required argument', async () => {
    const config = {
      name: null,
      topic: 'projects/p/topics/t',
      push_config: [{ push_endpoint: 'https://a' }, { push_endpoint: 'https://b' }],
    };
    const answer = await call.ValidateResourceTypeConfig!({
      type_name: 'google_pubsub_subscription',
      config: { msgpack: encodeValue(config) },
    });
    expect(answer.diagnostics.map((d: { severity: string; summary: string }) => `${d.severity} ${d.summary}`)).toEqual([
      'ERROR Missing required argument',
      'ERROR Too many push_config blocks',
    ]);
  });

  it('plans a create with every unset computed attribute unknown and every configured one as written', async () => {
    const proposed = { name: 'events', project: null, id: null, labels: { a: 'b' }, message_retention_duration: null };
    const answer = await call.PlanResourceChange!({
      type_name: 'google_pubsub_topic',
      prior_state: { msgpack: encodeValue(null) },
      proposed_new_state: { msgpack: encodeValue(proposed) },
    });
    const planned = decodeValue(answer.planned_state.msgpack) as Record<string, unknown>;
    expect(planned).toMatchObject({ name: 'events', id: UNKNOWN, project: UNKNOWN, labels: { a: 'b' } });
    // Optional and not computed: stays null.
    expect(planned.message_retention_duration).toBeNull();
  });

  it('plans a replacement where an attribute the real provider marks ForceNew changes, and an update in place otherwise', async () => {
    const prior = {
      name: 'o.zip',
      bucket: 'b',
      source: 'assets/a/function.zip',
      generation: 7,
      content_type: 'application/zip',
      metadata: null,
    };
    const plan = async (change: Record<string, unknown>) =>
      call.PlanResourceChange!({
        type_name: 'google_storage_bucket_object',
        prior_state: { msgpack: encodeValue(prior) },
        proposed_new_state: { msgpack: encodeValue({ ...prior, ...change }) },
        config: { msgpack: encodeValue({ ...prior, generation: null, ...change }) },
      });
    const moved = await plan({ source: 'modules/responder/function.zip' });
    expect(moved.requires_replace).toEqual([{ steps: [{ attribute_name: 'source' }] }]);
    expect(decodeValue(moved.planned_state.msgpack)).toMatchObject({ source: 'modules/responder/function.zip', generation: UNKNOWN });
    const same = await plan({});
    expect(same.requires_replace).toEqual([]);
    expect(decodeValue(same.planned_state.msgpack)).toMatchObject({ generation: 7 });
  });

  it('applies in memory: what was unknown becomes a fixed value, nothing else changes', async () => {
    const answer = await call.ApplyResourceChange!({
      type_name: 'google_pubsub_topic',
      prior_state: { msgpack: encodeValue(null) },
      planned_state: { msgpack: encodeValue({ name: 'events', id: UNKNOWN, project: UNKNOWN, labels: null }) },
    });
    expect(decodeValue(answer.new_state.msgpack)).toMatchObject({
      name: 'events',
      id: 'stand-in-id',
      project: 'stand-in-project',
      labels: null,
    });
  });

  it('answers a call for a type the fixture lacks with an error naming it', async () => {
    await expect(
      call.ValidateResourceTypeConfig!({ type_name: 'google_compute_instance', config: { msgpack: encodeValue({}) } }),
    ).rejects.toThrow(/no resource schema for google_compute_instance in the fixture/);
  });
});

describeWithTerraform('the provider stand-in under the real Terraform', () => {
  let standIns: StandIns;
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(() => standIns.close());

  it('plans known configured values, unknown computed ones, and reads data sources with fixed values', async () => {
    const ws = workspace(standIns, {
      files: {
        'main.tf': [
          'terraform {\n  required_providers {\n    google = { source = "hashicorp/google", version = "6.50.0" }\n  }\n}',
          'provider "google" {\n  project = "fleet-prod-1234"\n}',
          'data "google_project" "this" {}',
          'resource "google_pubsub_topic" "events" {\n  name   = "events-${data.google_project.this.number}"\n}',
        ].join('\n\n'),
      },
    });
    expect((await ws.init()).code).toBe(0);
    const planned = await ws.plan();
    expect(planned.summary).toBe('Plan: 1 to add, 0 to change, 0 to destroy.');
    const topic = planned.show!.resource_changes!.find((c) => c.address === 'google_pubsub_topic.events')!;
    expect(topic.change.after).toMatchObject({ name: 'events-123456789012' });
    expect(topic.change.after_unknown).toMatchObject({ id: true, project: true });
    expect(standIns.providers.find((p) => p.provider === GOOGLE)!.calls.get('ReadDataSource')).toBeGreaterThan(0);
  });

  it('makes init fail for a provider it does not stand in for, as Terraform without a registry would', async () => {
    const ws = workspace(standIns, {
      files: { 'main.tf': 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n' },
    });
    const init = await ws.init();
    expect(init.code).not.toBe(0);
    expect(init.stdout + init.stderr).toMatch(/hashicorp\/aws/);
  });
});
