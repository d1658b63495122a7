/**
 * Property: whatever operation anyone sends, for whatever purpose, the gateway never answers 500
 * and never returns data outside the caller's grants.
 *
 * fast-check generates operations over the shared-data schema (random selections of Person, House
 * and SocialSecurityAccount fields with nested relations, filters, orderBy, first, aliases, inline
 * and named fragments) sent by random callers (street staff of random streets, street admins, data
 * owners, auditors) with random purposes (the six duties and garbage). Every answer is checked
 * against the caller's access plan (`authorizer.plan(org, purpose)`): each returned dataset field
 * must be granted, a field granted masked must look masked, and every returned person, house or
 * account must belong to the caller's street (checked in the source database by key).
 *
 * One gateway per backend for all runs (about 30 s on PGlite; PROPERTY_RUNS overrides the count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import { BACKENDS, createTestGateway, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import { SYNTHETIC_STREET_CODES } from '../../demo/synthetic-data.ts';
import type { AccessPlan } from '../../policies/access-plan.ts';

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);

const DUTIES = ['elderly-allowance', 'minimum-living-assistance', 'rental-registration', 'illegal-construction', 'grid-inspection', 'employment-assistance'];
const GARBAGE_PURPOSES = ['', 'no-such-duty', "'; drop table audit_event; --", 'ELDERLY-ALLOWANCE', 'elderly-allowance ', '👩‍💻'];

const TYPE_DATASET: Readonly<Record<string, DatasetName>> = { Person: 'population', House: 'housing', SocialSecurityAccount: 'social_security' };

const SCALARS: Readonly<Record<string, readonly string[]>> = {
  Person: ['idNumber', 'name', 'gender', 'birthDate', 'age', 'ethnicity', 'phone', 'hukouAddress', 'residenceAddress', 'streetCode', 'residentSince'],
  House: ['id', 'address', 'streetCode', 'buildingArea', 'usage', 'tenure', 'ownerIdNumber', 'ownerName', 'builtYear', 'registeredAt'],
  SocialSecurityAccount: ['idNumber', 'pensionStatus', 'monthlyPension', 'medicalInsuranceType', 'employer', 'lastContributionMonth', 'minimumLivingAssistance'],
};
const RELATIONS: Readonly<Record<string, readonly [string, string][]>> = {
  Person: [
    ['household', 'House'],
    ['socialSecurity', 'SocialSecurityAccount'],
  ],
  House: [['residents', 'Person']],
  SocialSecurityAccount: [],
};

/** What a field granted `masked` may look like (DOMAIN.md masks), or null. */
const MASKED: Readonly<Record<string, RegExp>> = {
  idNumber: /^(\d{6}\*+[\dX]{4}|\*+)$/,
  ownerIdNumber: /^(\d{6}\*+[\dX]{4}|\*+)$/,
  name: /^(\p{Script=Han}{1,2}\*+|\*+)$/u,
  ownerName: /^(\p{Script=Han}{1,2}\*+|\*+)$/u,
  phone: /^(\d{3}\*+\d{4}|\*+)$/,
  hukouAddress: /^\D*\*\*\*$/,
  residenceAddress: /^\D*\*\*\*$/,
  address: /^\D*\*\*\*$/,
  birthDate: /^(\d{4}|\*{4})$/,
};

// ---- the operation model -------------------------------------------------------------------

type Selection =
  | { kind: 'field'; name: string; alias?: boolean; children?: Selection[] }
  | { kind: 'inline'; children: Selection[] }
  | { kind: 'named'; children: Selection[] };

interface Root {
  field: 'person' | 'people' | 'house' | 'houses' | 'socialSecurityAccount';
  args: string;
  /** For connections: totalCount, pageInfo, and the node selection. */
  totalCount: boolean;
  pageInfo: boolean;
  node: Selection[];
}

interface Operation {
  roots: Root[];
}

// Mostly valid page sizes; 101 and -1 now and then (refused before any read).
const FIRSTS = [0, 1, 2, 5, 20, 50, 100, 1, 2, 5, 10, 20, 1, 3, 5, 10, 20, 50, 101, -1];

/** The fields an operation may pick from: all of them, or only those a plan grants. */
interface Pools {
  readonly scalars: Readonly<Record<string, readonly string[]>>;
  readonly relations: Readonly<Record<string, readonly [string, string][]>>;
  /** Fields usable in filters and sorts (granted in full, for a plan's pools). */
  readonly full: Readonly<Record<string, readonly string[]>>;
}

const ALL: Pools = { scalars: SCALARS, relations: RELATIONS, full: SCALARS };

