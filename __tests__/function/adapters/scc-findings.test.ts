import { SecurityCenterClient } from '@google-cloud/security-center/build/src/v2/security_center_client';
import { FindingError, SecurityCenterFindings } from '../../../function/adapters/scc-findings';
import { FindingRequest } from '../../../function/core/ports';
import { createSecurityCenterClient } from '../../../function/runtime/clients';
import { FakeSecurityCenter } from '../../../testkit/fake-security-center';
import { loopbackClientOptions } from '../../../testkit/loopback-clients';
import { gcloudJson, itWithGcloud } from '../../support/gcloud';

// The adapter with the real Security Command Center v2 client over REST, against the loopback
// API: a finding raised ACTIVE in the source's global location, raised again, set inactive. The
// last tests build the client with function/runtime/clients.ts's factory and have gcloud list
// what the adapter raised.

const source = 'organizations/800000000001/sources/5550001';
const parent = `${source}/locations/global`;
const resourceName = '//compute.googleapis.com/projects/fleet-prod-1234/zones/europe-west1-b/instances/4617930134256183721';

let scc: FakeSecurityCenter;

function finding(overrides: Partial<FindingRequest> = {}): FindingRequest {
  return {
    source,
    findingId: 'i4617930134256183721b6',
    category: 'SHIELDED_VM_INTEGRITY_FAILURE',
    severity: 'HIGH',
    resourceName,
    eventTime: '2026-11-11T10:00:00.123456789Z',
    description: 'Late boot report of boot 6 failed integrity validation; the VM was quarantined and stopped.',
    externalUri: 'https://console.cloud.google.com/logs/query',
    properties: { decision: 'stop', bootCounter: '6', budgetLeft: 49, dryRun: false, snapshots: ['evidence-1001-boot-6-web-1'] },
    ...overrides,
  };
}

const sink = (timeoutMs = 5_000) =>
  new SecurityCenterFindings(async () => new SecurityCenterClient(loopbackClientOptions(scc.port)), timeoutMs);

beforeEach(async () => {
  scc = new FakeSecurityCenter().addSource(source);
  await scc.start();
});

afterEach(async () => {
  await scc.stop();
});

describe('SecurityCenterFindings.raise', () => {
  it('creates the finding ACTIVE, a THREAT, in the global location of the source', async () => {
    const name = `${parent}/findings/i4617930134256183721b6`;

    await expect(sink().raise(finding())).resolves.toEqual({ name, existed: false });

    expect(scc.lines()).toEqual([`POST /v2/${parent}/findings`]);
    expect(scc.requests[0]!.query.findingId).toBe('i4617930134256183721b6');
    expect(scc.findings.get(name)).toEqual({
      name,
      parent,
      state: 'ACTIVE',
      findingClass: 'THREAT',
      category: 'SHIELDED_VM_INTEGRITY_FAILURE',
      severity: 'HIGH',
      resourceName,
      // The client sends a timestamp as RFC 3339, to the nanosecond.
      eventTime: '2026-11-11T10:00:00.123456789Z',
      description: finding().description,
      externalUri: 'https://console.cloud.google.com/logs/query',
      sourceProperties: { decision: 'stop', bootCounter: '6', budgetLeft: 49, dryRun: false, snapshots: ['evidence-1001-boot-6-web-1'] },
      createTime: expect.any(String),
    });
  });

  it('counts a finding of that id raised before, and opens it again: a new containment of the same VM and boot', async () => {
    const name = `${parent}/findings/i4617930134256183721b6`;
    await sink().raise(finding());
    scc.findings.get(name)!.state = 'INACTIVE';

    await expect(sink().raise(finding({ severity: 'CRITICAL' }))).resolves.toEqual({ name, existed: true });

    expect(scc.findings.get(name)).toMatchObject({ state: 'ACTIVE', severity: 'HIGH' });
    expect(scc.lines()).toEqual([`POST /v2/${parent}/findings`, `POST /v2/${parent}/findings`, `POST /v2/${name}:setState`]);
  });

  it.each([
    [{ findingId: 'not-alphanumeric' }, "finding id 'not-alphanumeric' is not 1 to 32 letters and digits"],
    [{ findingId: 'a'.repeat(33) }, 'is not 1 to 32 letters and digits'],
    [{ source: 'projects/p/sources/1' }, "source 'projects/p/sources/1' is not organizations/<number>/sources/<number>"],
    [{ severity: 'SEVERE' }, "severity 'SEVERE' is not one of CRITICAL, HIGH, MEDIUM, LOW"],
    [{ eventTime: '2026-11-11 10:00' }, "eventTime '2026-11-11 10:00' is not an RFC 3339 time"],
    [{ properties: { 'boot-counter': '6' } }, "property key 'boot-counter' does not start with a letter"],
  ] as Array<[Partial<FindingRequest>, string]>)('refuses %j before calling the API: %s', async (overrides, message) => {
    const failure = await sink()
      .raise(finding(overrides))
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(FindingError);
    expect(failure).toMatchObject({ call: 'createFinding', code: 3 });
    expect((failure as Error).message).toContain(message);
    expect(scc.requests).toEqual([]);
  });

  it('says which finding failed and with what code when the API refuses it', async () => {
    scc.injectFaults({ method: 'createFinding', code: 403, message: 'securitycenter.findings.create denied' });

    const failure = await sink()
      .raise(finding())
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(FindingError);
    expect(failure).toMatchObject({ call: 'createFinding', finding: `${parent}/findings/i4617930134256183721b6`, code: 7 });
    expect((failure as Error).message).toContain('securitycenter.findings.create denied');
  });

  it('does not count a source that does not exist as a finding raised', async () => {
    await expect(sink().raise(finding({ source: 'organizations/800000000001/sources/999' }))).rejects.toMatchObject({
      name: 'FindingError',
      code: 5,
    });
  });
});

