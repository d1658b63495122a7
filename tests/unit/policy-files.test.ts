import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS, HOUSING, POPULATION, SOCIAL_SECURITY } from '../../core/datasets.ts';
import { validateCondition as validateConditionIssues } from '../../core/conditions.ts';
import { grantValidity, isGrantActive, validateDuty, validateGrant } from '../../policies/grant-admission.ts';
import type { DutyDef, GrantDef, PolicySet } from '../../policies/policy-definitions.ts';
import { DEFAULT_POLICY_DIR, loadPolicyDirectory } from '../../policies/policy-files/load-policy-directory.ts';
import { overlapWarnings } from '../../policies/policy-files/overlap-warnings.ts';
import { relationWarnings } from '../../policies/policy-files/relation-warnings.ts';
import { checkPolicyTexts, parseDutiesFile, parseGrantsFile, validatePolicySet } from '../../policies/policy-files/parse-policy-files.ts';
import type { PolicyProblem } from '../../policies/policy-files/yaml-locations.ts';

/** The one condition validator, as messages. */
const validateCondition = (dataset: Parameters<typeof validateConditionIssues>[0], condition: unknown) =>
  validateConditionIssues(dataset, condition).map((i) => i.message);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const XUHUI = ['310104003', '310104004', '310104007', '310104008', '310104010', '310104011', '310104012', '310104013', '310104014', '310104015'];
const HUANGPU = ['310101002', '310101013', '310101015', '310101017', '310101018', '310101019', '310101020', '310101021', '310101022', '310101023'];

let shipped: { set: PolicySet; problems: PolicyProblem[] };
let dutiesText: string;

beforeAll(async () => {
  shipped = await loadPolicyDirectory();
  dutiesText = await readFile(path.join(DEFAULT_POLICY_DIR, 'duties.yaml'), 'utf8');
});

const grant = (id: string): GrantDef => {
  const g = shipped.set.grants.find((x) => x.id === id);
  if (!g) throw new Error(`no grant ${id}`);
  return g;
};