/** Mostly-granted pools: what a caller who knows their grants would ask for. */
function grantedPools(plan: AccessPlan): Pools {
  const scalars: Record<string, string[]> = {};
  const full: Record<string, string[]> = {};
  const relations: Record<string, [string, string][]> = {};
  for (const [type, fields] of Object.entries(SCALARS)) {
    const granted = plan.datasets.get(TYPE_DATASET[type]!)?.fields;
    scalars[type] = fields.filter((f) => granted?.has(f));
    full[type] = fields.filter((f) => granted?.get(f) === 'full');
  }
  for (const [type, list] of Object.entries(RELATIONS)) relations[type] = list.filter(([, target]) => scalars[target]!.length > 0);
  return { scalars, relations, full };
}

function selectionOf(type: string, depth: number, pools: Pools): fc.Arbitrary<Selection[]> {
  const pool = pools.scalars[type]!.length > 0 ? pools.scalars[type]! : SCALARS[type]!;
  const scalars = fc.subarray([...pool], { minLength: 1, maxLength: Math.min(5, pool.length) });
  const relationPool = pools.relations[type]!;
  const relations =
    depth >= 2 || relationPool.length === 0
      ? fc.constant([] as Selection[])
      : fc.subarray([...relationPool]).chain((picked) =>
          picked.length === 0
            ? fc.constant([] as Selection[])
            : fc.tuple(...picked.map(([name, target]) => selectionOf(target, depth + 1, pools).map((children): Selection => ({ kind: 'field', name, children })))),
        );
  return fc
    .tuple(scalars, relations, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), fc.constantFrom('plain', 'inline', 'named', 'split'))
    .map(([names, rels, aliasFlags, wrap]) => {
      const fields: Selection[] = [...names.map((name, i): Selection => ({ kind: 'field', name, alias: aliasFlags[i] })), ...rels];
      if (wrap === 'inline') return [{ kind: 'inline', children: fields }];
      if (wrap === 'named') return [{ kind: 'named', children: fields }];
      if (wrap === 'split' && fields.length > 1) return [fields[0]!, { kind: 'named', children: fields.slice(1) }];
      return fields;
    });
}

const FILTER_VALUES = ['3101', '南京', 'female', 'x', '310101002', "'", 'rented', 'residential'];
const STRING_FILTERABLE: Readonly<Record<string, readonly string[]>> = {
  Person: ['name', 'gender', 'idNumber', 'streetCode', 'phone', 'ethnicity', 'hukouAddress', 'residenceAddress'],
  House: ['address', 'usage', 'tenure', 'ownerName', 'streetCode', 'ownerIdNumber'],
};
const ORDERABLE: Readonly<Record<string, readonly string[]>> = {
  Person: ['idNumber', 'name', 'birthDate', 'residentSince', 'streetCode'],
  House: ['id', 'address', 'buildingArea', 'builtYear', 'registeredAt'],
};

