/**
 * The rows the demo generator produces, in the LOGICAL field names of core/datasets.ts, and the
 * generator's options.
 */
export interface PersonRow {
  idNumber: string;
  name: string;
  gender: 'male' | 'female';
  /** YYYY-MM-DD */
  birthDate: string;
  ethnicity: string;
  /** 11 digits; a minor's is the household head's (guardian contact). */
  phone: string;
  hukouAddress: string;
  residenceAddress: string;
  streetCode: string;
  /** YYYY-MM-DD */
  residentSince: string;
  houseId: string;
}

export interface HouseRow {
  id: string;
  address: string;
  streetCode: string;
  /** m², two decimals. */
  buildingArea: number;
  usage: 'residential' | 'commercial' | 'mixed';
  tenure: 'owned' | 'rented' | 'public';
  ownerIdNumber: string | null;
  ownerName: string | null;
  builtYear: number;
  /** YYYY-MM-DD */
  registeredAt: string;
}

export interface AccountRow {
  idNumber: string;
  pensionStatus: 'none' | 'contributing' | 'receiving';
  /** CNY, two decimals; 0 unless receiving. */
  monthlyPension: number;
  medicalInsuranceType: 'employee' | 'resident' | 'none';
  employer: string | null;
  /** YYYY-MM */
  lastContributionMonth: string | null;
  minimumLivingAssistance: boolean;
}

export interface SyntheticBatch {
  readonly houses: HouseRow[];
  readonly persons: PersonRow[];
  readonly accounts: AccountRow[];
}

export interface SyntheticOptions {
  /** Number of persons to produce, exactly. */
  readonly persons: number;
  /** PRNG seed (any 32-bit integer). Default 20240611. */
  readonly seed?: number;
  /** Persons per batch (approximate: a batch ends after the household that reaches it). Default 5000. */
  readonly batchSize?: number;
  /** The "today" of the data set (ages, residence and contribution dates), YYYY-MM-DD. Default 2026-07-01. */
  readonly referenceDate?: string;
}

export const DEFAULT_SEED = 20240611;
export const DEFAULT_REFERENCE_DATE = '2026-07-01';