describe('the shipped policies', () => {
  it('validate clean', () => {
    expect(shipped.problems).toEqual([]);
    expect(shipped.set.duties).toHaveLength(6);
    expect(shipped.set.grants.length).toBeGreaterThanOrEqual(12);
  });

  it('define the six duties of DOMAIN.md with their delegations', () => {
    const byId = Object.fromEntries(shipped.set.duties.map((d) => [d.id, d]));
    expect(Object.keys(byId).sort()).toEqual(
      ['elderly-allowance', 'employment-assistance', 'grid-inspection', 'illegal-construction', 'minimum-living-assistance', 'rental-registration'],
    );
    expect(byId['elderly-allowance']).toMatchObject({ delegatedBy: 'dept:civil-affairs', streets: 'all' });
    expect(byId['minimum-living-assistance']).toMatchObject({ delegatedBy: 'dept:civil-affairs', streets: 'all' });
    expect(byId['rental-registration']).toMatchObject({ delegatedBy: 'dept:housing', streets: 'all' });
    expect(byId['illegal-construction']).toMatchObject({ delegatedBy: 'dept:urban-management', streets: XUHUI });
    expect(byId['grid-inspection']).toMatchObject({ delegatedBy: 'dept:urban-management', streets: XUHUI });
    expect(byId['employment-assistance']).toMatchObject({ delegatedBy: 'dept:hrss', streets: HUANGPU });
  });

  it('are granted by the owner of each dataset, with streetCode in full on population and housing', () => {
    for (const g of shipped.set.grants) {
      expect(g.owner).toBe(DATASETS[g.dataset].owner);
      if (g.dataset !== 'social_security') expect(g.fields.streetCode).toBe('full');
      expect(validateGrant(g, shipped.set.duties)).toEqual([]);
    }
  });

  it('implement the duties table', () => {
    expect(grant('population-elderly-allowance')).toMatchObject({
      dataset: 'population',
      duty: 'elderly-allowance',
      fields: { idNumber: 'full', name: 'full', birthDate: 'full', residenceAddress: 'full', hukouAddress: 'masked' },
      rows: { field: 'age', op: 'gte', value: 65 },
    });
    expect(grant('social-security-elderly-allowance').fields).toEqual({ idNumber: 'full', pensionStatus: 'full' });
    expect(grant('population-rental-registration').fields).toMatchObject({ name: 'full', idNumber: 'masked', phone: 'full' });
    expect(grant('housing-rental-registration').fields).toMatchObject({ address: 'full', tenure: 'full', ownerName: 'full', ownerIdNumber: 'masked' });
    expect(grant('housing-grid-inspection').fields).toMatchObject({ address: 'full', usage: 'full' });
    expect(grant('population-grid-inspection').fields).toEqual({ name: 'masked', streetCode: 'full', gender: 'aggregate', birthDate: 'aggregate' });
    expect(grant('housing-illegal-construction')).toMatchObject({
      streets: XUHUI,
      fields: { address: 'full', usage: 'full', buildingArea: 'full', builtYear: 'full', ownerName: 'full' },
    });
    expect(grant('social-security-minimum-living-assistance').fields).toMatchObject({ monthlyPension: 'full', employer: 'full', minimumLivingAssistance: 'full' });
    expect(grant('housing-minimum-living-assistance').fields).toMatchObject({ ownerIdNumber: 'full', buildingArea: 'full' });
    expect(grant('social-security-employment-assistance')).toMatchObject({ streets: HUANGPU, fields: { employer: 'full', lastContributionMonth: 'full' } });
  });

  it('carry one grant that has already expired', () => {
    const expired = grant('population-elderly-allowance-phone-expired');
    expect(expired.fields.phone).toBe('full');
    expect(expired.validUntil).toMatch(/^2025-/);
    expect(isGrantActive(expired)).toBe(false);
    expect(isGrantActive(grant('population-elderly-allowance'))).toBe(true);
    expect(shipped.set.grants.filter((g) => !isGrantActive(g)).map((g) => g.id)).toEqual(['population-elderly-allowance-phone-expired']);
  });

  it('give a grant for every relation target a duty reads', () => {
    // House.residents is read under population grants: duties that need residents have both.
    for (const duty of ['rental-registration', 'grid-inspection', 'minimum-living-assistance']) {
      expect(shipped.set.grants.some((g) => g.dataset === 'housing' && g.duty === duty)).toBe(true);
      expect(shipped.set.grants.some((g) => g.dataset === 'population' && g.duty === duty)).toBe(true);
    }
    // Illegal construction reads houses only (the owner's phone cannot be granted, see housing.yaml).
    expect(shipped.set.grants.filter((g) => g.duty === 'illegal-construction').map((g) => g.dataset)).toEqual(['housing']);
    // Social security is scoped through its person: each such grant needs a population grant.
    for (const g of shipped.set.grants.filter((x) => x.dataset === 'social_security')) {
      expect(shipped.set.grants.some((p) => p.dataset === 'population' && p.duty === g.duty && isGrantActive(p))).toBe(true);
    }
  });
});

/** Problems of a grants file checked against the shipped duty catalogue. */
function grantProblems(yaml: string): PolicyProblem[] {
  return checkPolicyTexts({ file: 'duties.yaml', text: dutiesText }, [{ file: 'grants/test.yaml', text: yaml }]).problems;
}

/** A grants file with one grant; `extra` lines are appended to the grant (indented by the caller). */
const GRANT_HEAD = `grants:
  - id: test-grant
    owner: dept:public-security
    dataset: population
    duty: elderly-allowance
    streets: all
    fields:
      name: full
      streetCode: full
`; // the next line is line 10

