/**
 * One rule per fact (issue 11 §6, issue 17 item 9): the same input gets the same verdict on every
 * path that admits it. Row conditions: the policy files, the admin API (validateGrant) and the HTTP
 * source protocol (both its client and its service run parseFindBody/parseLookupBody). Duties: the
 * duty catalogue file and the `upsertDuty` mutation. Before, the protocol took an empty `in` list,
 * internal fields, impossible dates and ordered booleans, and the API took `-x` as a duty id.
 */
import { describe, expect, it } from 'vitest';
import { newTrace } from '../../audit/audit-event.ts';
import { MAX_CONDITION_DEPTH, MAX_IN_VALUES, validateCondition, type Condition } from '../../core/conditions.ts';
import { POPULATION, SOCIAL_SECURITY, type DatasetDef } from '../../core/datasets.ts';
import { isDutyId } from '../../core/identity.ts';
import { parseFindBody, parseLookupBody, ProtocolError } from '../../connectors/http/http-protocol.ts';
import { validateDuty, validateGrant } from '../../policies/grant-admission.ts';
import type { DutyDef, GrantDef } from '../../policies/policy-definitions.ts';
import { parseDutiesFile, parseGrantsFile } from '../../policies/policy-files/parse-policy-files.ts';
import { adminResolvers } from '../../schema/admin/admin-schema.ts';
import { RESOLVER_CONTEXT } from '../../schema/resolver-context.ts';

const nested = (depth: number): unknown => (depth === 0 ? { field: 'age', op: 'gte', value: 65 } : { all: [nested(depth - 1)] });

/** [name, dataset, condition, accepted?] */
const CONDITIONS: readonly [string, DatasetDef, unknown, boolean][] = [
  ['a comparison', POPULATION, { field: 'age', op: 'gte', value: 65 }, true],
  ['an in list', POPULATION, { field: 'gender', op: 'in', value: ['male', 'female'] }, true],
  ['a prefix', POPULATION, { field: 'residenceAddress', op: 'startsWith', value: '上海市' }, true],
  ['a null with eq', POPULATION, { field: 'phone', op: 'eq', value: null }, true],
  ['a boolean with eq', SOCIAL_SECURITY, { field: 'minimumLivingAssistance', op: 'eq', value: true }, true],
  [`nesting ${MAX_CONDITION_DEPTH} deep`, POPULATION, nested(MAX_CONDITION_DEPTH), true],
  [`${MAX_IN_VALUES} in values`, POPULATION, { field: 'ethnicity', op: 'in', value: Array.from({ length: MAX_IN_VALUES }, (_, i) => `e${i}`) }, true],
  ['an empty in list', POPULATION, { field: 'gender', op: 'in', value: [] }, false],
  [`${MAX_IN_VALUES + 1} in values`, POPULATION, { field: 'ethnicity', op: 'in', value: Array.from({ length: MAX_IN_VALUES + 1 }, (_, i) => `e${i}`) }, false],
  [`nesting ${MAX_CONDITION_DEPTH + 1} deep`, POPULATION, nested(MAX_CONDITION_DEPTH + 1), false],
  ['an internal field', POPULATION, { field: 'houseId', op: 'eq', value: 'h1' }, false],
  ['an unknown field', POPULATION, { field: 'income', op: 'gt', value: 1 }, false],
  ['an unknown operator', POPULATION, { field: 'name', op: 'like', value: '张%' }, false],
  ['an impossible date', POPULATION, { field: 'birthDate', op: 'lt', value: '2026-02-31' }, false],
  ['year 0', POPULATION, { field: 'birthDate', op: 'lt', value: '0000-01-01' }, false],
  ['an empty prefix', POPULATION, { field: 'name', op: 'startsWith', value: '' }, false],
  ['a prefix on a number', POPULATION, { field: 'age', op: 'startsWith', value: '6' }, false],
  ['null with gt', POPULATION, { field: 'age', op: 'gt', value: null }, false],
  ['null in an in list', POPULATION, { field: 'gender', op: 'in', value: ['male', null] }, false],
  ['an ordered boolean', SOCIAL_SECURITY, { field: 'minimumLivingAssistance', op: 'gt', value: false }, false],
  ['a value outside the enumeration', SOCIAL_SECURITY, { field: 'pensionStatus', op: 'eq', value: 'retired' }, false],
  ['a fractional int', POPULATION, { field: 'age', op: 'gte', value: 65.5 }, false],
  ['an unsafe integer', POPULATION, { field: 'age', op: 'gte', value: 2 ** 60 }, false],
  ['a list for eq', POPULATION, { field: 'name', op: 'eq', value: ['a'] }, false],
  ['an empty all', POPULATION, { all: [] }, false],
  ['all next to a field', POPULATION, { all: [{ field: 'age', op: 'gte', value: 65 }], field: 'age' }, false],
  ['an extra key', POPULATION, { field: 'age', op: 'gte', value: 65, sql: '1=1' }, false],
  ['a missing value', POPULATION, { field: 'age', op: 'gte' }, false],
  ['a list as condition', POPULATION, [{ field: 'age', op: 'gte', value: 65 }], false],
];

const GRANT_FIELDS: Record<string, Record<string, 'full'>> = {
  population: { name: 'full', streetCode: 'full' },
  social_security: { employer: 'full' },
};
const OWNER: Record<string, string> = { population: 'dept:public-security', social_security: 'dept:hrss' };
const DUTIES: DutyDef[] = [{ id: 'elderly-allowance', title: 'Elderly allowance', delegatedBy: 'dept:civil-affairs', streets: 'all' }];

