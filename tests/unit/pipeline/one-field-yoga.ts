/**
 * A yoga server over a one-field schema (`type Query { hello(name: String): String }`) with the plugins under
 * test and nothing else: no database, no seed, no runtime. Requests go through `yoga.fetch`, as
 * yoga tests its own plugins.
 */
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import type { AuditEventInput, AuditSink } from '../../../audit/audit-event.ts';
import type { Authenticator } from '../../../gateway/auth/authenticator.ts';
import type { Viewer } from '../../../core/identity.ts';
import { GatewayError } from '../../../core/errors.ts';
import { useErrorMasking } from '../../../gateway/pipeline/use-error-masking.ts';
import { RESOLVER_CONTEXT } from '../../../schema/resolver-context.ts';
import { contextState } from '../../../gateway/pipeline/request-state.ts';

export const CLERK: Viewer = { sub: 'clerk-1', org: 'street:310101002', roles: ['street_staff'] };

/** Accepts `Bearer good` (as {@link CLERK}) and nothing else. */
export const authenticator: Authenticator = {
  async authenticate(header) {
    if (header === 'Bearer good') return CLERK;
    throw new GatewayError('UNAUTHENTICATED', 'a valid bearer token is required');
  },
} as Authenticator;

/** An audit sink keeping what it is given; `failing` makes it refuse. */
export function memorySink(): AuditSink & { events: AuditEventInput[]; failing: boolean } {
  const sink = {
    events: [] as AuditEventInput[],
    failing: false,
    async append(event: AuditEventInput) {
      if (sink.failing) throw new Error('audit store down');
      sink.events.push(event);
    },
  };
  return sink;
}

/** Puts the request's state on the context as the resolvers' context (what useAuthentication does in the gateway). */
export const useResolverContext = (): Plugin => ({
  onContextBuilding({ context, extendContext }) {
    extendContext({ [RESOLVER_CONTEXT]: contextState(context) } as never);
  },
});

export function oneFieldYoga(plugins: Plugin[], hello: (context: any) => unknown = () => 'world') {
  return createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello(name: String): String }', resolvers: { Query: { hello: (_: unknown, __: unknown, context: unknown) => hello(context) } } }),
    plugins,
    maskedErrors: useErrorMasking({ error: () => {}, warn: () => {} }),
    logging: false,
    graphiql: false,
    landingPage: false,
  });
}

/** POSTs a GraphQL request; returns status, headers and the parsed body. */
export async function post(
  yoga: ReturnType<typeof oneFieldYoga>,
  body: unknown,
  headers: Record<string, string> = {},
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await yoga.fetch('http://yoga.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}
