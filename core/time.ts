/**
 * City time: the one place that knows the deployment's calendar. The city keeps China Standard
 * Time (UTC+8, no daylight saving). A date or a zone-less date-time written by a person (in a
 * policy file, an admin form, a filter) means that wall-clock time in the city; an instant is
 * epoch milliseconds. Adapters that rewrite conditions on derived fields (age), the resolvers that
 * compute them, the demo data and every grant's validity period use these functions, so all agree
 * on the day.
 */

/** The city's offset from UTC, in minutes (Asia/Shanghai: +08:00 all year). */
export const CITY_OFFSET_MINUTES = 8 * 60;

const DAY_MS = 86_400_000;

/** Proleptic Gregorian leap year. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : ([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `[year, month, day]` of a `YYYY-MM-DD` text that names a real day (not `2026-02-31`, not year
 * 0000), or undefined.
 */
export function parseCalendarDate(value: string): [number, number, number] | undefined {
  const m = DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return [y, mo, d];
}

/** Whether `value` is a `YYYY-MM-DD` date naming a real day. */
export function isCalendarDate(value: unknown): value is string {
  return typeof value === 'string' && parseCalendarDate(value) !== undefined;
}

/** Days from 1970-01-01 to y-m-d, proleptic Gregorian, no time zones (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `[year, month, day]` of a day number (H. Hinnant's civil_from_days). */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** `YYYY-MM-DD` of a day number. */
export function dateOfDay(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The day number of a `YYYY-MM-DD` date; throws on text that is not a real day. */
export function dayOfDate(date: string): number {
  const parsed = parseCalendarDate(date);
  if (!parsed) throw new RangeError('expected a YYYY-MM-DD date naming a real day');
  return daysFromCivil(...parsed);
}

/** Today's date in the city's time zone, `YYYY-MM-DD`. */
export function todayInCity(now: Date = new Date()): string {
  return new Date(now.getTime() + CITY_OFFSET_MINUTES * 60_000).toISOString().slice(0, 10);
}

/** Whole years from `birthDate` to `today` (both `YYYY-MM-DD`). */
export function ageOn(birthDate: string, today: string): number {
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

/**
 * The latest birth date of someone who is at least `years` old on `today`:
 * `age >= years  ⇔  birthDate <= birthDateBound(years, today)`. Feb 29 falls back to Feb 28.
 */
export function birthDateBound(years: number, today: string): string {
  const year = String(Number(today.slice(0, 4)) - years).padStart(4, '0');
  let monthDay = today.slice(5);
  if (monthDay === '02-29' && !isLeapYear(Number(year))) monthDay = '02-28';
  return `${year}-${monthDay}`;
}

const INSTANT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Which end of a day a date alone stands for: `'start'` its first instant (a period's beginning),
 * `'end'` the first instant of the next day (a period's inclusive last day, e.g. `validUntil:
 * 2025-12-31` is in force through the whole of that day in the city).
 */
export type DayEdge = 'start' | 'end';

/**
 * Epoch milliseconds of an ISO date or date-time as the city reads it, or undefined when the text
 * is not one (or names an impossible day or time):
 * - `2025-12-31`: a calendar day in city time, its start or (edge `'end'`) the start of the next day;
 * - `2025-12-31T18:00` / `2025-12-31 18:00:00.5`: wall-clock time in the city (+08:00);
 * - `2025-12-31T10:00Z`, `…+05:30`: the instant written.
 *
 * This is the one reading of a validity bound: the policy files, the admin API and the decision
 * all go through it, and admission stores what it returns (as an instant, never as the text).
 *
 * @example parseCityInstant('2025-12-31', 'end') === Date.parse('2025-12-31T16:00:00Z')
 */
export function parseCityInstant(value: string, edge: DayEdge = 'start'): number | undefined {
  const m = INSTANT.exec(value.trim());
  if (!m) return undefined;
  const date = parseCalendarDate(m[1]!);
  if (!date) return undefined;
  const [y, mo, d] = date;
  const dayStart = utcMidnight(y, mo, d);
  if (m[2] === undefined) return dayStart - CITY_OFFSET_MINUTES * 60_000 + (edge === 'end' ? DAY_MS : 0);
  const [h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const fraction = m[5] ? Math.floor(Number(m[5]) * 1000) : 0;
  let offset = CITY_OFFSET_MINUTES;
  if (m[6] === 'Z') offset = 0;
  else if (m[6]) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(m[6])!;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) return undefined;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return dayStart + ((h * 60 + mi - offset) * 60 + s) * 1000 + fraction;
}

/** Midnight UTC of a day; unlike `Date.UTC`, years 1-99 stay years 1-99. */
function utcMidnight(year: number, month: number, day: number): number {
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day);
  return t.getTime();
}

/**
 * The instant of a bound as stored text (`toISOString()`, UTC), read the city's way first:
 * the canonical form admission hands to the store.
 */
export function cityInstantIso(value: string, edge: DayEdge = 'start'): string | undefined {
  const ms = parseCityInstant(value, edge);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
