import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ageOn, civilFromDays, daysFromCivil } from '../../core/time.ts';
import { genderOfIdNumber, idCheckCharacter, isValidIdNumber } from '../../demo/synthetic/id-number.ts';
import {
  collectSyntheticData,
  DEFAULT_REFERENCE_DATE,
  generateSyntheticData,
  SYNTHETIC_STREET_CODES,
  type AccountRow,
  type HouseRow,
  type PersonRow,
} from '../../demo/synthetic-data.ts';

const DOMAIN_STREETS = [
  '310101002', '310101013', '310101015', '310101017', '310101018', '310101019', '310101020', '310101021',
  '310101022', '310101023', '310104003', '310104004', '310104007', '310104008', '310104010', '310104011',
  '310104012', '310104013', '310104014', '310104015',
];
const ROAD_THEN_NUMBER = /(路|街|弄|巷)\d/;
const PHONE = /^1(3\d|5\d|8\d|9\d)\d{8}$/;
const TWO_DECIMALS = (x: number) => Math.abs(Math.round(x * 100) - x * 100) < 1e-6;

function digest(options: Parameters<typeof generateSyntheticData>[0]): string {
  const hash = createHash('sha256');
  for (const batch of generateSyntheticData(options)) hash.update(JSON.stringify(batch));
  return hash.digest('hex');
}

describe('ID number helpers (GB 11643)', () => {
  it('computes the ISO 7064 MOD 11-2 check character of known examples', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(idCheckCharacter('44052418800101001')).toBe('4');
    expect(() => idCheckCharacter('1101051949123100')).toThrow();
  });

  it('accepts valid and rejects invalid ID numbers', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524188001010014')).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false); // wrong check character
    expect(isValidIdNumber('11010519491231002x')).toBe(false); // lower-case x
    expect(isValidIdNumber(`11010519490229002${idCheckCharacter('11010519490229002')}`)).toBe(false); // 1949-02-29
    expect(isValidIdNumber('11010519491231002')).toBe(false); // 17 characters
  });

  it('reads the gender from the sequence parity', () => {
    expect(genderOfIdNumber('11010519491231002X')).toBe('female');
    expect(genderOfIdNumber('440524188001010014')).toBe('male');
  });

  it('converts calendar days both ways', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1) - daysFromCivil(2000, 2, 28)).toBe(2);
    for (const d of [-20000, -1, 0, 1, 10957, 20000]) {
      const [y, m, day] = civilFromDays(d);
      expect(daysFromCivil(y, m, day)).toBe(d);
    }
    expect(ageOn('1956-07-02', '2026-07-01')).toBe(69);
    expect(ageOn('1956-07-01', '2026-07-01')).toBe(70);
  });
});

