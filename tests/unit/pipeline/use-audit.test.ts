/**
 * useAudit on its own: exactly one event per answer, whether the operation ran, failed, was
 * aborted or never executed, and SERVICE_UNAVAILABLE with no data when the event cannot be stored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useAudit } from '../../../gateway/pipeline/use-audit.ts';
import { useTokenLimit } from '../../../gateway/pipeline/use-token-limit.ts';
import { useDeadline } from '../../../gateway/pipeline/use-deadline.ts';
import { memorySink, oneFieldYoga, post, useResolverContext } from './one-field-yoga.ts';
import { resolverContext } from '../../../schema/resolver-context.ts';

describe('useAudit', () => {
  const setup = (hello: (context: any) => unknown = () => 'world') => {
    const sink = memorySink();
    // useDeadline hands execution the request's signal (as in the gateway's pipeline).
    const yoga = oneFieldYoga([useResolverContext(), useAudit({ sink }), useTokenLimit({ maxTokens: 30 }), useDeadline({ timeoutMs: 5000 })], hello);
    return { sink, yoga };
  };

  it('records an allowed operation once, with the rows and subjects its resolvers traced', async () => {
    const { sink, yoga } = setup((context) => {
      const trace = resolverContext(context).trace;
      trace.rows += 2;
      trace.subjects.add('110101199003071234');
      trace.fields.add('population.name');
      return 'world';
    });
    const answer = await post(yoga, { query: 'query Hi { hello }' });
    expect(answer.body).toEqual({ data: { hello: 'world' } });
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({
      operationType: 'query',
      operationName: 'Hi',
      decision: 'allow',
      rows: 2,
      subjects: ['110101199003071234'],
      fields: ['population.name'],
      requestId: answer.headers.get('x-request-id') ?? expect.any(String),
    });
  });

  it('records a failed resolver as an error', async () => {
    const { sink, yoga } = setup(() => {
      throw new Error('boom');
    });
    const answer = await post(yoga, { query: '{ hello }' });
    expect(answer.body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(sink.events.map((e) => [e.decision, e.reason])).toEqual([['error', 'INTERNAL_SERVER_ERROR: Unexpected error.']]);
  });

  it('records an execution the client aborted, once, with the rows read until then', async () => {
    const controller = new AbortController();
    const { sink, yoga } = setup(async (context) => {
      resolverContext(context).trace.rows += 3;
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'late';
    });
    await post(yoga, { query: '{ hello }' }, {}, { signal: controller.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ decision: 'error', rows: 3 });
  });

  it.each([
    ['a syntax error', { query: '{ hello ' }, 'http'],
    ['a validation error', { query: 'query V { nope }' }, 'query'],
    ['an unknown operation name', { query: 'query A { hello }', operationName: 'B' }, 'http'],
    ['several operations and no name', { query: 'query A { hello } query B { hello }' }, 'http'],
    ['a subscription', { query: 'subscription S { hello }' }, 'subscription'],
    ['a document over the token limit', { query: `{ ${'hello '.repeat(40)} }` }, 'http'],
  ])('records %s that never executed, once', async (_name, body, operationType) => {
    const { sink, yoga } = setup();
    const answer = await post(yoga, body);
    expect(answer.body.errors.length).toBeGreaterThan(0);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ operationType, rows: 0 });
    expect(['deny', 'error']).toContain(sink.events[0]!.decision);
  });

  it('answers SERVICE_UNAVAILABLE and no data when the event cannot be stored', async () => {
    const { sink, yoga } = setup();
    sink.failing = true;
    const answer = await post(yoga, { query: '{ hello }' });
    expect(answer.body.data ?? null).toBeNull();
    expect(answer.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    const refused = await post(yoga, { query: '{ hello ' });
    expect(refused.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('records each request\'s own fields, sorted, however often one document comes with other fields', async () => {
    let current: string[] = [];
    const { sink, yoga } = setup((context) => {
      for (const name of current) resolverContext(context).trace.fields.add(name);
      return 'world';
    });
    const names = fc.constantFrom('population.name', 'population.age', 'housing.address', 'population.idNumber', 'social.pension');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(names, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (requests) => {
        for (const fields of requests) {
          current = fields;
          sink.events.length = 0;
          await post(yoga, { query: 'query Same { hello }' });
          expect(sink.events).toHaveLength(1);
          expect(sink.events[0]!.fields).toEqual([...new Set(fields)].sort());
        }
      }),
      { numRuns: 60 },
    );
  });
});