function grantWith(dataset: DatasetDef, rows: unknown): GrantDef {
  return { id: 'g', owner: OWNER[dataset.name]!, dataset: dataset.name, duty: 'elderly-allowance', streets: 'all', fields: GRANT_FIELDS[dataset.name]!, rows: rows as Condition, validFrom: null, validUntil: null };
}

/** The policy-file verdict: a grants file carrying the condition as its rows (YAML takes JSON). */
function fileAccepts(dataset: DatasetDef, condition: unknown): boolean {
  const grant = grantWith(dataset, null);
  const yaml = `grants:\n  - ${JSON.stringify({ ...grant, rows: condition })}\n`;
  return parseGrantsFile(yaml, 'grants/t.yaml').problems.length === 0;
}

function protocolAccepts(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (error) {
    if (error instanceof ProtocolError) return false;
    throw error;
  }
}

describe('row conditions: one verdict on every path', () => {
  it.each(CONDITIONS)('%s', (_name, dataset, condition, accepted) => {
    const verdicts = {
      validator: validateCondition(dataset, condition).length === 0,
      policyFile: fileAccepts(dataset, condition),
      adminApi: validateGrant(grantWith(dataset, condition), DUTIES).length === 0,
      protocolFind: protocolAccepts(() => parseFindBody(dataset, { fields: [dataset.key], where: [condition], conditions: [], first: 1 })),
      protocolLookup: protocolAccepts(() => parseLookupBody(dataset, { by: dataset.key, keys: ['k'], fields: [dataset.key], conditions: [condition] })),
    };
    expect(verdicts).toEqual({ validator: accepted, policyFile: accepted, adminApi: accepted, protocolFind: accepted, protocolLookup: accepted });
  });

  it('never echoes a value given in a condition (filters carry ID numbers and names)', () => {
    const idNumber = '31010119560101123X';
    const cases: unknown[] = [
      { field: 'age', op: 'gte', value: idNumber },
      { field: 'gender', op: 'eq', value: idNumber },
      { field: 'birthDate', op: 'eq', value: idNumber },
      { field: 'name', op: 'startsWith', value: [idNumber] },
      { field: 'age', op: 'in', value: [idNumber] },
    ];
    for (const condition of cases) {
      const issues = validateCondition(POPULATION, condition);
      expect(issues.length).toBeGreaterThan(0);
      for (const issue of issues) expect(issue.message).not.toContain(idNumber);
      try {
        parseFindBody(POPULATION, { fields: ['idNumber'], where: [condition], conditions: [], first: 1 });
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).not.toContain(idNumber);
      }
    }
  });
});

/** [name, duty, accepted?] */
const DUTY_CASES: readonly [string, DutyDef, boolean][] = [
  ['a plain duty', { id: 'street-cleaning', title: 'Street cleaning', delegatedBy: 'dept:urban-management', streets: ['310101002'] }, true],
  ['a 64-character id', { id: 'a'.repeat(64), title: 'Long', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, true],
  ['a 65-character id', { id: 'a'.repeat(65), title: 'Long', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['an id starting with a hyphen', { id: '-x', title: 'Hyphen', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['an id in capitals', { id: 'Duty', title: 'Caps', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['an id with an underscore', { id: 'a_b', title: 'Underscore', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['a formula as id', { id: '=HYPERLINK(1)', title: 'Formula', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['an empty title', { id: 'no-title', title: ' ', delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['a 201-character title', { id: 'long-title', title: 'x'.repeat(201), delegatedBy: 'dept:civil-affairs', streets: ['310101002'] }, false],
  ['a non-department delegator', { id: 'by-street', title: 'By street', delegatedBy: 'street:310101002', streets: ['310101002'] }, false],
  ['a department with a leading hyphen', { id: 'odd-dept', title: 'Odd', delegatedBy: 'dept:-x', streets: ['310101002'] }, false],
  ['a short street code', { id: 'short-street', title: 'Short', delegatedBy: 'dept:civil-affairs', streets: ['3101010'] }, false],
  ['a street listed twice', { id: 'twice', title: 'Twice', delegatedBy: 'dept:civil-affairs', streets: ['310101002', '310101002'] }, false],
];

async function apiAccepts(duty: DutyDef): Promise<boolean> {
  let stored = false;
  const deps = {
    store: { upsertDuty: async (d: DutyDef) => ((stored = true), d) },
    authorizer: {},
    policyChanged: async () => {},
    // The change is committed with its audit event: reaching appendWith is being stored.
    audit: { append: async () => {}, appendWith: async () => ((stored = true), undefined) },
  } as unknown as Parameters<typeof adminResolvers>[0];
  const context = { [RESOLVER_CONTEXT]: { requestId: 'r', viewer: { sub: 'admin', org: 'office:platform', roles: ['platform_admin'] }, trace: newTrace() } };
  try {
    await adminResolvers(deps).Mutation.upsertDuty(null, { input: { ...duty, streets: duty.streets === 'all' ? null : duty.streets } }, context);
    return stored;
  } catch (error) {
    if ((error as { code?: string }).code === 'BAD_USER_INPUT') return false;
    throw error;
  }
}

describe('duties: one verdict for the catalogue file and upsertDuty', () => {
  it.each(DUTY_CASES)('%s', async (_name, duty, accepted) => {
    const yaml = `duties:\n  - ${JSON.stringify(duty)}\n`;
    const verdicts = {
      validateDuty: validateDuty(duty).length === 0,
      dutyFile: parseDutiesFile(yaml, 'duties.yaml').problems.length === 0,
      upsertDuty: await apiAccepts(duty),
    };
    expect(verdicts).toEqual({ validateDuty: accepted, dutyFile: accepted, upsertDuty: accepted });
    // A duty the catalogue admits is one X-Purpose can name, and the other way round.
    if (accepted) expect(isDutyId(duty.id)).toBe(true);
  });
});