function rootOf(ids: { persons: string[]; houses: string[] }, pools: Pools): fc.Arbitrary<Root> {
  const pick = (candidates: readonly string[], type: string) => {
    const usable = candidates.filter((f) => pools.full[type]!.includes(f));
    return usable.length > 0 ? usable : candidates;
  };
  const connection = (field: 'people' | 'houses', type: 'Person' | 'House') =>
    fc
      .record({
        filter: fc.option(
          fc.tuple(fc.constantFrom(...pick(STRING_FILTERABLE[type]!, type)), fc.constantFrom('eq', 'startsWith', 'ne'), fc.constantFrom(...FILTER_VALUES)),
          { nil: undefined, freq: 3 },
        ),
        age: type === 'Person' && pools.full.Person!.includes('age') ? fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }) : fc.constant(undefined),
        orderBy: fc.option(fc.tuple(fc.constantFrom(...pick(ORDERABLE[type]!, type)), fc.constantFrom('ASC', 'DESC')), { nil: undefined, freq: 3 }),
        first: fc.option(fc.constantFrom(...FIRSTS), { nil: undefined }),
        totalCount: fc.boolean(),
        pageInfo: fc.boolean(),
        node: selectionOf(type, 0, pools),
      })
      .map((r): Root => {
        const filters = [r.filter ? `${r.filter[0]}: { ${r.filter[1]}: ${JSON.stringify(r.filter[2])} }` : undefined, r.age !== undefined ? `age: { gte: ${r.age} }` : undefined].filter(Boolean);
        const args = [
          filters.length ? `filter: { ${filters.join(', ')} }` : '',
          r.orderBy ? `orderBy: { field: ${r.orderBy[0]}, direction: ${r.orderBy[1]} }` : '',
          r.first !== undefined ? `first: ${r.first}` : '',
        ].filter(Boolean);
        return { field, args: args.length ? `(${args.join(', ')})` : '', totalCount: r.totalCount, pageInfo: r.pageInfo, node: r.node };
      });
  const lookup = (field: 'person' | 'house' | 'socialSecurityAccount', type: string, arg: string, keys: string[]) =>
    fc.tuple(fc.constantFrom(...keys, 'unknown-id'), selectionOf(type, 0, pools)).map(
      ([key, node]): Root => ({ field, args: `(${arg}: ${JSON.stringify(key)})`, totalCount: false, pageInfo: false, node }),
    );
  const roots: { weight: number; arbitrary: fc.Arbitrary<Root> }[] = [];
  const usable = (type: string) => pools.scalars[type]!.length > 0;
  if (usable('Person')) roots.push({ weight: 4, arbitrary: connection('people', 'Person') }, { weight: 1, arbitrary: lookup('person', 'Person', 'idNumber', ids.persons) });
  if (usable('House')) roots.push({ weight: 4, arbitrary: connection('houses', 'House') }, { weight: 1, arbitrary: lookup('house', 'House', 'id', ids.houses) });
  if (usable('SocialSecurityAccount')) roots.push({ weight: 1, arbitrary: lookup('socialSecurityAccount', 'SocialSecurityAccount', 'idNumber', ids.persons) });
  if (roots.length === 0) return rootOf(ids, ALL);
  return fc.oneof(...roots);
}

// ---- printing ------------------------------------------------------------------------------

interface Printed {
  text: string;
  /** Response key → field name, per alias given while printing. */
  aliases: Map<Selection, string>;
}

function print(operation: Operation): Printed {
  const fragments: string[] = [];
  const aliases = new Map<Selection, string>();
  let counter = 0;
  const printSet = (selections: Selection[], type: string): string =>
    selections
      .map((s) => {
        if (s.kind === 'inline') return `... on ${type} { ${printSet(s.children, type)} }`;
        if (s.kind === 'named') {
          const name = `F${fragments.length}_${counter++}`;
          fragments.push(`fragment ${name} on ${type} { ${printSet(s.children, type)} }`);
          return `...${name}`;
        }
        let head = s.name;
        if (s.alias) {
          const alias = `a${counter++}`;
          aliases.set(s, alias);
          head = `${alias}: ${s.name}`;
        }
        if (!s.children) return head;
        const target = RELATIONS[type]!.find(([n]) => n === s.name)![1];
        return `${head} { ${printSet(s.children, target)} }`;
      })
      .join(' ');
  const roots = operation.roots
    .map((root, i) => {
      const type = root.field === 'people' || root.field === 'person' ? 'Person' : root.field === 'socialSecurityAccount' ? 'SocialSecurityAccount' : 'House';
      const key = `r${i}`;
      if (root.field === 'people' || root.field === 'houses') {
        const parts = [`edges { cursor node { ${printSet(root.node, type)} } }`];
        if (root.totalCount) parts.push('totalCount');
        if (root.pageInfo) parts.push('pageInfo { hasNextPage endCursor }');
        return `${key}: ${root.field}${root.args} { ${parts.join(' ')} }`;
      }
      return `${key}: ${root.field}${root.args} { ${printSet(root.node, type)} }`;
    })
    .join(' ');
  return { text: `query { ${roots} } ${fragments.join(' ')}`, aliases };
}

// ---- the check -----------------------------------------------------------------------------

interface Seen {
  persons: Set<string>;
  houses: Set<string>;
  accounts: Set<string>;
}

function flatten(selections: Selection[]): Extract<Selection, { kind: 'field' }>[] {
  return selections.flatMap((s) => (s.kind === 'field' ? [s] : flatten(s.children)));
}