describe('grant files: one problem per fixture, with its line', () => {
  const cases: { name: string; yaml: string; line: number; message: RegExp }[] = [
    {
      name: 'unknown field',
      yaml: GRANT_HEAD + '      shoeSize: full\n',
      line: 10,
      message: /unknown field 'shoeSize' in dataset population/,
    },
    {
      name: 'internal field',
      yaml: GRANT_HEAD + '      houseId: full\n',
      line: 10,
      message: /field 'houseId' is internal to dataset population/,
    },
    {
      name: 'bad field access',
      yaml: GRANT_HEAD + '      phone: read\n',
      line: 10,
      message: /bad access "read" for field 'phone' \(expected full, masked or aggregate\)/,
    },
    {
      name: 'unknown dataset',
      yaml: GRANT_HEAD.replace('dataset: population', 'dataset: tax'),
      line: 4,
      message: /unknown dataset "tax"/,
    },
    {
      name: 'unknown duty',
      yaml: GRANT_HEAD.replace('duty: elderly-allowance', 'duty: dog-licensing'),
      line: 5,
      message: /grant 'test-grant': unknown duty 'dog-licensing'/,
    },
    {
      name: 'department granting a dataset it does not own',
      yaml: GRANT_HEAD.replace('owner: dept:public-security', 'owner: dept:housing'),
      line: 3,
      message: /"dept:housing" does not own dataset population \(its owner is dept:public-security\)/,
    },
    {
      name: 'missing streetCode',
      yaml: GRANT_HEAD.replace('      streetCode: full\n', ''),
      line: 7,
      message: /must include streetCode: full/,
    },
    {
      name: 'condition with an unknown operator',
      yaml: GRANT_HEAD + '    rows:\n      field: age\n      op: like\n      value: 65\n',
      line: 12,
      message: /rows\.op: unknown operator 'like'/,
    },
    {
      name: 'condition with a value of the wrong type',
      yaml: GRANT_HEAD + '    rows:\n      field: age\n      op: gte\n      value: "65"\n',
      line: 13,
      message: /rows\.value: value for 'age' \(int\) must be an integer/,
    },
    {
      name: 'condition on an unknown field',
      yaml: GRANT_HEAD + '    rows:\n      all:\n        - { field: age, op: gte, value: 65 }\n        - { field: income, op: lt, value: 1000 }\n',
      line: 13,
      message: /rows\.all\[1\]\.field: unknown field 'income' in dataset population/,
    },
    {
      name: 'condition with a bad enum value',
      yaml: GRANT_HEAD + '    rows:\n      any:\n        - field: gender\n          op: in\n          value: [male, unknown]\n',
      line: 14,
      message: /rows\.any\[0\]\.value\[1\]: value for 'gender' \(string\) must be one of male, female/,
    },
    {
      name: 'condition that is not a condition',
      yaml: GRANT_HEAD + '    rows: age >= 65\n',
      line: 10,
      message: /rows: a condition is \{field, op, value\}/,
    },
    {
      name: 'bad street code',
      yaml: GRANT_HEAD.replace('streets: all', 'streets:\n      - "310101002"\n      - "31010"'),
      line: 8,
      message: /bad street code "31010" \(expected 9 digits/,
    },
    {
      name: 'bad date',
      yaml: GRANT_HEAD + '    validFrom: 2026-02-30\n',
      line: 10,
      message: /validFrom "2026-02-30" is not an ISO date/,
    },
    {
      name: 'validFrom after validUntil',
      yaml: GRANT_HEAD + '    validFrom: 2026-06-01\n    validUntil: 2026-05-31\n',
      line: 10,
      message: /validFrom 2026-06-01 is after validUntil 2026-05-31/,
    },
    {
      name: 'unknown key',
      yaml: GRANT_HEAD + '    validTo: 2026-12-31\n',
      line: 10,
      message: /unknown key 'validTo'/,
    },
    {
      name: 'unknown top-level key',
      yaml: GRANT_HEAD + 'grant:\n  - id: x\n',
      line: 10,
      message: /unknown key 'grant' \(expected 'grants'\)/,
    },
    {
      name: 'missing required key',
      yaml: GRANT_HEAD.replace('    duty: elderly-allowance\n', ''),
      line: 2,
      message: /grant 'test-grant': missing required key 'duty'/,
    },
    {
      name: 'duplicate id',
      yaml: GRANT_HEAD + GRANT_HEAD.replace('grants:\n', ''),
      line: 10,
      message: /duplicate grant id 'test-grant' \(first defined at grants\/test\.yaml:2\)/,
    },
    {
      name: 'YAML syntax error',
      yaml: GRANT_HEAD + '      phone: full\n     age: full\n',
      line: 11,
      message: /^YAML syntax error: /,
    },
    {
      name: 'duplicate YAML key',
      yaml: GRANT_HEAD + '      name: masked\n',
      line: 10,
      message: /YAML syntax error: Map keys must be unique/,
    },
  ];

  it.each(cases)('$name', ({ yaml, line, message }) => {
    const problems = grantProblems(yaml);
    expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
    expect(problems[0].file).toBe('grants/test.yaml');
    expect(problems[0].message).toMatch(message);
    expect(problems[0].line).toBe(line);
  });

  it('the head fixture itself is valid', () => {
    expect(grantProblems(GRANT_HEAD)).toEqual([]);
  });

  it('reports every problem of a grant, not only the first', () => {
    const problems = grantProblems(GRANT_HEAD.replace('owner: dept:public-security', 'owner: dept:hrss') + '      shoeSize: full\n');
    expect(problems.map((p) => p.line)).toEqual([3, 10]);
  });

  it('accepts unquoted street codes, date-times and open validity', () => {
    const problems = grantProblems(
      GRANT_HEAD.replace('streets: all', 'streets: [310101002, 310104003]') +
        '    validFrom: 2026-01-01T08:00:00+08:00\n    validUntil: null\n',
    );
    expect(problems).toEqual([]);
    const parsed = parseGrantsFile(GRANT_HEAD.replace('streets: all', 'streets: [310101002]'), 'x.yaml');
    expect(parsed.grants[0].streets).toEqual(['310101002']);
  });
});

describe('duty files', () => {
  const DUTIES = `duties:
  - id: elderly-allowance
    title: Review the elderly comprehensive allowance
    delegatedBy: dept:civil-affairs
    streets: all
`; // the next line is line 6

  it.each([
    { name: 'bad street code', yaml: DUTIES.replace('streets: all', 'streets: ["3101010020"]'), line: 5, message: /bad street code "3101010020"/ },
    { name: 'not a department', yaml: DUTIES.replace('dept:civil-affairs', 'street:310101002'), line: 4, message: /delegatedBy must be a department id/ },
    { name: 'unknown key', yaml: DUTIES + '    owner: dept:x\n', line: 6, message: /duty 'elderly-allowance': unknown key 'owner'/ },
    { name: 'missing title', yaml: DUTIES.replace('    title: Review the elderly comprehensive allowance\n', ''), line: 2, message: /missing required key 'title'/ },
    { name: 'duplicate id', yaml: DUTIES + DUTIES.replace('duties:\n', ''), line: 6, message: /duplicate duty id 'elderly-allowance' \(first defined at duties\.yaml:2\)/ },
    { name: 'not a list', yaml: 'duties: elderly-allowance\n', line: 1, message: /'duties' must be a list/ },
  ])('$name', ({ yaml, line, message }) => {
    const { problems } = checkPolicyTexts({ file: 'duties.yaml', text: yaml }, []);
    expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'duties.yaml', line });
    expect(problems[0].message).toMatch(message);
  });

  it('parses the shipped catalogue', () => {
    const { duties, problems } = parseDutiesFile(dutiesText, 'duties.yaml');
    expect(problems).toEqual([]);
    expect(duties.map((d) => d.id)).toContain('grid-inspection');
    expect(validateDuty(duties[0])).toEqual([]);
  });
});

