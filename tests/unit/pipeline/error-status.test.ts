/**
 * One code → HTTP status rule (core/errors.ts): the table for requests refused as a whole (the
 * export route, refusals before parsing), 200 for an executed GraphQL operation's own errors
 * except the request-level codes, and a refusal's own status when it carries one.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError, graphqlStatus, HTTP_STATUS, REQUEST_LEVEL, type ErrorCode } from '../../../core/errors.ts';

const CODES = Object.keys(HTTP_STATUS) as ErrorCode[];

describe('the code → HTTP status rule', () => {
  it('the table: every code has one status, FORBIDDEN is 403', () => {
    expect(HTTP_STATUS).toEqual({
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      PURPOSE_REQUIRED: 400,
      BAD_USER_INPUT: 400,
      QUERY_TOO_COMPLEX: 400,
      RATE_LIMITED: 429,
      SERVICE_UNAVAILABLE: 503,
      INTERNAL_SERVER_ERROR: 500,
    });
  });

  it('in a GraphQL answer: 200, except the request-level codes, which keep the table status', () => {
    for (const code of CODES) expect(graphqlStatus(code), code).toBe(REQUEST_LEVEL.has(code) ? HTTP_STATUS[code] : 200);
    expect([...REQUEST_LEVEL].sort()).toEqual(['INTERNAL_SERVER_ERROR', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'UNAUTHENTICATED']);
  });

  it('a GatewayError carries the rule in extensions.http, or its own status and headers', () => {
    expect(new GatewayError('FORBIDDEN', 'no').extensions.http).toEqual({ status: 200 });
    expect(new GatewayError('RATE_LIMITED', 'later').extensions.http).toEqual({ status: 429 });
    const own = new GatewayError('RATE_LIMITED', 'later', { http: { status: 429, headers: { 'retry-after': '3' } } });
    expect(own.extensions.http).toEqual({ status: 429, headers: { 'retry-after': '3' } });
    expect(own.status).toBe(429);
    expect(new GatewayError('QUERY_TOO_COMPLEX', 'big', { http: { status: 413 } }).status).toBe(413);
  });
});