/** Checks one returned object of `type` against the plan; records keys for the street check. */
function checkObject(type: string, object: any, selections: Selection[], plan: AccessPlan, aliases: Map<Selection, string>, seen: Seen, problems: string[]) {
  if (object === null || object === undefined) return;
  const dataset = TYPE_DATASET[type]!;
  const access = plan.datasets.get(dataset);
  if (!access) problems.push(`${type} returned without any grant on ${dataset}`);
  for (const selection of flatten(selections)) {
    const key = aliases.get(selection) ?? selection.name;
    if (!(key in object)) continue;
    const value = object[key];
    if (selection.children) {
      const target = RELATIONS[type]!.find(([n]) => n === selection.name)![1];
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) checkObject(target, item, selection.children, plan, aliases, seen, problems);
      continue;
    }
    const granted = access?.fields.get(selection.name);
    if (value === null) continue;
    if (!granted) {
      problems.push(`${dataset}.${selection.name} returned but not granted (${JSON.stringify(value)})`);
      continue;
    }
    if (granted === 'masked') {
      const pattern = MASKED[selection.name];
      const ok = pattern ? pattern.test(String(value)) : value === '***';
      if (!ok) problems.push(`${dataset}.${selection.name} is granted masked but came back ${JSON.stringify(value)}`);
    }
    if (selection.name === 'streetCode' && value !== plan.street) problems.push(`${type}.streetCode ${value} is not the caller's street ${plan.street}`);
    if (granted === 'full') {
      if (type === 'Person' && selection.name === 'idNumber') seen.persons.add(String(value));
      if (type === 'House' && selection.name === 'id') seen.houses.add(String(value));
      if (type === 'SocialSecurityAccount' && selection.name === 'idNumber') seen.accounts.add(String(value));
    }
  }
}

