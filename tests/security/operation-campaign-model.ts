/**
 * The operations of the campaign (operation-campaign.test.ts): fast-check arbitraries over the
 * shared-data schema and the other roles' entry points, and their printing as GraphQL text.
 *
 * An operation has 1-3 root fields, each a look-up, a connection or another role's entry point
 * (auditEvents, myDataAccess, me). Selections mix scalar fields, relations, aliases, `__typename`,
 * inline fragments, named fragments spread one to three times and chains of fragments each
 * spreading the next twice, with `@include`/`@skip` on literals and on variables. Arguments come
 * as literals or as variables; variable values are demo ID numbers, names and phones, valid or
 * failing coercion (an object, a list, a name where a Boolean is declared, a phone where an Int is).
 *
 * Every alias encodes its field (`a<n>_<field>`), so the check reads any answer back to the schema
 * field whatever fragments and directives produced it.
 */
import fc from 'fast-check';

export type TypeName = 'Person' | 'House' | 'SocialSecurityAccount';

export const SCALARS: Readonly<Record<TypeName, readonly string[]>> = {
  Person: ['idNumber', 'name', 'gender', 'birthDate', 'age', 'ethnicity', 'phone', 'hukouAddress', 'residenceAddress', 'streetCode', 'residentSince'],
  House: ['id', 'address', 'streetCode', 'buildingArea', 'usage', 'tenure', 'ownerIdNumber', 'ownerName', 'builtYear', 'registeredAt'],
  SocialSecurityAccount: ['idNumber', 'pensionStatus', 'monthlyPension', 'medicalInsuranceType', 'employer', 'lastContributionMonth', 'minimumLivingAssistance'],
};
export const RELATIONS: Readonly<Record<TypeName, readonly (readonly [string, TypeName])[]>> = {
  Person: [
    ['household', 'House'],
    ['socialSecurity', 'SocialSecurityAccount'],
  ],
  House: [['residents', 'Person']],
  SocialSecurityAccount: [],
};

/** What the operation may pick from: all fields, or those a plan grants (and, for filters, in full). */
export interface Pools {
  readonly scalars: Readonly<Record<TypeName, readonly string[]>>;
  readonly full: Readonly<Record<TypeName, readonly string[]>>;
}
export const ALL_FIELDS: Pools = { scalars: SCALARS, full: SCALARS };

/** Demo values the arguments and variables are made of. */
export interface Values {
  readonly ownIds: readonly string[];
  readonly otherIds: readonly string[];
  readonly houses: readonly string[];
  readonly names: readonly string[];
  readonly phones: readonly string[];
}

type Directive = 'none' | 'include-true' | 'skip-false' | 'skip-true' | 'include-var' | 'skip-var';

export type Selection =
  | { kind: 'field'; name: string; alias: boolean; directive: Directive; children?: Selection[] }
  | { kind: 'typename' }
  | { kind: 'inline'; directive: Directive; children: Selection[] }
  /** `chain` fragments, each spreading the next twice, the last holding `children`; spread `repeat` times. */
  | { kind: 'named'; directive: Directive; repeat: number; chain: number; children: Selection[] };

/** An argument value: a literal, or a variable with a valid or an ill-typed value. */
export type Arg = { literal: unknown } | { variable: unknown; type: string };

export type Root =
  | { kind: 'lookup'; field: 'person' | 'house' | 'socialSecurityAccount'; type: TypeName; key: Arg; node: Selection[] }
  | { kind: 'connection'; field: 'people' | 'houses'; type: 'Person' | 'House'; filter?: Arg; first?: Arg; totalCount: boolean; node: Selection[] }
  | { kind: 'other'; field: 'auditEvents' | 'myDataAccess' | 'me' };

export interface Operation {
  readonly roots: Root[];
  readonly name: string | null;
  /** Values of the directive variables: a Boolean, or (failing coercion) a name or a phone. */
  readonly inc: unknown;
  readonly skp: unknown;
  /** An undeclared variable carrying personal data (GraphQL ignores it; the trail must too). */
  readonly extra: unknown;
}

