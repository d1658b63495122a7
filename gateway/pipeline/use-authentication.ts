/**
 * useAuthentication: every GraphQL request carries a valid bearer token, or gets 401
 * UNAUTHENTICATED (`WWW-Authenticate: Bearer`) and nothing else runs; and a declared purpose
 * (`X-Purpose`) is a duty id, or the request is refused BAD_USER_INPUT before anything is read.
 * Each refusal is audited (fail-closed: if that event cannot be stored the caller gets 503).
 *
 * Runs in `onRequestParse`, before the body is read, so that the refusal is a thrown GatewayError
 * whose `extensions.http` yoga answers with (no response is built by hand). It fills the request's
 * state (viewer, purpose) and hangs it on the GraphQL context as the resolvers' context.
 */
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { RESOLVER_CONTEXT } from '../../schema/resolver-context.ts';
import { contextState, requestState } from './request-state.ts';
import { isDutyId } from '../../core/identity.ts';
import { GatewayError, HTTP_STATUS } from '../../core/errors.ts';
import { normalizeError } from './normalize-error.ts';
import { refuse } from './refusal.ts';

export interface AuthenticationOptions {
  readonly authenticator: Authenticator;
  readonly audit: AuditSink;
}

/** GraphiQL's page is served to browsers without a token; the queries it sends need one. */
export function wantsGraphiQL(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/** `X-Purpose` trimmed; undefined when absent or blank. */
export function declaredPurpose(request: Request): string | undefined {
  const purpose = request.headers.get('x-purpose')?.trim();
  return purpose ? purpose : undefined;
}

export function useAuthentication(options: AuthenticationOptions): Plugin {
  return {
    async onRequestParse({ request }) {
      if (wantsGraphiQL(request)) return;
      const state = requestState(request);
      try {
        state.viewer = await options.authenticator.authenticate(request.headers.get('authorization'));
      } catch (caught) {
        const error = normalizeError(caught);
        const refusal =
          error.code === 'UNAUTHENTICATED'
            ? new GatewayError('UNAUTHENTICATED', error.message, { http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } })
            : error;
        return refuse(options.audit, request, refusal);
      }
      const purpose = declaredPurpose(request);
      if (purpose !== undefined && !isDutyId(purpose)) {
        return refuse(
          options.audit,
          request,
          new GatewayError('BAD_USER_INPUT', 'X-Purpose must be the id of a duty (lower-case letters, digits and hyphens, at most 64)', {
            details: { header: 'x-purpose' },
            // Refused as a whole before parsing: the request's status (core/errors.ts HTTP_STATUS).
            http: { status: HTTP_STATUS.BAD_USER_INPUT },
          }),
        );
      }
      state.purpose = purpose;
      const caseRef = request.headers.get('x-case-ref')?.trim();
      state.caseRef = caseRef ? caseRef : undefined;
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestState(request).requestId);
    },
    onContextBuilding({ context, extendContext }) {
      extendContext({ [RESOLVER_CONTEXT]: contextState(context) } as never);
    },
  };
}
