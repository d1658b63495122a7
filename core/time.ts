/**
 * Fields computed from others (a person's age from the birth date), shared by the adapters that
 * rewrite conditions on them and the resolvers that compute them, so both agree on the day.
 */

/** Today's date in the city's time zone (Asia/Shanghai, UTC+8, no daylight saving), `YYYY-MM-DD`. */
export function todayInCity(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
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
  if (monthDay === '02-29') {
    const y = Number(year);
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    if (!leap) monthDay = '02-28';
  }
  return `${year}-${monthDay}`;
}