describe('validateCondition', () => {
  it.each<[string, unknown]>([
    ['age >= 65', { field: 'age', op: 'gte', value: 65 }],
    ['derived and enum fields', { all: [{ field: 'age', op: 'lt', value: 60 }, { field: 'gender', op: 'eq', value: 'female' }] }],
    ['dates', { field: 'birthDate', op: 'lte', value: '1960-12-31' }],
    ['prefix', { field: 'residenceAddress', op: 'startsWith', value: '上海市黄浦区' }],
    ['eq null', { field: 'phone', op: 'eq', value: null }],
    ['nested any/all', { any: [{ all: [{ field: 'age', op: 'gte', value: 65 }] }, { field: 'ethnicity', op: 'ne', value: '汉族' }] }],
  ])('accepts %s', (_name, condition) => {
    expect(validateCondition(POPULATION, condition)).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'age >= 65', /a condition is/],
    ['empty any', { any: [] }, /'any' takes a non-empty list/],
    ['mixed shapes', { all: [{ field: 'age', op: 'gte', value: 1 }], field: 'age' }, /unexpected key 'field' next to 'all'/],
    ['missing value', { field: 'age', op: 'gte' }, /missing 'value'/],
    ['internal field', { field: 'houseId', op: 'eq', value: 'h1' }, /internal/],
    ['in with too many values', { field: 'idNumber', op: 'in', value: Array.from({ length: 1001 }, (_, i) => String(i)) }, /at most 1000/],
    ['in with a scalar', { field: 'age', op: 'in', value: 65 }, /'in' takes a non-empty list/],
    ['list for eq', { field: 'age', op: 'eq', value: [65] }, /only 'in' takes a list/],
    ['startsWith on a number', { field: 'age', op: 'startsWith', value: '6' }, /text fields only/],
    ['startsWith with empty prefix', { field: 'name', op: 'startsWith', value: '' }, /non-empty text prefix/],
    ['null with gt', { field: 'age', op: 'gt', value: null }, /cannot compare with null/],
    ['bad date', { field: 'birthDate', op: 'eq', value: '12/03/1956' }, /must be a date YYYY-MM-DD/],
    ['too deep', JSON.parse('{"all":['.repeat(10) + '{"field":"age","op":"gt","value":1}' + ']}'.repeat(10)), /nested deeper/],
  ])('rejects %s', (_name, condition, message) => {
    const problems = validateCondition(POPULATION, condition);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
  });

  it('checks types per dataset', () => {
    expect(validateCondition(HOUSING, { field: 'buildingArea', op: 'gt', value: 120.5 })).toEqual([]);
    expect(validateCondition(HOUSING, { field: 'builtYear', op: 'lt', value: 1990.5 })[0]).toMatch(/must be an integer/);
    expect(validateCondition(HOUSING, { field: 'usage', op: 'in', value: ['commercial', 'mixed'] })).toEqual([]);
    expect(validateCondition(SOCIAL_SECURITY, { field: 'minimumLivingAssistance', op: 'eq', value: true })).toEqual([]);
    expect(validateCondition(SOCIAL_SECURITY, { field: 'minimumLivingAssistance', op: 'eq', value: 'yes' })[0]).toMatch(/true or false/);
    expect(validateCondition(SOCIAL_SECURITY, { field: 'minimumLivingAssistance', op: 'gt', value: false })[0]).toMatch(/cannot order boolean/);
    expect(validateCondition(SOCIAL_SECURITY, { field: 'age', op: 'gt', value: 1 })[0]).toMatch(/unknown field 'age' in dataset social_security/);
  });
});

