/** useTokenLimit on its own: a document over the limit is refused while parsing. */
import { describe, expect, it } from 'vitest';
import { useTokenLimit } from '../../../gateway/pipeline/use-token-limit.ts';
import { oneFieldYoga, post } from './one-field-yoga.ts';

describe('useTokenLimit', () => {
  it('parses a document within the limit and refuses one over it, naming the limit, every time', async () => {
    const limited: string[] = [];
    const yoga = oneFieldYoga([useTokenLimit({ maxTokens: 50, onLimited: (k) => limited.push(k) })]);
    expect((await post(yoga, { query: '{ hello }' })).body).toEqual({ data: { hello: 'world' } });
    const big = `{ ${'hello '.repeat(100)} }`;
    for (let i = 0; i < 2; i++) {
      const answer = await post(yoga, { query: big });
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors[0]).toMatchObject({
        message: 'query has more than 50 tokens, the limit',
        extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: 50 },
      });
    }
    // Counted per answer, also when yoga serves the second refusal from its parse cache.
    expect(limited).toEqual(['tokens', 'tokens']);
  });
});
