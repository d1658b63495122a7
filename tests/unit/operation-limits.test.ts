/**
 * The measures an operation is held to, on the real schema: depth and aliases (graphql-armor),
 * root fields, the node-cost estimate (page size × nesting) and page sizes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getOperationAST, parse, validate, type GraphQLSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { sharedDataTypeDefs } from '../../schema/shared-data/shared-data.graphql.ts';
import { adminTypeDefs } from '../../schema/admin/admin-schema.ts';
import { auditTypeDefs } from '../../schema/audit/audit-schema.ts';
import { assertWithinLimits, defaultOperationLimits, measureOperation } from '../../gateway/limits/operation-limits.ts';
import { assertNoNulCharacters } from '../../gateway/limits/text-input.ts';
import { withoutSuggestions } from '../../gateway/pipeline/use-schema-privacy.ts';
import { GatewayError } from '../../core/errors.ts';

let schema: GraphQLSchema;

beforeAll(() => {
  schema = createSchema({ typeDefs: [sharedDataTypeDefs, adminTypeDefs, auditTypeDefs] }) as unknown as GraphQLSchema;
});

function measure(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  return measureOperation(schema, document, getOperationAST(document, operationName)!, variables);
}

describe('measureOperation', () => {
  it('counts depth as field nesting; fragments add no level', () => {
    expect(measure(`{ me { sub } }`).depth).toBe(2);
    expect(measure(`{ people { edges { node { household { residents { name } } } } } }`).depth).toBe(6);
    expect(measure(`{ people { edges { ...E } } } fragment E on PersonEdge { node { ... on Person { name } } }`).depth).toBe(4);
  });

  it('counts aliases through fragments', () => {
    expect(measure(`{ a: me { b: sub } }`).aliases).toBe(2);
    expect(measure(`{ people { edges { node { ...P } } } } fragment P on Person { x: name y: phone }`).aliases).toBe(2);
  });

  it('measures the operation that runs, not its siblings', () => {
    const query = `query Small { me { sub } } query Big { a: me { sub } b: me { sub } c: me { sub } }`;
    expect(measure(query, {}, 'Small')).toMatchObject({ aliases: 0, rootFields: 1 });
    expect(measure(query, {}, 'Big')).toMatchObject({ aliases: 3, rootFields: 3 });
  });

  it('counts root fields, through fragments on Query, without __typename', () => {
    expect(measure(`{ me { sub } __typename ...Q } fragment Q on Query { duties { id } grants { id } }`).rootFields).toBe(3);
  });

  it('estimates objects: each list multiplies what it holds by its page size', () => {
    // 1 connection + 20 edges + 20 nodes (default first: 20)
    expect(measure(`{ people { edges { node { name } } } }`).cost).toBe(41);
    expect(measure(`{ people(first: 100) { edges { node { name } } } }`).cost).toBe(201);
    // + 100 households + 100 × 10 residents + 1,000 accounts
    expect(measure(`{ people(first: 100) { edges { node { household { residents { socialSecurity { employer } } } } } } }`).cost).toBe(2301);
    expect(measure(`query($n: Int) { people(first: $n) { edges { node { name } } } }`, { n: 5 }).cost).toBe(11);
    expect(measure(`{ people(first: 0) { totalCount } }`).cost).toBe(1);
  });

  it('counts a fragment where it is spread, each time', () => {
    const query = `{ a: people(first: 10) { edges { node { ...P } } } b: houses(first: 10) { edges { node { residents { ...P } } } } }
      fragment P on Person { household { id } }`;
    // a: 1 + 10 + 10 + 10 households; b: 1 + 10 + 10 + 100 residents + 100 households
    expect(measure(query).cost).toBe(31 + 221);
  });

  it('lists page sizes outside 0..100 on shared-data connections', () => {
    expect(measure(`{ people(first: 101) { totalCount } houses(first: -1) { totalCount } }`).badPageSizes).toEqual([101, -1]);
    expect(measure(`{ people(first: 100) { totalCount } }`).badPageSizes).toEqual([]);
  });
});

describe('assertWithinLimits', () => {
  const base = { depth: 1, aliases: 0, rootFields: 1, cost: 1, badPageSizes: [] as number[] };
  const refusal = (m: Partial<typeof base>) => {
    try {
      assertWithinLimits({ ...base, ...m });
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      return { code: (error as GatewayError).code, message: (error as GatewayError).message, extensions: (error as GatewayError).extensions };
    }
    return null;
  };

  it('passes an operation at every limit', () => {
    expect(refusal({ depth: 8, aliases: 15, rootFields: 10, cost: 2000 })).toBeNull();
  });

  it.each([
    [{ depth: 12 }, 'depth', 'query depth 12 exceeds the limit of 8'],
    [{ aliases: 16 }, 'aliases', 'query has 16 aliases, more than the limit of 15'],
    [{ rootFields: 11 }, 'rootFields', 'query has 11 root fields, more than the limit of 10'],
    [{ cost: 2001 }, 'cost', 'query cost 2001 exceeds the limit of 2000'],
  ])('%j → QUERY_TOO_COMPLEX naming %s', (m, limit, message) => {
    const r = refusal(m)!;
    expect(r.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.message).toContain(message);
    expect(r.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
  });

  it('a bad page size is BAD_USER_INPUT, as the resolvers say it', () => {
    expect(refusal({ badPageSizes: [500] })).toMatchObject({ code: 'BAD_USER_INPUT', message: `first must be between 0 and ${defaultOperationLimits.maxPageSize}` });
  });
});

describe('text input', () => {
  it('refuses U+0000 in literals and variables, nothing else', () => {
    expect(() => assertNoNulCharacters(parse(`{ person(idNumber: "a\\u0000") { name } }`), {})).toThrow(/NUL character/);
    expect(() => assertNoNulCharacters(parse(`{ me { sub } }`), { f: { name: { in: ['x', 'a\u0000'] } } })).toThrow(/NUL character/);
    expect(() => assertNoNulCharacters(parse(`{ person(idNumber: "👩‍💻\\u202e'; --") { name } }`), { x: '黄浦' })).not.toThrow();
  });
});

describe('suggestions', () => {
  it.each([
    ['Cannot query field "nam" on type "Person". Did you mean "name"?', 'Cannot query field "nam" on type "Person".'],
    ['Value "nam" does not exist in "PersonOrderField" enum. Did you mean the enum value "name"?', 'Value "nam" does not exist in "PersonOrderField" enum.'],
    ['Unknown type "PersonFiltr". Did you mean "PersonFilter", "HouseFilter", or "PersonOrder"?', 'Unknown type "PersonFiltr".'],
    ['first must be between 0 and 100', 'first must be between 0 and 100'],
  ])('%s', (message, expected) => {
    expect(withoutSuggestions(message)).toBe(expected);
  });
});
