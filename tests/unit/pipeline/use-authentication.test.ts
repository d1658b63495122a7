/** useAuthentication on its own: the token, the purpose, the audited refusal, the request id. */
import { describe, expect, it } from 'vitest';
import { useAuthentication } from '../../../gateway/pipeline/use-authentication.ts';
import { authenticator, CLERK, memorySink, oneFieldYoga, post } from './one-field-yoga.ts';
import { resolverContext } from '../../../schema/resolver-context.ts';

describe('useAuthentication', () => {
  const setup = () => {
    const sink = memorySink();
    const seen: unknown[] = [];
    const yoga = oneFieldYoga([useAuthentication({ authenticator, audit: sink })], (context) => {
      const state = resolverContext(context);
      seen.push({ viewer: state.viewer, purpose: state.purpose, requestId: state.requestId });
      return 'world';
    });
    return { sink, seen, yoga };
  };

  it('lets a valid token through and hands the viewer and purpose to the resolvers', async () => {
    const { yoga, seen, sink } = setup();
    const answer = await post(yoga, { query: '{ hello }' }, { authorization: 'Bearer good', 'x-purpose': ' elderly-allowance ' });
    expect(answer.body).toEqual({ data: { hello: 'world' } });
    expect(seen).toEqual([{ viewer: CLERK, purpose: 'elderly-allowance', requestId: answer.headers.get('x-request-id') }]);
    expect(sink.events).toEqual([]); // executed operations are useAudit's
  });

  it('refuses a missing or bad token with 401 and WWW-Authenticate, audited, nothing run', async () => {
    const { yoga, seen, sink } = setup();
    for (const headers of [{}, { authorization: 'Bearer bad' }] as Record<string, string>[]) {
      const answer = await post(yoga, { query: '{ hello }' }, headers);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(answer.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
    }
    expect(seen).toEqual([]);
    expect(sink.events.map((e) => [e.decision, e.operationType, e.reason])).toEqual([
      ['deny', 'http', 'UNAUTHENTICATED: a valid bearer token is required'],
      ['deny', 'http', 'UNAUTHENTICATED: a valid bearer token is required'],
    ]);
  });

  it('refuses an X-Purpose that is not a duty id (400), and never records it', async () => {
    const { yoga, seen, sink } = setup();
    for (const purpose of ['=HYPERLINK("http://x")', 'x'.repeat(24 * 1024), 'Elderly', 'a b']) {
      const answer = await post(yoga, { query: '{ hello }' }, { authorization: 'Bearer good', 'x-purpose': purpose });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(seen).toEqual([]);
    expect(sink.events).toHaveLength(4);
    expect(sink.events.every((e) => e.purpose === null && e.actor.sub === CLERK.sub)).toBe(true);
  });

  it('answers 503 and runs nothing when the refusal cannot be recorded', async () => {
    const { yoga, sink } = setup();
    sink.failing = true;
    const answer = await post(yoga, { query: '{ hello }' });
    expect(answer.status).toBe(503);
    expect(answer.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('gives every request its own server-made id, whatever the client sends', async () => {
    const { yoga } = setup();
    const a = await post(yoga, { query: '{ hello }' }, { authorization: 'Bearer good', 'x-request-id': 'mine' });
    const b = await post(yoga, { query: '{ hello }' }, { authorization: 'Bearer good', 'x-request-id': 'mine' });
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});