describe('validateGrant (runtime createGrant)', () => {
  const base: GrantDef = {
    id: 'housing-grid-inspection-extra',
    owner: 'dept:housing',
    dataset: 'housing',
    duty: 'grid-inspection',
    streets: ['310104003'],
    fields: { address: 'masked', streetCode: 'full' },
    rows: { field: 'usage', op: 'eq', value: 'commercial' },
    validFrom: '2026-01-01',
    validUntil: '2026-12-31',
  };
  const duties = (): readonly DutyDef[] => shipped.set.duties;

  it('accepts a valid grant', () => {
    expect(validateGrant(base, duties())).toEqual([]);
  });

  it.each<[string, Partial<GrantDef>, RegExp]>([
    ['unknown duty', { duty: 'nope' }, /unknown duty 'nope'/],
    ['wrong owner', { owner: 'dept:hrss' }, /does not own dataset housing/],
    ['bad id', { id: 'Has Spaces' }, /bad grant id/],
    ['empty streets', { streets: [] }, /streets must be 'all' or a non-empty list/],
    ['no fields', { fields: {} }, /fields must map at least one field/],
    ['bad access', { fields: { address: 'read' as never, streetCode: 'full' } }, /bad access "read"/],
    ['bad rows', { rows: { field: 'usage', op: 'eq', value: 'castle' } }, /must be one of residential, commercial, mixed/],
    ['bad period', { validFrom: '2027-01-01' }, /is after validUntil/],
    ['bad date-time', { validUntil: '2026-12-31T25:00:00Z' }, /not an ISO date/],
  ])('rejects %s', (_name, change, message) => {
    const problems = validateGrant({ ...base, ...change }, duties());
    expect(problems.join('\n')).toMatch(message);
  });

  it('validatePolicySet reports entries it did not parse without a line', () => {
    const set: PolicySet = { duties: [...duties()], grants: [{ ...base, duty: 'nope' }, { ...base }, { ...base, duty: 'grid-inspection' }] };
    const problems = validatePolicySet(set);
    expect(problems.map((p) => p.message)).toEqual([
      "duplicate grant id 'housing-grid-inspection-extra' (first defined at grants:0)",
      "duplicate grant id 'housing-grid-inspection-extra' (first defined at grants:0)",
      "grant 'housing-grid-inspection-extra': unknown duty 'nope' (not in the duty catalogue)",
    ]);
    const located = validatePolicySet(set, (entry, p) => ({ file: `store:${entry.id}`, line: p.length }));
    expect(located[2]).toMatchObject({ file: 'store:housing-grid-inspection-extra', line: 1 });
  });
});