describe.each(BACKENDS)('property: no 500, no data outside the grants, on %s', (backend) => {
  let gw: TestGateway;
  let schema: GraphQLSchema;
  const ids = { persons: [] as string[], houses: [] as string[] };
  const streetOfPerson = new Map<string, string>();
  const streetOfHouse = new Map<string, string>();
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 600 });
    schema = (gw.gateway.yoga as unknown as { getEnveloped(c: object): { schema: GraphQLSchema } }).getEnveloped({}).schema;
    const persons = await sql<{ id: string; street: string }>`select id_number as id, street_code as street from population.person`.execute(gw.runtime.databases.population);
    for (const p of persons.rows) streetOfPerson.set(p.id, p.street);
    const houses = await sql<{ id: string; street: string }>`select id, street_code as street from housing.house`.execute(gw.runtime.databases.housing);
    for (const h of houses.rows) streetOfHouse.set(String(h.id), h.street);
    ids.persons = persons.rows.filter((_, i) => i % 25 === 0).map((p) => p.id);
    ids.houses = houses.rows.filter((_, i) => i % 25 === 0).map((h) => String(h.id));
  });
  afterAll(async () => gw?.close());

  it('the model matches the schema', () => {
    for (const [type, fields] of Object.entries(SCALARS)) {
      const object = schema.getType(type);
      expect(isObjectType(object)).toBe(true);
      if (!isObjectType(object)) continue;
      for (const f of fields) expect(object.getFields()[f], `${type}.${f}`).toBeDefined();
      for (const [relation, target] of RELATIONS[type]!) expect(getNamedType(object.getFields()[relation]!.type).name).toBe(target);
      // Every dataset field GraphQL shows is generated (a new field must join the property).
      const dataset = DATASETS[TYPE_DATASET[type]!];
      for (const def of dataset.fields) if (!def.internal) expect(fields, `${type}.${def.name}`).toContain(def.name);
    }
  });

  it('the check itself catches data outside a plan (it is not vacuous)', async () => {
    const clerk = await gw.token({ sub: 'prop-self-check', org: 'street:310101002', roles: ['street_staff'] });
    const node: Selection[] = [
      { kind: 'field', name: 'idNumber' },
      { kind: 'field', name: 'birthDate' },
      { kind: 'field', name: 'hukouAddress' },
    ];
    const printed = print({ roots: [{ field: 'people', args: '(first: 5)', totalCount: false, pageInfo: false, node }] });
    const { body } = await gw.graphql(printed.text, { token: clerk, purpose: 'elderly-allowance' });
    const nodes = body.data.r0.edges.map((e: any) => e.node);
    expect(nodes.length).toBe(5);
    const check = (plan: AccessPlan) => {
      const problems: string[] = [];
      const seen: Seen = { persons: new Set(), houses: new Set(), accounts: new Set() };
      for (const n of nodes) checkObject('Person', n, node, plan, printed.aliases, seen, problems);
      for (const id of seen.persons) if (streetOfPerson.get(id) !== plan.street) problems.push(`street of ${id}`);
      return problems;
    };
    expect(check(gw.runtime.authorizer.plan('street:310101002', 'elderly-allowance'))).toEqual([]);
    // birthDate is not granted under rental-registration, and idNumber only masked there.
    expect(check(gw.runtime.authorizer.plan('street:310101002', 'rental-registration')).join('\n')).toMatch(/birthDate returned but not granted[\s\S]*idNumber is granted masked/);
    // Another street's plan: these persons are not theirs.
    expect(check(gw.runtime.authorizer.plan('street:310101013', 'elderly-allowance')).join('\n')).toMatch(/street of/);
  });

  it(`${NUM_RUNS} random operations by random callers`, async () => {
    const streets = [...SYNTHETIC_STREET_CODES, '310101999'];
    const caller = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...streets).map((s) => ({ org: `street:${s}`, roles: ['street_staff'] as Role[] })) },
      { weight: 1, arbitrary: fc.constantFrom(...streets).map((s) => ({ org: `street:${s}`, roles: ['street_admin'] as Role[] })) },
      { weight: 1, arbitrary: fc.constantFrom('dept:public-security', 'dept:housing', 'dept:hrss').map((org) => ({ org, roles: ['data_owner'] as Role[] })) },
      { weight: 1, arbitrary: fc.constant({ org: 'office:security', roles: ['auditor'] as Role[] }) },
    );
    const purpose = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...DUTIES) }, { weight: 1, arbitrary: fc.constantFrom(...GARBAGE_PURPOSES) });
    // Most operations ask for what the caller's plan grants (to reach data), some for anything.
    const scenario = fc.tuple(caller, purpose, fc.integer({ min: 0, max: 4 })).chain(([who, why, mode]) => {
      const pools = mode === 0 ? ALL : grantedPools(gw.runtime.authorizer.plan(who.org, why.trim()));
      return fc.array(rootOf(ids, pools), { minLength: 1, maxLength: 3 }).map((roots) => ({ who, why, op: { roots } as Operation }));
    });
    const outcomes = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(scenario, async ({ who, why, op }) => {
        const key = `${who.org}/${who.roles[0]}`;
        if (!tokens.has(key)) tokens.set(key, await gw.token({ sub: `prop-${key}`, org: who.org, roles: who.roles }));
        const printed = print(op);
        const { status, body } = await gw.graphql(printed.text, { token: tokens.get(key)!, purpose: why || undefined });
        const outcome = body?.errors?.[0]?.extensions?.code ?? (body?.data ? 'DATA' : String(status));
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        const problems: string[] = [];
        if (status >= 500) problems.push(`HTTP ${status}`);
        for (const error of body?.errors ?? []) if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') problems.push(`internal error: ${error.message}`);
        const data = body?.data;
        if (data) {
          // The gateway reads X-Purpose trimmed, as HTTP clients send it.
          const plan = gw.runtime.authorizer.plan(who.org, why.trim());
          const reads = op.roots.some((r) => data[`r${op.roots.indexOf(r)}`] != null);
          if (reads && (!who.roles.includes('street_staff') || plan.refusal)) problems.push(`data for ${who.roles[0]} under ${JSON.stringify(why)}: ${plan.refusal}`);
          const seen: Seen = { persons: new Set(), houses: new Set(), accounts: new Set() };
          op.roots.forEach((root, i) => {
            const value = data[`r${i}`];
            const type = root.field === 'people' || root.field === 'person' ? 'Person' : root.field === 'socialSecurityAccount' ? 'SocialSecurityAccount' : 'House';
            const nodes = root.field === 'people' || root.field === 'houses' ? (value?.edges ?? []).map((e: any) => e.node) : [value];
            for (const node of nodes) checkObject(type, node, root.node, plan, printed.aliases, seen, problems);
          });
          for (const id of seen.persons) if (streetOfPerson.get(id) !== plan.street) problems.push(`person ${id} of street ${streetOfPerson.get(id)} returned`);
          for (const id of seen.accounts) if (streetOfPerson.get(id) !== plan.street) problems.push(`account ${id} of street ${streetOfPerson.get(id)} returned`);
          for (const id of seen.houses) if (streetOfHouse.get(id) !== plan.street) problems.push(`house ${id} of street ${streetOfHouse.get(id)} returned`);
        }
        if (problems.length > 0) {
          throw new Error(`${problems.join('\n')}\ncaller ${key}, purpose ${JSON.stringify(why)}\n${printed.text}\n${JSON.stringify(body).slice(0, 2000)}`);
        }
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: 240_000, ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}) },
    );
    // The generator must reach real answers, not only refusals.
    expect(outcomes.get('DATA') ?? 0, JSON.stringify([...outcomes])).toBeGreaterThan(NUM_RUNS / 10);
    expect(outcomes.get('FORBIDDEN') ?? 0).toBeGreaterThan(0);
    console.info(`property outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  }, 300_000);
});
