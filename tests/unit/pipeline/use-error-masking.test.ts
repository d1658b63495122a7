/** Error masking on its own: the closed model and request errors pass, anything else is masked and logged. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../core/errors.ts';
import { ConnectorError } from '../../../connectors/connector-error.ts';
import { useErrorMasking } from '../../../gateway/pipeline/use-error-masking.ts';
import { oneFieldYoga, post } from './one-field-yoga.ts';
import { createSchema, createYoga } from 'graphql-yoga';

describe('useErrorMasking', () => {
  const logged: string[] = [];
  const withThrow = (error: unknown) =>
    createYoga({
      schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => Promise.reject(error) } } }),
      maskedErrors: useErrorMasking({ error: (_o: unknown, m: string) => void logged.push(`error ${m}`), warn: (_o: unknown, m: string) => void logged.push(`warn ${m}`) } as never),
      logging: false,
    });

  it('shows a GatewayError as it is', async () => {
    const answer = await post(withThrow(new GatewayError('FORBIDDEN', 'not for you', { details: { purpose: 'x' } })) as never, { query: '{ hello }' });
    expect(answer.status).toBe(200);
    expect(answer.body.errors[0]).toMatchObject({ message: 'not for you', extensions: { code: 'FORBIDDEN', purpose: 'x' } });
  });

  it('masks an unexpected error as INTERNAL_SERVER_ERROR and logs its cause', async () => {
    logged.length = 0;
    const answer = await post(withThrow(new Error('select * from secret where password = 1')) as never, { query: '{ hello }' });
    expect(answer.body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(answer.body)).not.toContain('secret');
    expect(logged).toEqual(['error unexpected error (masked)']);
  });

  it('turns a source failure into SERVICE_UNAVAILABLE naming the source, 503', async () => {
    logged.length = 0;
    const answer = await post(withThrow(new ConnectorError('unavailable', 'housing', 'connect ECONNREFUSED 10.0.0.5:5432')) as never, { query: '{ hello }' });
    expect(answer.status).toBe(503);
    expect(answer.body.errors[0]).toMatchObject({ message: 'source housing is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', source: 'housing' } });
    expect(logged).toEqual(['warn source housing failed']);
  });

  it("leaves GraphQL's own request errors alone", async () => {
    const answer = await post(oneFieldYoga([]), { query: '{ nope }' });
    expect(answer.body.errors[0].message).toMatch(/Cannot query field "nope"/);
  });
});
