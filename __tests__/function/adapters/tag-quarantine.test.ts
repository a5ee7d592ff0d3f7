import { ProjectsClient } from '@google-cloud/resource-manager/build/src/v3/projects_client';
import { TagBindingsClient } from '@google-cloud/resource-manager/build/src/v3/tag_bindings_client';
import { PassThroughClient } from 'google-auth-library';
import { ResourceManagerQuarantine, TagBindingError } from '../../../function/adapters/tag-quarantine';
import { InstanceTarget } from '../../../function/core/ports';
import { createProjectsClient, createTagBindingsClient } from '../../../function/runtime/clients';
import { FakeResourceManager } from '../../../testkit/fake-resource-manager';
import { loopbackClientOptions } from '../../../testkit/loopback-clients';
import { gcloudJson, itWithGcloud } from '../../support/gcloud';

// The adapter with the real Resource Manager clients over REST, against the loopback Resource
// Manager: the VM named by project number and instance id, the operations waited for, the
// project number read once. The last tests build the clients with function/runtime/clients.ts's
// factories, and have gcloud read and delete a binding the adapter made.

const project = 'fleet-prod-1234';
const number = '204512345678';
const zone = 'europe-west1-b';
const value = 'tagValues/281474976710656';
const vm: InstanceTarget = { projectId: project, zone, id: '4617930134256183721', name: 'web-1' };
const parent = `//compute.googleapis.com/projects/${number}/zones/${zone}/instances/${vm.id}`;
const bindingName = `tagBindings/${encodeURIComponent(parent)}/${value}`;

let rm: FakeResourceManager;
let zonesAsked: string[];

function quarantine(timeoutMs = 5_000): ResourceManagerQuarantine {
  zonesAsked = [];
  return new ResourceManagerQuarantine(
    async (z) => {
      zonesAsked.push(z);
      return new TagBindingsClient(loopbackClientOptions(rm.port));
    },
    async () => new ProjectsClient(loopbackClientOptions(rm.port)),
    timeoutMs,
  );
}

beforeEach(async () => {
  rm = new FakeResourceManager().addProject(project, number).addProject('fleet-prod-5678', '204598765432');
  await rm.start();
});

afterEach(async () => {
  await rm.stop();
});

