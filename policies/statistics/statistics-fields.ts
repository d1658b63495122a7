/**
 * What `statistics` may group and filter on, per dataset: fields with a small, fixed set of values,
 * and `ageBand`, a population field derived from the birth date in 5-year bands (`65-69`, `100+`).
 * Free text, identifiers, exact dates and measures are never grouped: a group of them is a person.
 */
import type { Condition } from '../../core/conditions.ts';

export type StatisticsDataset = 'population' | 'housing';

export interface StatisticsField {
  readonly name: string;
  /** The dataset fields a grant must give (at least `aggregate`) for this one to be used; any one suffices. */
  readonly needs: readonly string[];
}

export const STATISTICS_FIELDS: Readonly<Record<StatisticsDataset, readonly StatisticsField[]>> = {
  population: [
    { name: 'gender', needs: ['gender'] },
    { name: 'ethnicity', needs: ['ethnicity'] },
    { name: 'streetCode', needs: ['streetCode'] },
    { name: 'ageBand', needs: ['birthDate', 'age'] },
  ],
  housing: [
    { name: 'usage', needs: ['usage'] },
    { name: 'tenure', needs: ['tenure'] },
    { name: 'streetCode', needs: ['streetCode'] },
  ],
};

export function isStatisticsDataset(name: string): name is StatisticsDataset {
  return name === 'population' || name === 'housing';
}

export function statisticsField(dataset: StatisticsDataset, name: string): StatisticsField | undefined {
  return STATISTICS_FIELDS[dataset].find((f) => f.name === name);
}

/** Width of an age band in years; the last band is open (`100+`). */
export const AGE_BAND_YEARS = 5;
export const AGE_BAND_OPEN_FROM = 100;

/** The band of an age in whole years: `65-69`, or `100+`. */
export function ageBandOf(age: number): string {
  if (age >= AGE_BAND_OPEN_FROM) return `${AGE_BAND_OPEN_FROM}+`;
  const from = Math.floor(Math.max(0, age) / AGE_BAND_YEARS) * AGE_BAND_YEARS;
  return `${from}-${from + AGE_BAND_YEARS - 1}`;
}

const BAND = /^(\d{1,3})-(\d{1,3})$/;

/**
 * The row condition of one age band (on the derived `age`, which connectors turn into birth-date
 * bounds), or undefined when `band` is not one of the bands {@link ageBandOf} produces.
 */
export function ageBandCondition(band: string): Condition | undefined {
  if (band === `${AGE_BAND_OPEN_FROM}+`) return { field: 'age', op: 'gte', value: AGE_BAND_OPEN_FROM };
  const m = BAND.exec(band);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (from % AGE_BAND_YEARS !== 0 || to !== from + AGE_BAND_YEARS - 1 || from >= AGE_BAND_OPEN_FROM) return undefined;
  return { all: [{ field: 'age', op: 'gte', value: from }, { field: 'age', op: 'lte', value: to }] };
}