describe('validity periods', () => {
  it('reads dates as whole days in UTC+8, validUntil inclusive', () => {
    const g = { validFrom: '2025-01-01', validUntil: '2025-12-31' };
    expect(grantValidity(g)).toEqual({
      from: Date.parse('2025-01-01T00:00:00+08:00'),
      until: Date.parse('2026-01-01T00:00:00+08:00'),
    });
    expect(isGrantActive(g, new Date('2024-12-31T23:59:59+08:00'))).toBe(false);
    expect(isGrantActive(g, new Date('2025-01-01T00:00:00+08:00'))).toBe(true);
    expect(isGrantActive(g, new Date('2025-12-31T23:59:59+08:00'))).toBe(true);
    expect(isGrantActive(g, new Date('2026-01-01T00:00:00+08:00'))).toBe(false);
  });

  it('reads date-times as instants, validUntil exclusive', () => {
    const g = { validFrom: '2026-03-01T09:00:00Z', validUntil: '2026-03-01T10:00' };
    expect(grantValidity(g)).toEqual({ from: Date.parse('2026-03-01T09:00:00Z'), until: Date.parse('2026-03-01T10:00:00+08:00') });
    expect(isGrantActive({ validFrom: null, validUntil: null }, 0)).toBe(true);
  });
});

describe('overlapWarnings: grants whose row conditions differ', () => {
  const base = (id: string, extra: Partial<GrantDef>): GrantDef => ({
    id,
    owner: 'dept:public-security',
    dataset: 'population',
    duty: 'elderly-allowance',
    streets: ['310101002'],
    fields: { name: 'full', streetCode: 'full' },
    rows: null,
    validFrom: null,
    validUntil: null,
    ...extra,
  });
  const warn = (...grants: GrantDef[]) => overlapWarnings({ duties: shipped.set.duties, grants }, () => ({ file: 'grants/x.yaml', line: 3 }));

  it('warns when one grant shows a field only on its own rows, naming both grants and the field', () => {
    const warnings = warn(
      base('g-elderly', { rows: { field: 'age', op: 'gte', value: 65 }, fields: { name: 'full', phone: 'full', streetCode: 'full' } }),
      base('g-all', {}),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: 'grants/x.yaml', line: 3 });
    expect(warnings[0]!.message).toMatch(/^warning: grants 'g-elderly' and 'g-all'.*phone/);
    expect(warnings[0]!.message).not.toMatch(/\bname\b.*will be shown/);
  });

  it('stays quiet when the rows are the same, the streets differ, the duties differ, or the all-rows grant covers the field', () => {
    const elderly = { rows: { field: 'age', op: 'gte', value: 65 } as const, fields: { name: 'full' as const, phone: 'full' as const, streetCode: 'full' as const } };
    expect(warn(base('a', elderly), base('b', { ...elderly, fields: { name: 'full', streetCode: 'full' } }))).toEqual([]);
    expect(warn(base('a', elderly), base('b', { streets: ['310101013'] }))).toEqual([]);
    expect(warn(base('a', elderly), base('b', { duty: 'minimum-living-assistance' }))).toEqual([]);
    expect(warn(base('a', elderly), base('b', { fields: { name: 'full', phone: 'full', streetCode: 'full' } }))).toEqual([]);
    expect(overlapWarnings(shipped.set)).toEqual([]);
  });
});