describe('ResourceManagerQuarantine.bind', () => {
  it('binds the value to the VM named by project number and instance id, and waits for the operation', async () => {
    await expect(quarantine().bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: false });

    expect(rm.valuesOn(parent)).toEqual([value]);
    expect(rm.lines()).toEqual([`GET /v3/projects/${project}`, 'POST /v3/tagBindings']);
    expect(JSON.parse(rm.requests[1]!.body)).toEqual({ parent, tagValue: value });
  });

  it('polls an operation that is not done at once until it is', async () => {
    rm.operationPolls = 2;

    await expect(quarantine().bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: false });

    expect(rm.lines('/v3/operations/')).toEqual(['GET /v3/operations/rctb.fake.1', 'GET /v3/operations/rctb.fake.1']);
    expect(rm.valuesOn(parent)).toEqual([value]);
  });

  it('counts a value the VM carries already as bound, naming the binding listed', async () => {
    const q = quarantine();
    await q.bind(vm, value);

    await expect(q.bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: true });

    expect(rm.valuesOn(parent)).toEqual([value]);
    expect(rm.lines().slice(2)).toEqual(['POST /v3/tagBindings', 'GET /v3/tagBindings']);
    expect(rm.requests[3]!.query.parent).toBe(parent);
  });

  it('counts an operation that ends in ALREADY_EXISTS as bound too', async () => {
    rm.addBinding(parent, value);
    rm.injectFaults({ method: 'createTagBinding', code: 409, inOperation: true });

    await expect(quarantine().bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: true });
  });

  it('reads a project number once per project, for every zone and call', async () => {
    const q = quarantine();
    await q.bind(vm, value);
    await q.unbind(vm, value);
    await q.bind({ ...vm, zone: 'europe-west1-c', id: '1001' }, value);
    await q.bind({ projectId: 'fleet-prod-5678', zone, id: '2002' }, value);

    expect(rm.lines('/v3/projects/')).toEqual([`GET /v3/projects/${project}`, 'GET /v3/projects/fleet-prod-5678']);
    expect(rm.valuesOn(`//compute.googleapis.com/projects/${number}/zones/europe-west1-c/instances/1001`)).toEqual([value]);
    expect(rm.valuesOn(`//compute.googleapis.com/projects/204598765432/zones/${zone}/instances/2002`)).toEqual([value]);
    // One client per zone, created on its first use.
    expect(zonesAsked).toEqual([zone, 'europe-west1-c']);
  });

  it('takes a project given by number as it is', async () => {
    await quarantine().bind({ ...vm, projectId: number }, value);

    expect(rm.lines()).toEqual(['POST /v3/tagBindings']);
    expect(rm.valuesOn(parent)).toEqual([value]);
  });

  it('asks again for a project number whose read failed', async () => {
    // 500: the client itself retries a 503 (UNAVAILABLE) of projects.get.
    rm.injectFaults({ method: 'getProject', code: 500 });
    const q = quarantine();

    await expect(q.bind(vm, value)).rejects.toThrow(`getProject for projects/${project} failed`);
    await expect(q.bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: false });

    expect(rm.lines()).toEqual([`GET /v3/projects/${project}`, `GET /v3/projects/${project}`, 'POST /v3/tagBindings']);
  });

  it('binds nothing in a project it cannot read, and says which call failed with what code', async () => {
    const failure = await quarantine()
      .bind({ ...vm, projectId: 'not-mine-1234' }, value)
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TagBindingError);
    expect(failure).toMatchObject({ call: 'getProject', resource: 'projects/not-mine-1234', code: 7 });
    expect(rm.lines()).toEqual(['GET /v3/projects/not-mine-1234']);
  });

  it('refuses a project read that answers about another project', async () => {
    // An API misbehaving: the fake answers a second id of this number with the first one.
    rm.addProject('fleet-alias-1234', number);

    await expect(quarantine().bind({ ...vm, projectId: 'fleet-alias-1234' }, value)).rejects.toThrow(
      `getProject for projects/fleet-alias-1234 failed: answered name 'projects/${number}' and projectId '${project}'`,
    );
    expect(rm.lines()).toEqual(['GET /v3/projects/fleet-alias-1234']);
  });

  it('reports an operation that ends in error, and nothing is bound', async () => {
    rm.injectFaults({ method: 'createTagBinding', code: 403, inOperation: true, message: 'tagUser is missing' });

    const failure = await quarantine()
      .bind(vm, value)
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TagBindingError);
    expect(failure).toMatchObject({ call: 'createTagBinding', resource: parent, code: 7 });
    expect((failure as Error).message).toContain('tagUser is missing');
    expect(rm.valuesOn(parent)).toEqual([]);
  });

  it('gives up on an operation that is not done within the deadline', async () => {
    rm.operationPolls = 1_000;

    await expect(quarantine(600).bind(vm, value)).rejects.toThrow(`createTagBinding for ${parent} failed: not done after 0.6 s`);
  });
});

describe('ResourceManagerQuarantine.unbind', () => {
  it('removes the binding it finds on the VM and waits for the operation', async () => {
    rm.addBinding(parent, value);

    await expect(quarantine().unbind(vm, value)).resolves.toBe(true);

    expect(rm.valuesOn(parent)).toEqual([]);
    // The binding's name holds its parent percent-encoded; the path encodes that `%` again.
    expect(rm.lines('/v3/tagBindings')).toEqual([
      'GET /v3/tagBindings',
      `DELETE /v3/tagBindings/${encodeURIComponent(encodeURIComponent(parent))}/${value}`,
    ]);
  });

  it('answers false for a VM that carries no binding of the value, and deletes nothing', async () => {
    rm.addBinding(parent, 'tagValues/999');

    await expect(quarantine().unbind(vm, value)).resolves.toBe(false);

    expect(rm.valuesOn(parent)).toEqual(['tagValues/999']);
    expect(rm.lines('/v3/tagBindings')).toEqual(['GET /v3/tagBindings']);
  });

  it('reads every page of the bindings, and removes only the value asked', async () => {
    rm.maxPageSize = 1;
    rm.addBinding(parent, 'tagValues/111');
    rm.addBinding(parent, 'tagValues/222');
    rm.addBinding(parent, value);

    await expect(quarantine().unbind(vm, value)).resolves.toBe(true);

    expect(rm.valuesOn(parent)).toEqual(['tagValues/111', 'tagValues/222']);
    expect(rm.lines('/v3/tagBindings').filter((l) => l.startsWith('GET'))).toHaveLength(3);
  });

  it('answers false when the binding is gone between the list and the delete', async () => {
    rm.addBinding(parent, value);
    rm.injectFaults({ method: 'deleteTagBinding', code: 404 });

    await expect(quarantine().unbind(vm, value)).resolves.toBe(false);
  });
});

