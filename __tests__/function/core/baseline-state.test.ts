import { baselineStanding } from '../../../function/core/baseline';

const NOW = Date.UTC(2026, 10, 23, 12);

describe('baselineStanding', () => {
  it('lets a document without a state (the tutorial format) vouch for its measurements', () => {
    expect(baselineStanding({}, NOW)).toEqual({ usable: true });
    expect(baselineStanding({ state: 'active' }, NOW)).toEqual({ usable: true });
  });

  it.each([
    [{ state: 'revoked' }, 'it is revoked'],
    [{ state: 'proposed' }, 'it is proposed'],
    [{ state: 'ACTIVE' }, 'its state "ACTIVE" is unknown'],
    [{ state: 1 }, 'its state 1 is unknown'],
    [{ expiresAt: '2026-11-23T12:00:00Z' }, 'it expired at 2026-11-23T12:00:00.000Z'],
    [{ expiresAt: '2026-11-23' }, 'its expiresAt "2026-11-23" is not a timestamp'],
    [{ expiresAt: '2027-02-31T00:00:00Z' }, 'its expiresAt "2027-02-31T00:00:00Z" is not a timestamp'],
    [{ expiresAt: '2027-01-01T24:30:00Z' }, 'its expiresAt "2027-01-01T24:30:00Z" is not a timestamp'],
    [{ expiresAt: 1764000000 }, 'its expiresAt 1764000000 is not a timestamp'],
    [{ state: 'active', expiresAt: { toMillis: () => NOW - 1 } }, 'it expired at 2026-11-23T11:59:59.999Z'],
  ])('refuses %j: %s', (fields, why) => {
    expect(baselineStanding(fields, NOW)).toEqual({ usable: false, why });
  });

  it('accepts an expiry still ahead, as text or as a timestamp', () => {
    expect(baselineStanding({ expiresAt: '2026-11-23T12:00:01Z' }, NOW)).toEqual({ usable: true });
    expect(baselineStanding({ expiresAt: { toMillis: () => NOW + 1 } }, NOW)).toEqual({ usable: true });
  });
});

describe('baselineStanding under the two-person rule', () => {
  const approved = { createdBy: 'alice@example.com', approvedBy: 'bob@example.com' };

  it('lets an active baseline approved by a second principal vouch', () => {
    expect(baselineStanding({ state: 'active', ...approved }, NOW, 'two-person')).toEqual({ usable: true });
  });

  it.each([
    [{}, 'it has no approval, and requireBaselineApproval needs one by a second principal'],
    [{ createdBy: 'alice@example.com' }, 'it has no approval, and requireBaselineApproval needs one by a second principal'],
    [{ approvedBy: 'bob@example.com' }, 'it names no creator, so its approval cannot be shown to come from a second principal'],
    [
      { createdBy: 'alice@example.com', approvedBy: ' Alice@Example.com' },
      'it was approved by its own creator alice@example.com; requireBaselineApproval needs a second principal',
    ],
    [{ ...approved, state: 'proposed' }, 'it is proposed'],
    [{ ...approved, state: 'revoked' }, 'it is revoked'],
    [{ ...approved, expiresAt: '2026-11-01T00:00:00Z' }, 'it expired at 2026-11-01T00:00:00.000Z'],
  ])('refuses %j: %s', (fields, why) => {
    expect(baselineStanding(fields, NOW, 'two-person')).toEqual({ usable: false, why });
  });

  it('does not ask for an approval without the rule (tutorial documents keep working)', () => {
    expect(baselineStanding({}, NOW, 'none')).toEqual({ usable: true });
  });
});
