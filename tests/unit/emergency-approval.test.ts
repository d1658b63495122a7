/**
 * "Approval is never wider than the request" for the emergency clause, as a property: for any asked
 * clause and any approved one, `emergencyWiderThanAsked` finds nothing exactly when every approved
 * field was asked at that level or higher and the session is no longer than asked; and approving
 * a request's own grant via `requestGrant` carries the approved clause, never the asked one.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emergencyWiderThanAsked, requestGrant, type AccessRequest } from '../../policies/admission/access-request.ts';
import type { EmergencyClause } from '../../policies/emergency/emergency-clause.ts';

const FIELDS = ['phone', 'hukouAddress', 'ethnicity', 'residenceAddress'] as const;
const access = fc.constantFrom<'full' | 'masked'>('full', 'masked');
const clause: fc.Arbitrary<EmergencyClause> = fc.record({
  fields: fc.dictionary(fc.constantFrom(...FIELDS), access, { minKeys: 1 }),
  maxMinutes: fc.integer({ min: 1, max: 720 }),
});

/** The reference: within iff each approved field is asked at least as high and minutes do not grow. */
function within(asked: EmergencyClause | null, approved: EmergencyClause | null): boolean {
  if (!approved) return true;
  if (!asked) return false;
  const level = { masked: 1, full: 2 };
  return (
    Object.entries(approved.fields).every(([f, a]) => asked.fields[f] !== undefined && level[a] <= level[asked.fields[f]]) &&
    approved.maxMinutes <= asked.maxMinutes
  );
}

describe('emergency clause approval', () => {
  it('is refused exactly when it is wider than asked', () => {
    fc.assert(
      fc.property(fc.option(clause, { nil: null }), fc.option(clause, { nil: null }), (asked, approved) => {
        const problems = emergencyWiderThanAsked(asked, approved);
        expect(problems.length === 0).toBe(within(asked, approved));
      }),
      { numRuns: 500 },
    );
  });

  it('narrowing a clause (dropping fields, masking, fewer minutes) is always within it', () => {
    fc.assert(
      fc.property(clause, fc.integer({ min: 0, max: 719 }), fc.boolean(), (asked, less, mask) => {
        const kept = Object.keys(asked.fields).slice(0, 1);
        const approved: EmergencyClause = {
          fields: Object.fromEntries(kept.map((f) => [f, mask ? 'masked' : asked.fields[f]])),
          maxMinutes: Math.max(1, asked.maxMinutes - less),
        };
        expect(emergencyWiderThanAsked(asked, approved)).toEqual([]);
      }),
    );
  });

  it('the created grant carries the approved clause, not the asked one', () => {
    const asked: EmergencyClause = { fields: { phone: 'full', hukouAddress: 'full' }, maxMinutes: 45 };
    const approved: EmergencyClause = { fields: { phone: 'masked' }, maxMinutes: 15 };
    const request = { dataset: 'population', duty: 'd', street: '310101002', fields: { streetCode: 'full' }, rows: null, emergency: asked } as unknown as AccessRequest;
    const grant = requestGrant(request, { fields: { streetCode: 'full' }, rows: null, validUntil: '2099-12-31T16:00:00.000Z', untilMs: 0, emergency: approved }, 'g');
    expect(grant.emergency).toEqual(approved);
    expect(requestGrant(request, { fields: { streetCode: 'full' }, rows: null, validUntil: '2099-12-31T16:00:00.000Z', untilMs: 0, emergency: null }, 'g').emergency).toBeNull();
  });
});
