/**
 * Bearer-token authentication with jose: HS256 with a shared secret, or a JWKS for a real identity
 * provider (RS256/ES256/EdDSA, issuer and audience checked). Any doubt is UNAUTHENTICATED.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GatewayError } from '../../core/errors.ts';
import { ROLES, type Role, type Viewer } from '../../core/identity.ts';

export interface AuthenticatorOptions {
  readonly secret?: string;
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Largest token accepted, in bytes (a 100 KB claim is not an identity). */
  readonly maxTokenBytes?: number;
  /** Verified tokens remembered (until their `exp`) so a busy clerk's token is checked once. Default 10,000. */
  readonly cacheSize?: number;
}

export interface Authenticator {
  /** Verifies an `Authorization` header value; throws GatewayError UNAUTHENTICATED on any doubt. */
  authenticate(authorization: string | null | undefined): Promise<Viewer>;
}

const ORG = /^(street:\d{9}|district:\d{6}|dept:[a-z0-9-]+|office:[a-z0-9-]+|platform|resident)$/;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const maxBytes = options.maxTokenBytes ?? 8192;
  let verify: (token: string) => Promise<JWTPayload>;
  if (options.jwksUrl) {
    const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
    verify = async (token) =>
      (
        await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
          requiredClaims: ['exp', 'sub'],
        })
      ).payload;
  } else if (options.secret) {
    const key = new TextEncoder().encode(options.secret);
    verify = async (token) =>
      (await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] })).payload;
  } else {
    throw new Error('authenticator needs a secret or a JWKS URL');
  }

  // A verified token's claims depend only on the token and the key; its expiry is re-checked on
  // every use. Only successful verifications are remembered.
  const cacheSize = options.cacheSize ?? 10_000;
  const verified = new Map<string, { viewer: Viewer; expiresAt: number }>();

  return {
    async authenticate(authorization) {
      if (!authorization) throw unauthenticated('missing bearer token');
      const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
      if (!match) throw unauthenticated('malformed bearer token');
      const token = match[1]!;
      if (token.length > maxBytes) throw unauthenticated('token too large');
      const cached = verified.get(token);
      if (cached) {
        if (cached.expiresAt > Date.now()) return cached.viewer;
        verified.delete(token);
        throw unauthenticated('token expired');
      }
      let payload: JWTPayload;
      try {
        payload = await verify(token);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWT_EXPIRED') throw unauthenticated('token expired');
        if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC') {
          throw new GatewayError('SERVICE_UNAVAILABLE', 'identity provider keys are unavailable', { cause: error });
        }
        throw unauthenticated('invalid token');
      }
      const viewer = toViewer(payload);
      if (cacheSize > 0) {
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
        verified.set(token, { viewer, expiresAt: (payload.exp ?? 0) * 1000 });
      }
      return viewer;
    },
  };
}

function toViewer(payload: JWTPayload): Viewer {
  const { sub, org, roles } = payload as JWTPayload & { org?: unknown; roles?: unknown };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) throw unauthenticated('token has no valid sub claim');
  if (typeof org !== 'string' || !ORG.test(org)) throw unauthenticated('token has no valid org claim');
  if (!Array.isArray(roles) || roles.length === 0 || roles.length > ROLES.length) {
    throw unauthenticated('token has no valid roles claim');
  }
  for (const role of roles) {
    if (!ROLES.includes(role as Role)) throw unauthenticated(`unknown role in token`);
  }
  return { sub, org, roles: [...new Set(roles as Role[])] };
}

function unauthenticated(message: string): GatewayError {
  return new GatewayError('UNAUTHENTICATED', message);
}
