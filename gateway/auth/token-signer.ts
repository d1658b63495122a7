/** Signs HS256 tokens for the running configuration (`npm run token`, demo tokens, tests). */
import { SignJWT } from 'jose';
import type { Role } from '../../core/identity.ts';

export interface TokenClaims {
  readonly sub: string;
  readonly org: string;
  readonly roles: readonly Role[];
}

/** @param ttl a jose time span such as `1h`, `8h`, `30d`. */
export async function signToken(secret: string, claims: TokenClaims, ttl = '8h'): Promise<string> {
  return new SignJWT({ org: claims.org, roles: [...claims.roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret));
}