const DIRECTIVES: Directive[] = ['none', 'none', 'none', 'include-true', 'skip-false', 'skip-true', 'include-var', 'skip-var'];

function selectionOf(type: TypeName, depth: number, pools: Pools): fc.Arbitrary<Selection[]> {
  const pool = pools.scalars[type].length > 0 ? pools.scalars[type] : SCALARS[type];
  // One alias in four: the limit of 15 per operation refuses the rest long before authorization.
  const alias = fc.integer({ min: 0, max: 3 }).map((n) => n === 0);
  const scalar = fc.record({ kind: fc.constant('field' as const), name: fc.constantFrom(...pool), alias, directive: fc.constantFrom(...DIRECTIVES) });
  const items: fc.Arbitrary<Selection>[] = [scalar, scalar, scalar, fc.constant({ kind: 'typename' } as const)];
  const relations = RELATIONS[type].filter(([, target]) => pools.scalars[target].length > 0 || pools === ALL_FIELDS);
  if (depth < 2 && relations.length > 0) {
    items.push(
      fc.constantFrom(...relations).chain(([name, target]) =>
        fc.record({ alias, directive: fc.constantFrom(...DIRECTIVES), children: selectionOf(target, depth + 1, pools) }).map((r): Selection => ({ kind: 'field', name, ...r })),
      ),
    );
  }
  if (depth < 3) {
    const nested = fc.array(scalar, { minLength: 1, maxLength: 3 });
    items.push(
      fc.record({ kind: fc.constant('inline' as const), directive: fc.constantFrom(...DIRECTIVES), children: nested }),
      fc.record({
        kind: fc.constant('named' as const),
        directive: fc.constantFrom(...DIRECTIVES),
        repeat: fc.integer({ min: 1, max: 3 }),
        chain: fc.integer({ min: 1, max: 6 }),
        children: nested,
      }),
    );
  }
  return fc.array(fc.oneof(...items), { minLength: 1, maxLength: 4 });
}

/** An ID-typed argument: a literal key or a variable with a key, or with a value that fails coercion. */
function keyArg(keys: readonly string[], values: Values): fc.Arbitrary<Arg> {
  const key = fc.constantFrom(...keys, '110101190001010000', 'not-an-id');
  return fc.oneof(
    { weight: 2, arbitrary: key.map((k): Arg => ({ literal: k })) },
    { weight: 3, arbitrary: key.map((k): Arg => ({ variable: k, type: 'ID!' })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...values.names).map((name) => ({ name })),
          fc.constantFrom(...values.ownIds).map((id) => [id, id]),
          fc.constantFrom(...values.phones).map((phone) => ({ phone: { eq: phone } })),
          fc.constant(null),
        )
        .map((bad): Arg => ({ variable: bad, type: 'ID!' })),
    },
  );
}

const FILTER_FIELDS: Readonly<Record<'Person' | 'House', readonly string[]>> = {
  Person: ['idNumber', 'name', 'phone', 'streetCode', 'residenceAddress'],
  House: ['ownerIdNumber', 'ownerName', 'address', 'tenure', 'streetCode'],
};

