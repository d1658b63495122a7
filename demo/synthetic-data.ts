/**
 * Deterministic synthetic source data for the demo departments: houses, the persons living in them
 * and their social-security accounts, shaped like real registries (see /work/shared/DOMAIN.md).
 *
 * Pure and seeded: the same seed, person count, reference date and batch size give byte-identical
 * rows, on every machine (no Math.random, no clock, no locale). Rows are produced lazily in batches,
 * so a million persons never have to sit in memory at once; a batch always holds whole households.
 * Rows use the LOGICAL field names of core/datasets.ts; the generator's parts (randomness, places,
 * name lists, ID numbers) are in `synthetic/`, its calendar is the city's (core/time.ts).
 */
import { civilFromDays, dateOfDay, dayOfDate, daysFromCivil } from '../core/time.ts';
import { IdAllocator } from './synthetic/id-number.ts';
import {
  COMPANY_FORMS,
  COMPANY_PLACES,
  COMPANY_TRADES,
  COMPANY_WORDS,
  COMPOUND_FAMILY_NAMES,
  COMPOUND_SHARE,
  ETHNICITIES,
  ETHNICITY_WEIGHTS,
  FAMILY_NAMES,
  FEMALE_GIVEN,
  INSTITUTIONS,
  MALE_GIVEN,
  PHONE_PREFIXES,
} from './synthetic/name-lists.ts';
import { HUANGPU, MIGRANT_REGION_WEIGHTS, MIGRANT_REGIONS, REGIONS, SHANGHAI_OTHER_REGIONS, SYNTHETIC_STREETS, type SyntheticStreet } from './synthetic/places.ts';
import { Random, Weighted } from './synthetic/random.ts';
import { DEFAULT_REFERENCE_DATE, DEFAULT_SEED, type AccountRow, type HouseRow, type PersonRow, type SyntheticBatch, type SyntheticOptions } from './synthetic/synthetic-rows.ts';

export { SYNTHETIC_STREET_CODES, SYNTHETIC_STREETS, type SyntheticStreet } from './synthetic/places.ts';
export { DEFAULT_REFERENCE_DATE, DEFAULT_SEED, type AccountRow, type HouseRow, type PersonRow, type SyntheticBatch, type SyntheticOptions } from './synthetic/synthetic-rows.ts';

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

const STREET_PICK = new Weighted(
  SYNTHETIC_STREETS.map((_, i) => i),
  SYNTHETIC_STREETS.map((s) => s.weight),
);
const FAMILY_PICK = new Weighted(
  FAMILY_NAMES,
  FAMILY_NAMES.map((_, rank) => 1 / (rank + 8)),
);
const ETHNICITY_PICK = new Weighted(ETHNICITIES, ETHNICITY_WEIGHTS);
const MIGRANT_REGION_PICK = new Weighted(MIGRANT_REGIONS, MIGRANT_REGION_WEIGHTS);
/** Household size of an occupied dwelling: mean about 2.6. */
const HOUSEHOLD_SIZE_PICK = new Weighted([1, 2, 3, 4, 5], [20, 29, 26, 16, 9]);
/** Age bands [lo, hi] of a household head (an adult), tuned so about 20% of all persons are 65+. */
const HEAD_AGE_PICK = new Weighted<[number, number]>(
  [
    [18, 24],
    [25, 34],
    [35, 44],
    [45, 54],
    [55, 64],
    [65, 74],
    [75, 84],
    [85, 100],
  ],
  [5, 17, 18, 17, 17, 14, 8, 4],
);
const BUILT_ERA_PICK = new Weighted<[number, number]>(
  [
    [1920, 1949],
    [1950, 1979],
    [1980, 1999],
    [2000, 2023],
  ],
  [18, 17, 35, 30],
);

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

interface Member {
  readonly idNumber: string;
  /** Index into REGIONS of the birth-place code. */
  readonly region: number;
  readonly name: string;
  readonly gender: 'male' | 'female';
  readonly family: string;
  readonly birthDays: number;
  readonly age: number;
}

