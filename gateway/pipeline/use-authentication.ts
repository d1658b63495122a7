/**
 * useAuthentication: every GraphQL request carries a valid bearer token, or gets 401
 * UNAUTHENTICATED and nothing else runs. The refusal itself is audited (fail-closed: if that
 * event cannot be stored the caller gets 503).
 */
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { RESOLVER_CONTEXT } from '../../schema/resolver-context.ts';
import { requestState } from './request-state.ts';
import { type Viewer } from '../../core/identity.ts';
import { normalizeError } from './normalize-error.ts';
import { AUDIT_UNAVAILABLE, auditRefusal, refusalResponse } from './refusal.ts';

export interface AuthenticationOptions {
  readonly authenticator: Authenticator;
  readonly audit: AuditSink;
}

const viewers = new WeakMap<Request, Viewer>();
const requestIds = new WeakMap<Request, string>();

/** The id the gateway gave this HTTP request (server-generated; a client's header is not trusted). */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) requestIds.set(request, (id = crypto.randomUUID()));
  return id;
}

/** GraphiQL's page is served to browsers without a token; the queries it sends need one. */
function wantsGraphiQL(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/** The viewer useAuthentication verified for this request; plugins after it read it from here. */
export async function viewerOf(request: Request): Promise<Viewer | undefined> {
  return viewers.get(request);
}

export function useAuthentication(options: AuthenticationOptions): Plugin {
  return {
    async onRequest({ request, endResponse }) {
      if (wantsGraphiQL(request)) return;
      const started = Date.now();
      try {
        viewers.set(request, await options.authenticator.authenticate(request.headers.get('authorization')));
      } catch (caught) {
        const error = normalizeError(caught);
        const stored = await auditRefusal(options.audit, { request, error, started, requestId: requestIdOf(request) });
        const headers: Record<string, string> = error.code === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Bearer' } : {};
        endResponse(stored ? refusalResponse(error, error.status, headers) : AUDIT_UNAVAILABLE());
      }
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
    onContextBuilding({ context, extendContext }) {
      const request = (context as { request?: Request }).request;
      const state = requestState(context);
      extendContext({ [RESOLVER_CONTEXT]: state } as never);
      if (request) {
        state.requestId = requestIdOf(request);
        state.viewer = viewers.get(request);
        const purpose = request.headers.get('x-purpose')?.trim();
        state.purpose = purpose ? purpose : undefined;
      }
    },
  };
}