function filterArg(type: 'Person' | 'House', pools: Pools, values: Values): fc.Arbitrary<Arg> {
  const granted = FILTER_FIELDS[type].filter((f) => pools.full[type].includes(f));
  const fields = granted.length > 0 ? granted : FILTER_FIELDS[type];
  const value = fc.oneof(fc.constantFrom(...values.ownIds), fc.constantFrom(...values.names), fc.constantFrom(...values.phones), fc.constantFrom('3101', 'rented', '上海市'));
  const filter = fc.tuple(fc.constantFrom(...fields), fc.constantFrom('eq', 'startsWith', 'ne'), value).map(([f, op, v]) => ({ [f]: { [op]: v } }));
  return fc.oneof(
    { weight: 2, arbitrary: filter.map((f): Arg => ({ literal: f })) },
    { weight: 3, arbitrary: filter.map((f): Arg => ({ variable: f, type: `${type}Filter` })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...values.names).map((name) => ({ name })), // a string where StringFilter is declared
          fc.constantFrom(...values.phones).map((phone) => ({ noSuchField: { eq: phone } })),
          fc.constantFrom(...values.ownIds).map((id) => ({ idNumber: { eq: [id] } })),
        )
        .map((bad): Arg => ({ variable: bad, type: `${type}Filter` })),
    },
  );
}

function firstArg(values: Values): fc.Arbitrary<Arg> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 5, 20).map((n): Arg => ({ literal: n })) },
    { weight: 3, arbitrary: fc.constantFrom(1, 3, 10).map((n): Arg => ({ variable: n, type: 'Int' })) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...values.phones), fc.constantFrom(...values.ownIds), fc.constant(13912345678)).map((bad): Arg => ({ variable: bad, type: 'Int' })) },
  );
}

export function rootOf(pools: Pools, values: Values, others: boolean): fc.Arbitrary<Root> {
  const usable = (type: TypeName) => pools === ALL_FIELDS || pools.scalars[type].length > 0;
  const roots: { weight: number; arbitrary: fc.Arbitrary<Root> }[] = [];
  const lookup = (field: 'person' | 'house' | 'socialSecurityAccount', type: TypeName, keys: readonly string[]) =>
    fc.record({ key: keyArg(keys, values), node: selectionOf(type, 0, pools) }).map((r): Root => ({ kind: 'lookup', field, type, ...r }));
  const connection = (field: 'people' | 'houses', type: 'Person' | 'House') =>
    fc
      .record({
        filter: fc.option(filterArg(type, pools, values), { nil: undefined, freq: 2 }),
        first: fc.option(firstArg(values), { nil: undefined }),
        totalCount: fc.boolean(),
        node: selectionOf(type, 0, pools),
      })
      .map((r): Root => ({ kind: 'connection', field, type, ...r }));
  const persons = [...values.ownIds, ...values.otherIds];
  if (usable('Person')) roots.push({ weight: 4, arbitrary: connection('people', 'Person') }, { weight: 2, arbitrary: lookup('person', 'Person', persons) });
  if (usable('House')) roots.push({ weight: 3, arbitrary: connection('houses', 'House') }, { weight: 1, arbitrary: lookup('house', 'House', values.houses) });
  if (usable('SocialSecurityAccount')) roots.push({ weight: 1, arbitrary: lookup('socialSecurityAccount', 'SocialSecurityAccount', persons) });
  if (others || roots.length === 0) roots.push({ weight: 2, arbitrary: fc.constantFrom('auditEvents', 'myDataAccess', 'me').map((field): Root => ({ kind: 'other', field })) });
  return fc.oneof(...roots);
}

