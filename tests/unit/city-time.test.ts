/**
 * City time (core/time.ts): the one reading of a date or date-time a person wrote. Zone-less means
 * +08:00; a date alone is a whole day there; impossible days and times are not read at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cityInstantIso, civilFromDays, dateOfDay, dayOfDate, daysFromCivil, isCalendarDate, parseCityInstant, todayInCity } from '../../core/time.ts';
import { admitGrant, grantIsValid } from '../../policies/grant-admission.ts';

const HOUR = 3_600_000;

describe('parseCityInstant', () => {
  it.each([
    ['2026-03-31', 'start', '2026-03-30T16:00:00.000Z'],
    ['2026-03-31', 'end', '2026-03-31T16:00:00.000Z'],
    ['2026-03-31T18:00', 'end', '2026-03-31T10:00:00.000Z'],
    ['2026-03-31 18:00:05.250', 'start', '2026-03-31T10:00:05.250Z'],
    ['2026-03-31T18:00:00Z', 'end', '2026-03-31T18:00:00.000Z'],
    ['2026-03-31T18:00:00+05:30', 'end', '2026-03-31T12:30:00.000Z'],
    ['2026-03-31T18:00:00-0100', 'end', '2026-03-31T19:00:00.000Z'],
    ['2024-02-29', 'end', '2024-02-29T16:00:00.000Z'],
    ['0001-01-01', 'start', '0000-12-31T16:00:00.000Z'],
  ] as const)('%s (%s) → %s', (text, edge, iso) => {
    expect(cityInstantIso(text, edge)).toBe(iso);
  });

  it.each(['2026-02-31', '2025-02-29', '0000-01-01', '2026-13-01', '2026-00-10', '2026-03-31T24:00', '2026-03-31T12:60', '2026-03-31T12:00:60', '2026-03-31T12:00+24:00', '31/03/2026', '2026-3-31', '', 'tomorrow'])(
    'does not read %j',
    (text) => {
      expect(parseCityInstant(text, 'end')).toBeUndefined();
      expect(isCalendarDate(text)).toBe(false);
    },
  );

  it('reads a zone-less wall-clock time written in the city back as the instant it names (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('1900-01-01T00:00:00Z'), max: Date.parse('2199-12-31T00:00:00Z') }), (t) => {
        const wall = new Date(t + 8 * HOUR).toISOString().slice(0, 23); // city wall clock, no zone
        expect(parseCityInstant(wall)).toBe(t);
        expect(parseCityInstant(`${wall}Z`)).toBe(t + 8 * HOUR);
        // The day it falls on, as the city counts days, holds it: [start, end).
        const day = todayInCity(new Date(t));
        expect(parseCityInstant(day, 'start')! <= t && t < parseCityInstant(day, 'end')!).toBe(true);
      }),
    );
  });

  it('day numbers round-trip through dates', () => {
    fc.assert(
      fc.property(fc.integer({ min: daysFromCivil(1, 1, 1), max: daysFromCivil(9999, 12, 31) }), (days) => {
        const date = dateOfDay(days);
        expect(isCalendarDate(date)).toBe(true);
        expect(dayOfDate(date)).toBe(days);
        expect(daysFromCivil(...civilFromDays(days))).toBe(days);
      }),
    );
  });
});

describe('admission stores instants', () => {
  const grant = { id: 'g', owner: 'dept:public-security', dataset: 'population' as const, duty: 'd', streets: 'all' as const, fields: {}, rows: null };

  it('converts once, and converting again changes nothing', () => {
    const once = admitGrant({ ...grant, validFrom: '2026-01-01', validUntil: '2026-03-31' });
    expect(once).toMatchObject({ validFrom: '2025-12-31T16:00:00.000Z', validUntil: '2026-03-31T16:00:00.000Z' });
    expect(admitGrant(once)).toEqual(once);
    expect(() => admitGrant({ ...grant, validFrom: null, validUntil: '2026-02-31' })).toThrow(RangeError);
  });

  it('a bound that cannot be read makes the grant count for nothing', () => {
    expect(grantIsValid({ validFrom: null, validUntil: 'soon', revokedAt: null }, 0)).toBe(false);
    expect(grantIsValid({ validFrom: null, validUntil: null, revokedAt: '2026-01-01T00:00:00Z' }, 0)).toBe(false);
    expect(grantIsValid({ validFrom: null, validUntil: null }, 0)).toBe(true);
  });
});
