/** useOperationLimits on its own: depth, aliases, root fields and text, before anything runs. */
import { describe, expect, it } from 'vitest';
import { useOperationLimits } from '../../../gateway/pipeline/use-operation-limits.ts';
import { oneFieldYoga, post } from './one-field-yoga.ts';

describe('useOperationLimits', () => {
  const setup = () => {
    let ran = 0;
    const limited: string[] = [];
    const yoga = oneFieldYoga([useOperationLimits({ maxAliases: 2, maxRootFields: 3, onLimited: (k) => limited.push(k) })], () => {
      ran += 1;
      return 'world';
    });
    return { yoga, ran: () => ran, limited };
  };

  it('runs an operation within the limits', async () => {
    const { yoga, ran } = setup();
    expect((await post(yoga, { query: '{ a: hello b: hello }' })).body).toEqual({ data: { a: 'world', b: 'world' } });
    expect(ran()).toBe(2);
  });

  it.each([
    ['aliases', '{ a: hello b: hello c: hello }', 'aliases'],
    ['root fields', '{ hello ...R ...R ...R } fragment R on Query { hello }', 'root_fields'],
  ])('refuses too many %s, runs nothing, counts the limit', async (_name, query, kind) => {
    const { yoga, ran, limited } = setup();
    const answer = await post(yoga, { query });
    expect(answer.body.data ?? null).toBeNull();
    expect(answer.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(ran()).toBe(0);
    expect(limited).toEqual([kind]);
  });

  it('refuses U+0000 in a string as BAD_USER_INPUT', async () => {
    const { yoga, ran } = setup();
    const answer = await post(yoga, { query: 'query($x: String) { hello(name: $x) }', variables: { x: 'a\u0000b' } });
    expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(ran()).toBe(0);
  });
});