export function operationOf(pools: Pools, values: Values, others: boolean): fc.Arbitrary<Operation> {
  const flag = fc.oneof({ weight: 5, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...values.names), fc.constantFrom(...values.phones)) });
  return fc.record({
    roots: fc.oneof({ weight: 3, arbitrary: fc.array(rootOf(pools, values, others), { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(rootOf(pools, values, others), { minLength: 2, maxLength: 3 }) }),
    name: fc.option(fc.constantFrom('Campaign', 'Lookup', 'Q1'), { nil: null }),
    inc: flag,
    skp: flag,
    extra: fc.option(fc.oneof(fc.constantFrom(...values.ownIds), fc.constantFrom(...values.names), fc.constantFrom(...values.phones)), { nil: undefined }),
  });
}

// ---- printing ------------------------------------------------------------------------------

export interface Printed {
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly operationName: string | null;
}

/** `a12_name` → `name`; `name` → `name`. */
export function fieldOfKey(key: string): string {
  const match = /^a\d+_(.+)$/.exec(key);
  return match ? match[1]! : key;
}

const ROOT_OTHER: Record<'auditEvents' | 'myDataAccess' | 'me', string> = {
  auditEvents: 'auditEvents(first: 2) { edges { node { seq actorOrg purpose decision } } }',
  myDataAccess: 'myDataAccess(first: 2) { totalCount }',
  me: 'me { sub org roles }',
};

export function printOperation(operation: Operation): Printed {
  const fragments: string[] = [];
  const definitions = new Map<string, string>();
  const variables: Record<string, unknown> = {};
  let counter = 0;
  const directive = (d: Directive): string => {
    switch (d) {
      case 'include-true':
        return ' @include(if: true)';
      case 'skip-false':
        return ' @skip(if: false)';
      case 'skip-true':
        return ' @skip(if: true)';
      case 'include-var':
        definitions.set('inc', 'Boolean!');
        variables.inc = operation.inc;
        return ' @include(if: $inc)';
      case 'skip-var':
        definitions.set('skp', 'Boolean!');
        variables.skp = operation.skp;
        return ' @skip(if: $skp)';
      default:
        return '';
    }
  };
  const argument = (name: string, arg: Arg): string => {
    if ('literal' in arg) return `${name}: ${literal(arg.literal)}`;
    const variable = `${name}${counter++}`;
    definitions.set(variable, arg.type);
    variables[variable] = arg.variable;
    return `${name}: $${variable}`;
  };
  const printSet = (selections: Selection[], type: TypeName): string =>
    selections
      .map((s) => {
        switch (s.kind) {
          case 'typename':
            return '__typename';
          case 'inline':
            return `... on ${type}${directive(s.directive)} { ${printSet(s.children, type)} }`;
          case 'named': {
            const base = `F${counter++}`;
            for (let i = 0; i < s.chain; i++) {
              const body = i === s.chain - 1 ? printSet(s.children, type) : `...${base}_${i + 1} ...${base}_${i + 1}`;
              fragments.push(`fragment ${base}_${i} on ${type} { ${body} }`);
            }
            return Array.from({ length: s.repeat }, () => `...${base}_0${directive(s.directive)}`).join(' ');
          }
          default: {
            const head = s.alias ? `a${counter++}_${s.name}: ${s.name}` : s.name;
            const children = s.children ? ` { ${printSet(s.children, RELATIONS[type].find(([n]) => n === s.name)![1])} }` : '';
            return `${head}${directive(s.directive)}${children}`;
          }
        }
      })
      .join(' ');
  const roots = operation.roots
    .map((root, i) => {
      if (root.kind === 'other') return `r${i}: ${ROOT_OTHER[root.field]}`;
      if (root.kind === 'lookup') return `r${i}: ${root.field}(${argument(root.field === 'house' ? 'id' : 'idNumber', root.key)}) { ${printSet(root.node, root.type)} }`;
      const args = [root.filter ? argument('filter', root.filter) : '', root.first ? argument('first', root.first) : ''].filter(Boolean);
      const parts = [`edges { node { ${printSet(root.node, root.type)} } }`, root.totalCount ? 'totalCount' : ''].filter(Boolean);
      return `r${i}: ${root.field}${args.length ? `(${args.join(', ')})` : ''} { ${parts.join(' ')} }`;
    })
    .join(' ');
  if (operation.extra !== undefined) variables.note = operation.extra;
  const declared = [...definitions].map(([name, type]) => `$${name}: ${type}`).join(', ');
  const head = `query${operation.name ? ` ${operation.name}` : ''}${declared ? `(${declared})` : ''}`;
  return { query: `${head} { ${roots} } ${fragments.join(' ')}`.trim(), variables, operationName: operation.name };
}

/** A GraphQL literal of a JSON value (input objects unquoted keys). */
function literal(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
}