/**
 * Yields batches of synthetic rows for exactly `options.persons` persons. Within the whole sequence:
 * every person lives in a house yielded in the same or an earlier batch, every account belongs to a
 * person of the same batch, and ID numbers and house ids are unique.
 */
export function* generateSyntheticData(options: SyntheticOptions): Generator<SyntheticBatch, void, undefined> {
  const total = options.persons;
  if (!Number.isInteger(total) || total < 0) throw new Error(`persons must be a non-negative integer, got ${total}`);
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const rng = new Random(options.seed ?? DEFAULT_SEED);
  const refIso = options.referenceDate ?? DEFAULT_REFERENCE_DATE;
  const refDays = dayOfDate(refIso);
  const [refY, refM, refD] = civilFromDays(refDays);
  const ids = new IdAllocator(daysFromCivil(refY - 102, 1, 1), refDays + 400);
  const houseCounters = new Array<number>(SYNTHETIC_STREETS.length).fill(0);
  // Residents who own their home and may own a second one they let out.
  const landlordPool: { idNumber: string; name: string }[] = [];
  const LANDLORD_POOL_SIZE = 4096;
  let landlordNext = 0;

  // --- helpers bound to this run ---------------------------------------------------------------

  const familyName = (): string => (rng.chance(COMPOUND_SHARE) ? rng.pick(COMPOUND_FAMILY_NAMES) : FAMILY_PICK.pick(rng));
  const givenName = (male: boolean): string => {
    const chars = male ? MALE_GIVEN : FEMALE_GIVEN;
    const first = rng.pick(chars);
    if (rng.chance(0.3)) return first;
    let second = rng.pick(chars);
    if (second === first && rng.chance(0.7)) second = rng.pick(chars);
    return first + second;
  };
  /** Birth day number for an exact age at the reference date. */
  const birthForAge = (age: number): number => {
    const lo = daysFromCivil(refY - age - 1, refM, refD) + 1;
    const hi = daysFromCivil(refY - age, refM, refD);
    return rng.int(lo, hi);
  };
  const phone = (): string => rng.pick(PHONE_PREFIXES) + rng.digits(8);
  const roadAddress = (prefix: string, road: string, residential: boolean): string => {
    const no = rng.int(1, 999);
    if (!residential) return `${prefix}${road}${no}号`;
    if (rng.chance(0.7)) {
      const lane = rng.int(1, 1500);
      return `${prefix}${road}${lane}弄${rng.int(1, 60)}号${rng.int(1, 24)}${pad2(rng.int(1, 6))}室`;
    }
    return `${prefix}${road}${no}号${rng.int(1, 30)}${pad2(rng.int(1, 8))}室`;
  };
  const houseAddress = (street: SyntheticStreet, usage: HouseRow['usage'], builtYear: number): string => {
    const prefix = street.district + street.name;
    const road = rng.pick(street.roads);
    if (usage === 'commercial') {
      return rng.chance(0.5) ? `${prefix}${road}${rng.int(1, 999)}号` : `${prefix}${road}${rng.int(1, 999)}号${rng.int(1, 20)}${pad2(rng.int(1, 20))}室`;
    }
    if (builtYear < 1950) {
      // Shikumen lanes: a lane number and a house number, no flats.
      return `${prefix}${road}${rng.int(1, 900)}弄${rng.int(1, 120)}号`;
    }
    if (usage === 'mixed') return `${prefix}${road}${rng.int(1, 999)}号`;
    return roadAddress(prefix, road, true);
  };
  /** An address elsewhere in a region (for a hukou not at the residence). */
  const regionAddress = (region: number): string => {
    const r = REGIONS[region];
    if (r.roads.length === 0) {
      const inDistrict = SYNTHETIC_STREETS.filter((s) => s.district === r.prefix);
      const street = rng.pick(inDistrict);
      return roadAddress(street.district + street.name, rng.pick(street.roads), true);
    }
    return roadAddress(r.prefix, rng.pick(r.roads), true);
  };
  /** Birth-place region of a person in a household. */
  const regionOf = (homeRegion: number, migrant: boolean, age: number): number => {
    if (migrant) {
      // Younger children of migrant households are often born in Shanghai.
      if (age < 15 && rng.chance(0.5)) return homeRegion;
      return MIGRANT_REGION_PICK.pick(rng);
    }
    return rng.chance(0.55) ? homeRegion : rng.pick(SHANGHAI_OTHER_REGIONS);
  };
  const newMember = (region: number, age: number, male: boolean, family: string): Member => {
    const { idNumber, birthDays } = ids.allocate(region, birthForAge(age), male);
    return {
      idNumber,
      region,
      name: family + givenName(male),
      gender: male ? 'male' : 'female',
      family,
      birthDays,
      age,
    };
  };
  /** An owner living elsewhere (not in the population data set); their ID is still unique. */
  const outsider = (): { idNumber: string; name: string } => {
    const region = rng.chance(0.8) ? rng.pick([0, 1, ...SHANGHAI_OTHER_REGIONS]) : MIGRANT_REGION_PICK.pick(rng);
    const male = rng.chance(0.5);
    const m = newMember(region, rng.int(28, 85), male, familyName());
    return { idNumber: m.idNumber, name: m.name };
  };
  const companyName = (): string => {
    if (rng.chance(0.08)) return rng.pick(INSTITUTIONS);
    return rng.pick(COMPANY_PLACES) + rng.pick(COMPANY_WORDS) + rng.pick(COMPANY_TRADES) + rng.pick(COMPANY_FORMS);
  };
  const monthOf = (days: number): string => {
    const [y, m] = civilFromDays(days);
    return `${y}-${pad2(m)}`;
  };
  const money = (x: number): number => Math.round(x * 100) / 100;

  const account = (p: PersonRow, age: number, migrant: boolean): AccountRow => {
    const male = p.gender === 'male';
    const retirementAge = male ? 60 : rng.chance(0.6) ? 55 : 50;
    let pensionStatus: AccountRow['pensionStatus'];
    if (age >= retirementAge) {
      pensionStatus = rng.chance(age >= 60 ? 0.9 : 0.75) ? 'receiving' : rng.chance(0.4) ? 'contributing' : 'none';
    } else if (age < 18) {
      pensionStatus = rng.chance(0.05) ? 'contributing' : 'none';
    } else if (age < 23) {
      pensionStatus = rng.chance(0.45) ? 'contributing' : 'none';
    } else {
      pensionStatus = rng.chance(migrant ? 0.62 : 0.78) ? 'contributing' : 'none';
    }
    let medicalInsuranceType: AccountRow['medicalInsuranceType'];
    let employer: string | null = null;
    let lastContributionMonth: string | null = null;
    let monthlyPension = 0;
    if (pensionStatus === 'contributing') {
      medicalInsuranceType = rng.chance(0.92) ? 'employee' : 'resident';
      employer = rng.chance(0.9) ? companyName() : null; // the rest contribute as flexible workers
      lastContributionMonth = monthOf(refDays - rng.int(15, 75));
    } else if (pensionStatus === 'receiving') {
      medicalInsuranceType = rng.chance(0.82) ? 'employee' : 'resident';
      // A skewed pension: most between 3,500 and 6,000, a tail up to 9,000.
      const x = (rng.float() + rng.float() + rng.float()) / 3;
      const y = x * x;
      monthlyPension = money(1500 + 7500 * Math.min(1, 0.12 + y * 0.95));
      const retirementDays = daysFromCivil(Number(p.birthDate.slice(0, 4)) + retirementAge, 1, 1);
      lastContributionMonth = retirementDays <= refDays ? monthOf(retirementDays - rng.int(1, 60)) : null;
    } else {
      medicalInsuranceType = rng.chance(0.7) ? 'resident' : 'none';
      if (age >= 25 && rng.chance(0.45)) lastContributionMonth = monthOf(refDays - rng.int(90, 365 * Math.min(20, age - 22)));
    }
    const poor = pensionStatus === 'none' ? 0.09 : pensionStatus === 'receiving' ? 0.025 : 0.006;
    return {
      idNumber: p.idNumber,
      pensionStatus,
      monthlyPension,
      medicalInsuranceType,
      employer,
      lastContributionMonth,
      minimumLivingAssistance: rng.chance(poor),
    };
  };

  // --- main loop ---------------------------------------------------------------------------------

  let produced = 0;
  let houses: HouseRow[] = [];
  let persons: PersonRow[] = [];
  let accounts: AccountRow[] = [];

  while (produced < total) {
    // The dwelling.
    const streetIndex = STREET_PICK.pick(rng);
    const street = SYNTHETIC_STREETS[streetIndex];
    const homeRegion = street.district === HUANGPU ? 0 : 1;
    const usageRoll = rng.float();
    const usage: HouseRow['usage'] = usageRoll < 0.9 ? 'residential' : usageRoll < 0.95 ? 'mixed' : 'commercial';
    const tenureRoll = rng.float();
    const tenure: HouseRow['tenure'] =
      usage === 'commercial'
        ? tenureRoll < 0.55
          ? 'owned'
          : 'rented'
        : tenureRoll < 0.64
          ? 'owned'
          : tenureRoll < 0.89
            ? 'rented'
            : 'public';
    const [eraLo, eraHi] = BUILT_ERA_PICK.pick(rng);
    const builtYear = rng.int(eraLo, eraHi);
    const houseNo = ++houseCounters[streetIndex];
    const houseId = `H${street.code}-${String(houseNo).padStart(6, '0')}`;
    const address = houseAddress(street, usage, builtYear);
    const areaBase =
      usage === 'commercial'
        ? 30 + 270 * rng.float() ** 1.5
        : builtYear < 1950
          ? 20 + 60 * rng.float() ** 1.3
          : builtYear < 1980
            ? 30 + 70 * rng.float() ** 1.2
            : 45 + 255 * rng.float() ** 2.2;
    const buildingArea = money(Math.min(300, Math.max(20, areaBase)));
    const registeredFrom = daysFromCivil(Math.max(builtYear, 1990), 1, 1);
    const registeredAt = dateOfDay(rng.int(registeredFrom, refDays - 1));
    const house: HouseRow = {
      id: houseId,
      address,
      streetCode: street.code,
      buildingArea,
      usage,
      tenure,
      ownerIdNumber: null,
      ownerName: null,
      builtYear,
      registeredAt,
    };
    houses.push(house);

    // The household (commercial premises are mostly empty).
    const occupied = usage !== 'commercial' || rng.chance(0.2);
    const migrant = rng.chance(tenure === 'rented' ? 0.45 : tenure === 'owned' ? 0.05 : 0.03);
    const size = occupied ? Math.min(HOUSEHOLD_SIZE_PICK.pick(rng), total - produced) : 0;
    const members: Member[] = [];
    if (size > 0) {
      const [lo, hi] = HEAD_AGE_PICK.pick(rng);
      const headAge = rng.int(lo, hi);
      const headMale = rng.chance(0.55);
      const head = newMember(regionOf(homeRegion, migrant, headAge), headAge, headMale, familyName());
      members.push(head);
      let fatherFamily = head.family;
      for (let i = 1; i < size; i++) {
        const roll = rng.float();
        if (i === 1 && roll < 0.78) {
          // Spouse: opposite gender, similar age, own family name.
          const age = Math.min(100, Math.max(18, headAge + rng.int(-5, 5) + (headMale ? -2 : 2)));
          const spouse = newMember(regionOf(homeRegion, migrant, age), age, !headMale, familyName());
          if (!headMale) fatherFamily = spouse.family;
          members.push(spouse);
        } else if (headAge >= 42 && headAge < 80 && roll < 0.93 && headAge - 22 >= 0) {
          // A child (adult or minor) or a grandchild.
          const grand = headAge >= 60 && rng.chance(0.35);
          const age = grand ? Math.max(0, headAge - rng.int(48, 70)) : Math.max(0, headAge - rng.int(22, 38));
          const male = rng.chance(0.51);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, rng.chance(0.92) ? fatherFamily : familyName()));
        } else if (headAge < 42 && roll < 0.75) {
          const age = Math.max(0, headAge - rng.int(22, 36));
          const male = rng.chance(0.51);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, rng.chance(0.92) ? fatherFamily : familyName()));
        } else if (headAge < 70) {
          // An elderly parent.
          const age = Math.min(100, headAge + rng.int(22, 34));
          const male = rng.chance(0.4);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, male ? head.family : familyName()));
        } else {
          // A relative or carer.
          const age = rng.int(18, 70);
          const male = rng.chance(0.4);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, familyName()));
        }
      }
    }

    // Ownership.
    if (tenure === 'owned') {
      const owner = members.length > 0 && members[0].age >= 18 && rng.chance(0.85) ? members[0] : outsider();
      house.ownerIdNumber = owner.idNumber;
      house.ownerName = owner.name;
    } else if (tenure === 'rented') {
      const owner = landlordPool.length > 0 && rng.chance(0.35) ? rng.pick(landlordPool) : outsider();
      house.ownerIdNumber = owner.idNumber;
      house.ownerName = owner.name;
    }
    if (tenure === 'owned' && members.length > 0 && house.ownerIdNumber === members[0].idNumber && members[0].age >= 30) {
      const entry = { idNumber: members[0].idNumber, name: members[0].name };
      if (landlordPool.length < LANDLORD_POOL_SIZE) landlordPool.push(entry);
      else landlordPool[landlordNext++ % LANDLORD_POOL_SIZE] = entry;
    }

    // Persons and accounts.
    const builtDays = daysFromCivil(builtYear, 1, 1);
    const householdHukouHere = !migrant && rng.chance(0.78);
    const headPhone = phone();
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      const regionIndex = m.region;
      const birthDate = dateOfDay(m.birthDays);
      let hukouAddress: string;
      if (!REGIONS[regionIndex].shanghai) hukouAddress = regionAddress(regionIndex);
      else if (householdHukouHere || (migrant && m.age < 15)) hukouAddress = address;
      else hukouAddress = rng.chance(0.3) ? address : regionAddress(regionIndex);
      const sinceFrom = Math.max(m.birthDays, builtDays, daysFromCivil(1950, 1, 1));
      const residentSince = dateOfDay(sinceFrom >= refDays ? refDays : rng.int(sinceFrom, refDays));
      const ethnicity = i === 0 || !rng.chance(0.85) ? ETHNICITY_PICK.pick(rng) : persons[persons.length - 1].ethnicity;
      const person: PersonRow = {
        idNumber: m.idNumber,
        name: m.name,
        gender: m.gender,
        birthDate,
        ethnicity,
        phone: i === 0 ? headPhone : m.age < 16 ? headPhone : phone(),
        hukouAddress,
        residenceAddress: address,
        streetCode: street.code,
        residentSince,
        houseId,
      };
      persons.push(person);
      produced++;
      if (m.age >= 16 && rng.chance(0.85)) accounts.push(account(person, m.age, migrant));
    }

    if (persons.length >= batchSize || produced >= total) {
      yield { houses, persons, accounts };
      houses = [];
      persons = [];
      accounts = [];
    }
  }
  if (houses.length > 0) yield { houses, persons, accounts };
}

/** All rows at once: for tests and small demo data sets only. */
export function collectSyntheticData(options: SyntheticOptions): { houses: HouseRow[]; persons: PersonRow[]; accounts: AccountRow[] } {
  const houses: HouseRow[] = [];
  const persons: PersonRow[] = [];
  const accounts: AccountRow[] = [];
  for (const batch of generateSyntheticData(options)) {
    for (const h of batch.houses) houses.push(h);
    for (const p of batch.persons) persons.push(p);
    for (const a of batch.accounts) accounts.push(a);
  }
  return { houses, persons, accounts };
}