describe('relationWarnings: a relation into rows a condition narrows', () => {
  const grant = (id: string, dataset: GrantDef['dataset'], extra: Partial<GrantDef> = {}): GrantDef => ({
    id,
    owner: dataset === 'housing' ? 'dept:housing' : 'dept:public-security',
    dataset,
    duty: 'rental-registration',
    streets: ['310101002'],
    fields: { id: 'full', streetCode: 'full' },
    rows: null,
    validFrom: null,
    validUntil: null,
    ...extra,
  });
  const publicHousingHidden = { rows: { field: 'tenure', op: 'in', value: ['owned', 'rented'] } as const };
  const warn = (...grants: GrantDef[]) => relationWarnings({ duties: shipped.set.duties, grants }, () => ({ file: 'grants/x.yaml', line: 7 }));

  it('warns of the relation the gateway will refuse, naming both grants', () => {
    const warnings = warn(grant('people', 'population'), grant('dwellings', 'housing', publicHousingHidden));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: 'grants/x.yaml', line: 7 });
    expect(warnings[0]!.message).toMatch(/^warning: grant 'dwellings' .* grant 'people' .* population\.household is refused/);
  });

  it('stays quiet without a condition, across duties or streets, or when an unconditioned grant admits every row; warns both ways', () => {
    expect(warn(grant('people', 'population'), grant('dwellings', 'housing'))).toEqual([]);
    expect(warn(grant('people', 'population', { duty: 'grid-inspection' }), grant('dwellings', 'housing', publicHousingHidden))).toEqual([]);
    expect(warn(grant('people', 'population', { streets: ['310101013'] }), grant('dwellings', 'housing', publicHousingHidden))).toEqual([]);
    expect(warn(grant('people', 'population'), grant('dwellings', 'housing', publicHousingHidden), grant('all-dwellings', 'housing'))).toEqual([]);
    // The other way round too: an empty residents list would say everyone living there is under 65.
    const residents = warn(grant('elderly', 'population', { rows: { field: 'age', op: 'gte', value: 65 } }), grant('dwellings', 'housing'));
    expect(residents.map((w) => w.message)).toEqual([expect.stringMatching(/grant 'elderly' .* grant 'dwellings' .* housing\.residents is refused/)]);
  });
});

describe('loadPolicyDirectory and npm run policy:check', () => {
  const BROKEN = path.join('tests', 'fixtures', 'policies', 'broken');
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'lianqiao-policies-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('loads a directory and reports problems with file paths', async () => {
    const { problems } = await loadPolicyDirectory(path.join(ROOT, BROKEN));
    expect(problems.map((p) => `${path.relative(ROOT, p.file)}:${p.line}`)).toEqual([
      `${BROKEN}/grants/bad.yaml:10`,
      `${BROKEN}/grants/bad.yaml:13`,
      `${BROKEN}/grants/bad.yaml:23`,
    ]);
  });

  it('reports a missing catalogue and grants directory', async () => {
    const { problems } = await loadPolicyDirectory(tmp);
    expect(problems.map((p) => [path.basename(p.file), p.line])).toEqual([['duties.yaml', 0], ['grants', 0]]);
  });

  it('reads .yaml and .yml grant files and ignores others', async () => {
    const dir = path.join(tmp, 'mixed');
    await mkdir(path.join(dir, 'grants'), { recursive: true });
    await writeFile(path.join(dir, 'duties.yaml'), dutiesText);
    await writeFile(path.join(dir, 'grants', 'a.yml'), GRANT_HEAD);
    await writeFile(path.join(dir, 'grants', 'README.md'), '# not a policy');
    const { set, problems } = await loadPolicyDirectory(dir);
    expect(problems).toEqual([]);
    expect(set.grants.map((g) => g.id)).toEqual(['test-grant']);
  });

  it('exits 1 and prints file:line: message for a broken directory', () => {
    let status: number | null = 0;
    let stdout = '';
    try {
      execFileSync('npx', ['tsx', 'gateway/cli/policy-check.ts', BROKEN], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const e = error as { status: number | null; stdout: string };
      status = e.status;
      stdout = e.stdout;
    }
    expect(status).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${BROKEN}/grants/bad.yaml:10: grant 'population-elderly-allowance': unknown field 'shoeSize' in dataset population`);
    expect(lines[1]).toMatch(new RegExp(`^${BROKEN}/grants/bad\\.yaml:13: grant 'housing-elderly-allowance': "dept:public-security" does not own dataset housing`));
    expect(lines[2]).toBe(`${BROKEN}/grants/bad.yaml:23: grant 'population-no-such-duty': unknown duty 'dog-licensing' (not in the duty catalogue)`);
  });

  it('exits 0 with a summary for the shipped policies, warning of the one relation it refuses', () => {
    const out = execFileSync('npx', ['tsx', 'gateway/cli/policy-check.ts'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    const lines = out.trim().split('\n');
    // Under rental-registration housing is granted for owned and rented dwellings only; following
    // Person.household would tell who lives in public housing, so it is refused, and said so.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^policies\/grants\/housing\.yaml:18: warning: grant 'housing-rental-registration' .*'population-rental-registration'.* population\.household is refused/);
    expect(lines[1]).toBe(`policies OK: ${shipped.set.duties.length} duties, ${shipped.set.grants.length} grants`);
  });
});