describe('synthetic data, 50,000 persons', () => {
  const N = 50_000;
  let houses: HouseRow[];
  let persons: PersonRow[];
  let accounts: AccountRow[];
  let houseById: Map<string, HouseRow>;
  let personById: Map<string, PersonRow>;

  beforeAll(() => {
    ({ houses, persons, accounts } = collectSyntheticData({ persons: N }));
    houseById = new Map(houses.map((h) => [h.id, h]));
    personById = new Map(persons.map((p) => [p.idNumber, p]));
  });

  it('produces exactly N persons, about one house per 2.5 persons and accounts for most adults', () => {
    expect(persons).toHaveLength(N);
    expect(N / houses.length).toBeGreaterThan(2.2);
    expect(N / houses.length).toBeLessThan(2.8);
    const adults = persons.filter((p) => ageOn(p.birthDate, DEFAULT_REFERENCE_DATE) >= 16).length;
    expect(accounts.length / adults).toBeGreaterThan(0.82);
    expect(accounts.length / adults).toBeLessThan(0.88);
  });

  it('gives every person a valid, unique ID number consistent with birth date and gender', () => {
    const bad = persons.filter(
      (p) =>
        !isValidIdNumber(p.idNumber) ||
        p.idNumber.slice(6, 14) !== p.birthDate.replaceAll('-', '') ||
        genderOfIdNumber(p.idNumber) !== p.gender,
    );
    expect(bad).toEqual([]);
    expect(new Set(persons.map((p) => p.idNumber)).size).toBe(N);
  });

  it('keeps ID numbers unique across residents and owners from elsewhere', () => {
    const nameOf = new Map<string, string>(persons.map((p) => [p.idNumber, p.name]));
    for (const h of houses) {
      if (h.ownerIdNumber === null) continue;
      expect(isValidIdNumber(h.ownerIdNumber)).toBe(true);
      const known = nameOf.get(h.ownerIdNumber);
      if (known !== undefined) expect(h.ownerName).toBe(known);
      else nameOf.set(h.ownerIdNumber, h.ownerName!);
    }
    const ownerIds = new Set(houses.map((h) => h.ownerIdNumber).filter((id) => id !== null));
    const residentOwners = [...ownerIds].filter((id) => personById.has(id)).length;
    // Owners are usually residents, sometimes people from elsewhere.
    expect(residentOwners / ownerIds.size).toBeGreaterThan(0.5);
    expect(residentOwners).toBeLessThan(ownerIds.size);
  });

  it('has a realistic age structure: ages 0-100, about 20% aged 65 and over', () => {
    const ages = persons.map((p) => ageOn(p.birthDate, DEFAULT_REFERENCE_DATE));
    expect(Math.min(...ages)).toBe(0);
    expect(Math.max(...ages)).toBeLessThanOrEqual(100);
    const old = ages.filter((a) => a >= 65).length / N;
    expect(old).toBeGreaterThan(0.17);
    expect(old).toBeLessThan(0.23);
  });

  it('uses the ID region codes asked for, migrants included', () => {
    const regions = new Set(persons.map((p) => p.idNumber.slice(0, 6)));
    for (const code of ['310101', '310104', '310105', '310115', '320102', '330106', '340104', '410105', '510104']) {
      expect(regions.has(code), code).toBe(true);
    }
    const migrants = persons.filter((p) => !p.idNumber.startsWith('31')).length / N;
    expect(migrants).toBeGreaterThan(0.05);
    expect(migrants).toBeLessThan(0.3);
  });

  it('gives plausible names, ethnicities and phones', () => {
    const compound = persons.filter((p) => /^(欧阳|司马|上官|诸葛|东方|皇甫|尉迟|司徒)/.test(p.name)).length;
    expect(compound).toBeGreaterThan(0);
    expect(compound / N).toBeLessThan(0.02);
    expect(persons.filter((p) => !/^[\u4e00-\u9fff]{2,4}$/.test(p.name) || !PHONE.test(p.phone))).toEqual([]);
    const han = persons.filter((p) => p.ethnicity === '汉族').length / N;
    expect(han).toBeGreaterThan(0.85);
    expect(han).toBeLessThan(0.99);
    expect(new Set(persons.map((p) => p.ethnicity))).toContain('回族');
  });

  it('spreads houses over exactly the 20 DOMAIN.md streets with stable, unique ids', () => {
    expect([...SYNTHETIC_STREET_CODES].sort()).toEqual(DOMAIN_STREETS);
    expect(new Set(houses.map((h) => h.streetCode))).toEqual(new Set(DOMAIN_STREETS));
    expect(houseById.size).toBe(houses.length);
    const bad = houses.filter(
      (h) =>
        !/^H\d{9}-\d{6}$/.test(h.id) ||
        h.id.slice(1, 10) !== h.streetCode ||
        !h.address.startsWith(h.streetCode.startsWith('310101') ? '上海市黄浦区' : '上海市徐汇区'),
    );
    expect(bad).toEqual([]);
  });

  it('writes addresses with a road or lane token followed by the house number', () => {
    expect(houses.map((h) => h.address).filter((a) => !ROAD_THEN_NUMBER.test(a))).toEqual([]);
    expect(persons.flatMap((p) => [p.residenceAddress, p.hukouAddress]).filter((a) => !ROAD_THEN_NUMBER.test(a))).toEqual([]);
    const sameHukou = persons.filter((p) => p.hukouAddress === p.residenceAddress).length / N;
    expect(sameHukou).toBeGreaterThan(0.4);
    expect(sameHukou).toBeLessThan(0.95);
  });

  it('keeps house attributes in range', () => {
    const bad = houses.filter(
      (h) =>
        !(h.buildingArea >= 20 && h.buildingArea <= 300 && TWO_DECIMALS(h.buildingArea)) ||
        !(h.builtYear >= 1920 && h.builtYear <= 2023) ||
        !/^\d{4}-\d{2}-\d{2}$/.test(h.registeredAt) ||
        Number(h.registeredAt.slice(0, 4)) < h.builtYear ||
        h.registeredAt >= DEFAULT_REFERENCE_DATE ||
        (h.tenure === 'public') !== (h.ownerIdNumber === null) ||
        (h.ownerName === null) !== (h.ownerIdNumber === null),
    );
    expect(bad).toEqual([]);
    expect(new Set(houses.map((h) => h.tenure))).toEqual(new Set(['owned', 'rented', 'public']));
    expect(new Set(houses.map((h) => h.usage))).toEqual(new Set(['residential', 'commercial', 'mixed']));
    expect(houses.filter((h) => h.usage === 'residential').length / houses.length).toBeGreaterThan(0.8);
  });

  it('puts every person in an existing house, in households of 1 to 5', () => {
    const household = new Map<string, number>();
    const bad = persons.filter((p) => {
      const h = houseById.get(p.houseId);
      household.set(p.houseId, (household.get(p.houseId) ?? 0) + 1);
      return (
        !h ||
        p.residenceAddress !== h.address ||
        p.streetCode !== h.streetCode ||
        p.residentSince < p.birthDate ||
        p.residentSince > DEFAULT_REFERENCE_DATE
      );
    });
    expect(bad).toEqual([]);
    const sizes = [...household.values()];
    expect(Math.min(...sizes)).toBe(1);
    expect(Math.max(...sizes)).toBe(5);
  });

  it('gives accounts only to existing persons aged 16 and over, with consistent pension fields', () => {
    const ids = new Set<string>();
    let receiving = 0;
    let receivingOld = 0;
    let assisted = 0;
    const bad = accounts.filter((a) => {
      const p = personById.get(a.idNumber);
      if (!p) return true;
      const age = ageOn(p.birthDate, DEFAULT_REFERENCE_DATE);
      ids.add(a.idNumber);
      if (a.minimumLivingAssistance) assisted++;
      if (a.pensionStatus === 'receiving') {
        receiving++;
        if (age >= 60) receivingOld++;
        if (!(a.monthlyPension >= 1500 && a.monthlyPension <= 9000 && TWO_DECIMALS(a.monthlyPension))) return true;
      } else if (a.monthlyPension !== 0) {
        return true;
      }
      if (
        a.lastContributionMonth !== null &&
        (!/^\d{4}-(0[1-9]|1[0-2])$/.test(a.lastContributionMonth) || a.lastContributionMonth > DEFAULT_REFERENCE_DATE.slice(0, 7))
      ) {
        return true;
      }
      return age < 16 || !['employee', 'resident', 'none'].includes(a.medicalInsuranceType);
    });
    expect(bad).toEqual([]);
    expect(ids.size).toBe(accounts.length);
    expect(receivingOld / receiving).toBeGreaterThan(0.7);
    expect(assisted / accounts.length).toBeGreaterThan(0.015);
    expect(assisted / accounts.length).toBeLessThan(0.05);
    expect(accounts.some((a) => a.employer !== null)).toBe(true);
    expect(accounts.some((a) => a.pensionStatus === 'none')).toBe(true);
  });
});