describe('SecurityCenterFindings.deactivate', () => {
  it('sets the finding INACTIVE', async () => {
    const { name } = await sink().raise(finding());

    await sink().deactivate(name);

    expect(scc.findings.get(name)!.state).toBe('INACTIVE');
    expect(scc.lines()[1]).toBe(`POST /v2/${name}:setState`);
    expect(JSON.parse(scc.requests[1]!.body)).toEqual({ state: 2 });
  });

  it('counts a finding that is gone as done', async () => {
    await expect(sink().deactivate(`${parent}/findings/gone1`)).resolves.toBeUndefined();

    expect(scc.lines()).toEqual([`POST /v2/${parent}/findings/gone1:setState`]);
  });

  it('refuses what is not a finding name, calling nothing', async () => {
    await expect(sink().deactivate('organizations/800000000001/sources/5550001')).rejects.toThrow(
      'setFindingState for organizations/800000000001/sources/5550001 failed: not a finding name',
    );
    expect(scc.requests).toEqual([]);
  });

  it('reports another refusal', async () => {
    const { name } = await sink().raise(finding());
    scc.injectFaults({ method: 'setFindingState', code: 403 });

    await expect(sink().deactivate(name)).rejects.toMatchObject({ call: 'setFindingState', finding: name, code: 7 });
    expect(scc.findings.get(name)!.state).toBe('ACTIVE');
  });
});

describe('the client function/runtime/clients.ts creates', () => {
  it('raises and deactivates through a plain-HTTP endpoint override, without credentials', async () => {
    const findings = new SecurityCenterFindings(() =>
      createSecurityCenterClient({ endpoint: { protocol: 'http', host: '127.0.0.1', port: scc.port } }),
    );

    const { name } = await findings.raise(finding());
    await findings.deactivate(name);

    expect(scc.findings.get(name)!.state).toBe('INACTIVE');
    expect(scc.requests.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });

  itWithGcloud(
    'raises a finding gcloud scc findings list reads as the adapter sent it',
    async () => {
      await sink().raise(finding());

      const listed = await gcloudJson(['scc', 'findings', 'list', 'organizations/800000000001', '--source=5550001', '--location=global'], {
        CLOUDSDK_API_ENDPOINT_OVERRIDES_SECURITYCENTER: `${scc.endpoint}/`,
      });

      expect(listed).toEqual([
        expect.objectContaining({
          finding: expect.objectContaining({
            name: `${parent}/findings/i4617930134256183721b6`,
            state: 'ACTIVE',
            findingClass: 'THREAT',
            severity: 'HIGH',
            category: 'SHIELDED_VM_INTEGRITY_FAILURE',
            resourceName,
            sourceProperties: finding().properties,
          }),
        }),
      ]);
      expect(scc.lines().at(-1)).toBe(`GET /v2/${parent}/findings`);
    },
    120_000,
  );
});