describe('the clients function/runtime/clients.ts creates', () => {
  it("address a VM's tag bindings to its zone's endpoint, and projects to the global one, with the credentials given", async () => {
    // Credentials that answer every request themselves, recording where it went.
    const urls: string[] = [];
    const authClient = new PassThroughClient({
      transporterOptions: {
        fetchImplementation: async (url: string | URL | Request) => {
          urls.push(String(url));
          return new Response(
            String(url).includes('/projects/') ? JSON.stringify({ name: `projects/${number}`, projectId: project }) : '{}',
            {
              headers: { 'content-type': 'application/json' },
            },
          );
        },
      },
    });
    const q = new ResourceManagerQuarantine(
      (z) => createTagBindingsClient(z, { authClient }),
      () => createProjectsClient({ authClient }),
    );

    await expect(q.unbind({ ...vm, zone: 'us-central1-a' }, value)).resolves.toBe(false);

    expect(urls.map((u) => u.replace(/\?.*/, ''))).toEqual([
      `https://cloudresourcemanager.googleapis.com/v3/projects/${project}`,
      'https://us-central1-a-cloudresourcemanager.googleapis.com/v3/tagBindings',
    ]);
  });

  it('bind and unbind through a plain-HTTP endpoint override, for every zone, without credentials', async () => {
    const endpoint = { protocol: 'http' as const, host: '127.0.0.1', port: rm.port };
    const q = new ResourceManagerQuarantine(
      (z) => createTagBindingsClient(z, { endpoint }),
      () => createProjectsClient({ endpoint }),
    );

    await expect(q.bind(vm, value)).resolves.toEqual({ binding: bindingName, existed: false });
    await expect(q.unbind(vm, value)).resolves.toBe(true);

    expect(rm.valuesOn(parent)).toEqual([]);
    expect(rm.requests.map((r) => [r.host, r.authorization])).toEqual(rm.requests.map(() => [`127.0.0.1:${rm.port}`, undefined]));
  });

  itWithGcloud(
    'make a binding gcloud lists at the zonal endpoint, and gcloud deletes it as the adapter would',
    async () => {
      await quarantine().bind(vm, value);
      // gcloud derives the zone's host from its endpoint; the fake answers that host as gcloud's proxy.
      const env = {
        CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER: 'http://cloudresourcemanager.googleapis.com/',
        CLOUDSDK_PROXY_TYPE: 'http',
        CLOUDSDK_PROXY_ADDRESS: '127.0.0.1',
        CLOUDSDK_PROXY_PORT: String(rm.port),
      };
      const before = rm.requests.length;

      const listed = await gcloudJson(['resource-manager', 'tags', 'bindings', 'list', `--parent=${parent}`, `--location=${zone}`], env);
      await gcloudJson(
        ['resource-manager', 'tags', 'bindings', 'delete', `--tag-value=${value}`, `--parent=${parent}`, `--location=${zone}`],
        env,
      );

      expect(listed).toEqual([{ name: bindingName, parent, tagValue: value }]);
      expect(rm.requests.slice(before).map((r) => `${r.method} ${r.host}${r.path}`)).toEqual([
        `GET ${zone}-cloudresourcemanager.googleapis.com/v3/tagBindings`,
        `DELETE ${zone}-cloudresourcemanager.googleapis.com/v3/tagBindings/${encodeURIComponent(encodeURIComponent(parent))}/${value}`,
      ]);
      await expect(quarantine().unbind(vm, value)).resolves.toBe(false);
    },
    120_000,
  );
});
