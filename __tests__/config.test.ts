import { loadConfig } from '../function/config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      mode: 'relearn-if-known-good',
      firestoreDatabase: '(default)',
      baselineCollection: 'known_good_measurements',
      logLevel: 'debug',
      maxEventAgeSeconds: 3600,
      staleEventPolicy: 'fail-closed',
      computeTimeoutSeconds: 20,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        RESPONSE_MODE: 'shutdown',
        FIRESTORE_DATABASE: 'integrity-baselines',
        BASELINE_COLLECTION: 'baselines',
        GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234',
        COMPUTE_API_ENDPOINT: 'http://127.0.0.1:8089',
        LOG_LEVEL: 'info',
        MAX_EVENT_AGE_SECONDS: '600',
        STALE_EVENT_POLICY: 'fail-open',
        COMPUTE_TIMEOUT_SECONDS: '5',
      }),
    ).toEqual({
      mode: 'shutdown',
      firestoreDatabase: 'integrity-baselines',
      baselineCollection: 'baselines',
      projectId: 'fleet-prod-1234',
      computeEndpoint: { protocol: 'http', host: '127.0.0.1', port: 8089 },
      logLevel: 'info',
      maxEventAgeSeconds: 600,
      staleEventPolicy: 'fail-open',
      computeTimeoutSeconds: 5,
    });
  });

  it('defaults the port of an https endpoint to 443', () => {
    expect(loadConfig({ COMPUTE_API_ENDPOINT: 'https://compute.example.internal' }).computeEndpoint).toEqual({ protocol: 'https', host: 'compute.example.internal', port: 443 });
  });

  it.each([
    ['RESPONSE_MODE', 'suspend-everything', /RESPONSE_MODE must be one of/],
    ['FIRESTORE_DATABASE', 'Bad DB', /FIRESTORE_DATABASE/],
    ['BASELINE_COLLECTION', 'a/b', /BASELINE_COLLECTION/],
    ['COMPUTE_API_ENDPOINT', 'not a url', /COMPUTE_API_ENDPOINT/],
    ['COMPUTE_API_ENDPOINT', 'ftp://127.0.0.1:21', /COMPUTE_API_ENDPOINT/],
    ['COMPUTE_API_ENDPOINT', 'http://127.0.0.1:8089/compute/v1', /no path/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL/],
    ['MAX_EVENT_AGE_SECONDS', '10', /MAX_EVENT_AGE_SECONDS must be an integer from 60/],
    ['MAX_EVENT_AGE_SECONDS', '1h', /MAX_EVENT_AGE_SECONDS/],
    ['STALE_EVENT_POLICY', 'maybe', /STALE_EVENT_POLICY must be one of fail-closed, fail-open/],
    ['COMPUTE_TIMEOUT_SECONDS', '0', /COMPUTE_TIMEOUT_SECONDS/],
  ])('fails when %s is %s', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
