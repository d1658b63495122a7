/**
 * Resident ID numbers (GB 11643): 6-digit region, 8-digit birth date, 3-digit sequence whose parity
 * is the gender, ISO 7064 MOD 11-2 check character; and the allocator that issues the demo's
 * unique ones.
 */
import { civilFromDays, dateOfDay, daysInMonth } from '../../core/time.ts';
import { REGIONS } from './places.ts';

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') of the first 17 digits of an ID number. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`expected 17 digits, got ${JSON.stringify(first17)}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

/** True for an 18-character resident ID number with a real birth date and a correct check character. */
export function isValidIdNumber(id: string): boolean {
  if (typeof id !== 'string' || !/^\d{17}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1800 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return false;
  return idCheckCharacter(id.slice(0, 17)) === id[17];
}

/** Gender encoded in an ID number: odd sequence (17th digit) = male. */
export function genderOfIdNumber(id: string): 'male' | 'female' {
  return (id.charCodeAt(16) - 48) % 2 === 1 ? 'male' : 'female';
}

/** Sequence numbers per region, birth day and gender (odd 001-997 for men, even 002-998 for women). */
const ID_SLOTS_PER_DAY = 499;

export class IdAllocator {
  private readonly firstDay: number;
  private readonly span: number;
  private readonly used: Uint16Array;

  constructor(firstDay: number, lastDay: number) {
    this.firstDay = firstDay;
    this.span = lastDay - firstDay + 1;
    this.used = new Uint16Array(REGIONS.length * this.span * 2);
  }

  /**
   * A fresh, never-issued ID number for a region, birth day and gender. Sequences of one
   * region/day/gender are issued from a per-key offset, so they look scattered but never repeat;
   * a full key (499 per gender) moves on to the next day.
   */
  allocate(region: number, birthDays: number, male: boolean): { idNumber: string; birthDays: number } {
    let day = birthDays;
    for (;;) {
      const offset = day - this.firstDay;
      if (offset < 0 || offset >= this.span) throw new Error(`birth day ${dateOfDay(day)} outside the ID allocator's range`);
      const slot = (region * this.span + offset) * 2 + (male ? 1 : 0);
      const k = this.used[slot];
      if (k < ID_SLOTS_PER_DAY) {
        this.used[slot] = k + 1;
        const base = (Math.imul(region + 1, 73856093) ^ Math.imul(offset + 1, 19349663) ^ (male ? 83492791 : 0)) >>> 0;
        const j = ((base % ID_SLOTS_PER_DAY) + k) % ID_SLOTS_PER_DAY; // 0..498
        const seq = male ? 2 * j + 1 : 2 * j + 2; // male 001..997 odd, female 002..998 even
        const [y, m, d] = civilFromDays(day);
        const first17 = `${REGIONS[region]!.code}${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${String(seq).padStart(3, '0')}`;
        return { idNumber: first17 + idCheckCharacter(first17), birthDays: day };
      }
      day += 1;
    }
  }
}
