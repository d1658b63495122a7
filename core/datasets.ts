/**
 * The shared vocabulary: the three department datasets, their logical fields and owners.
 * Policies, connectors and the GraphQL schema all speak these names.
 */
export type FieldType = 'string' | 'date' | 'int' | 'number' | 'boolean';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Allowed values, for enumerations (usage, tenure, pension status ...). */
  readonly values?: readonly string[];
  /** Standard mask applied when the field is granted `masked` (policies/masks.ts). */
  readonly mask?: 'idNumber' | 'phone' | 'name' | 'address' | 'birthDate' | 'none';
  /** Not exposed in GraphQL: used for joins only (e.g. person.houseId). */
  readonly internal?: boolean;
  /** Computed from another field, e.g. age from birthDate. Conditions on it are rewritten by adapters. */
  readonly derivedFrom?: string;
}

export type DatasetName = 'population' | 'housing' | 'social_security';

export interface DatasetDef {
  readonly name: DatasetName;
  /** The department that owns the dataset and alone may grant it. */
  readonly owner: string;
  /** The GraphQL type that shows its rows. */
  readonly typeName: 'Person' | 'House' | 'SocialSecurityAccount';
  readonly key: string;
  /** Field carrying the 9-digit street code; absent when the dataset is scoped through its subject. */
  readonly streetField?: string;
  /** Fields besides the key that lookups may match on (one-to-many joins). */
  readonly lookupFields: readonly string[];
  readonly fields: readonly FieldDef[];
}

export const POPULATION: DatasetDef = {
  name: 'population',
  owner: 'dept:public-security',
  typeName: 'Person',
  key: 'idNumber',
  streetField: 'streetCode',
  lookupFields: ['houseId'],
  fields: [
    { name: 'idNumber', type: 'string', mask: 'idNumber' },
    { name: 'name', type: 'string', mask: 'name' },
    { name: 'gender', type: 'string', values: ['male', 'female'] },
    { name: 'birthDate', type: 'date', mask: 'birthDate' },
    { name: 'age', type: 'int', derivedFrom: 'birthDate' },
    { name: 'ethnicity', type: 'string' },
    { name: 'phone', type: 'string', mask: 'phone' },
    { name: 'hukouAddress', type: 'string', mask: 'address' },
    { name: 'residenceAddress', type: 'string', mask: 'address' },
    { name: 'streetCode', type: 'string' },
    { name: 'residentSince', type: 'date' },
    { name: 'houseId', type: 'string', internal: true },
  ],
};

export const HOUSING: DatasetDef = {
  name: 'housing',
  owner: 'dept:housing',
  typeName: 'House',
  key: 'id',
  streetField: 'streetCode',
  lookupFields: ['ownerIdNumber'],
  fields: [
    { name: 'id', type: 'string' },
    { name: 'address', type: 'string', mask: 'address' },
    { name: 'streetCode', type: 'string' },
    { name: 'buildingArea', type: 'number' },
    { name: 'usage', type: 'string', values: ['residential', 'commercial', 'mixed'] },
    { name: 'tenure', type: 'string', values: ['owned', 'rented', 'public'] },
    { name: 'ownerIdNumber', type: 'string', mask: 'idNumber' },
    { name: 'ownerName', type: 'string', mask: 'name' },
    { name: 'builtYear', type: 'int' },
    { name: 'registeredAt', type: 'date' },
  ],
};

export const SOCIAL_SECURITY: DatasetDef = {
  name: 'social_security',
  owner: 'dept:hrss',
  typeName: 'SocialSecurityAccount',
  key: 'idNumber',
  lookupFields: [],
  fields: [
    { name: 'idNumber', type: 'string', mask: 'idNumber' },
    { name: 'pensionStatus', type: 'string', values: ['none', 'contributing', 'receiving'] },
    { name: 'monthlyPension', type: 'number' },
    { name: 'medicalInsuranceType', type: 'string', values: ['employee', 'resident', 'none'] },
    { name: 'employer', type: 'string' },
    { name: 'lastContributionMonth', type: 'string' },
    { name: 'minimumLivingAssistance', type: 'boolean' },
  ],
};

export const DATASETS: Readonly<Record<DatasetName, DatasetDef>> = {
  population: POPULATION,
  housing: HOUSING,
  social_security: SOCIAL_SECURITY,
};

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(DATASETS, name);
}

export function fieldDef(dataset: DatasetDef, field: string): FieldDef | undefined {
  return dataset.fields.find((f) => f.name === field);
}
