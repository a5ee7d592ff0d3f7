import { groupPath, parseCreatedBy } from '../../../function/core/instance-group';

describe('parseCreatedBy', () => {
  it('reads a zonal group from the path Compute Engine writes', () => {
    expect(parseCreatedBy('projects/fleet-prod-1234/zones/europe-west1-b/instanceGroupManagers/web-mig')).toEqual({
      projectId: 'fleet-prod-1234',
      scope: 'zones',
      location: 'europe-west1-b',
      name: 'web-mig',
    });
  });

  it('reads a regional group', () => {
    expect(parseCreatedBy('projects/fleet-prod-1234/regions/europe-west1/instanceGroupManagers/web-rmig')).toEqual({
      projectId: 'fleet-prod-1234',
      scope: 'regions',
      location: 'europe-west1',
      name: 'web-rmig',
    });
  });

  it('reads a full API URL and a domain-scoped project', () => {
    expect(
      parseCreatedBy('https://www.googleapis.com/compute/v1/projects/example.com:fleet/zones/us-central1-a/instanceGroupManagers/g1'),
    ).toEqual({ projectId: 'example.com:fleet', scope: 'zones', location: 'us-central1-a', name: 'g1' });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['an instance template', 'projects/p/global/instanceTemplates/t'],
    ['an unmanaged instance group', 'projects/fleet-prod-1234/zones/europe-west1-b/instanceGroups/web'],
    ['a path with more after the name', 'projects/p1234/zones/z1/instanceGroupManagers/g/extra'],
    ['a name with uppercase', 'projects/fleet-prod-1234/zones/europe-west1-b/instanceGroupManagers/Web'],
    ['another host', 'https://evil.example/compute/v1/projects/p1234/zones/z1/instanceGroupManagers/g'],
  ])('names no group when created-by is %s', (_what, value) => {
    expect(parseCreatedBy(value)).toBeUndefined();
  });

  it('writes back the path it read', () => {
    const path = 'projects/fleet-prod-1234/regions/europe-west1/instanceGroupManagers/web-rmig';
    expect(groupPath(parseCreatedBy(path)!)).toBe(path);
  });
});