describe('determinism and laziness', () => {
  it('gives byte-identical output for the same seed and N', () => {
    expect(digest({ persons: 5000, seed: 7 })).toBe(digest({ persons: 5000, seed: 7 }));
    expect(JSON.stringify(collectSyntheticData({ persons: 300 }))).toBe(JSON.stringify(collectSyntheticData({ persons: 300 })));
  });

  it('gives different output for another seed', () => {
    expect(digest({ persons: 5000, seed: 7 })).not.toBe(digest({ persons: 5000, seed: 8 }));
  });

  it('gives the same rows whatever the batch size', () => {
    const a = collectSyntheticData({ persons: 3000, batchSize: 100 });
    const b = collectSyntheticData({ persons: 3000, batchSize: 5000 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('yields bounded batches of whole households, houses before their residents', () => {
    const seenHouses = new Set<string>();
    let batches = 0;
    let total = 0;
    for (const batch of generateSyntheticData({ persons: 20_000, batchSize: 1000 })) {
      batches++;
      total += batch.persons.length;
      expect(batch.persons.length).toBeLessThan(1000 + 5);
      for (const h of batch.houses) seenHouses.add(h.id);
      expect(batch.persons.filter((p) => !seenHouses.has(p.houseId))).toEqual([]);
      const inBatch = new Set(batch.persons.map((p) => p.idNumber));
      expect(batch.accounts.filter((a) => !inBatch.has(a.idNumber))).toEqual([]);
    }
    expect(total).toBe(20_000);
    expect(batches).toBeGreaterThanOrEqual(20);
  });

  it('handles zero and tiny counts exactly', () => {
    expect(collectSyntheticData({ persons: 0 }).persons).toHaveLength(0);
    expect(collectSyntheticData({ persons: 1 }).persons).toHaveLength(1);
    expect(collectSyntheticData({ persons: 7 }).persons).toHaveLength(7);
    expect(() => collectSyntheticData({ persons: -1 })).toThrow();
  });
});
