import { describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { createAuthenticator } from '../../gateway/auth/authenticator.ts';

const SECRET = 'unit-secret-unit-secret-unit-secret-0123';
const sign = (exp: number | string, claims: Record<string, unknown> = { org: 'street:310101002', roles: ['street_staff'] }) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));

describe('authenticator', () => {
  it('returns the viewer of a valid token, and the same from its cache', async () => {
    const auth = createAuthenticator({ secret: SECRET });
    const token = await sign('1h');
    const first = await auth.authenticate(`Bearer ${token}`);
    expect(first).toEqual({ sub: 'u1', org: 'street:310101002', roles: ['street_staff'] });
    expect(await auth.authenticate(`Bearer ${token}`)).toBe(first);
  });

  it('a cached token stops working the moment it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const auth = createAuthenticator({ secret: SECRET });
      const token = await sign(Math.floor(Date.now() / 1000) + 60);
      await auth.authenticate(`Bearer ${token}`);
      vi.setSystemTime(Date.now() + 61_000);
      await expect(auth.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a failed verification is never cached', async () => {
    const auth = createAuthenticator({ secret: SECRET, cacheSize: 1 });
    const token = await sign('1h');
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await expect(auth.authenticate(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(auth.authenticate(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('rejects tokens without org or with an unknown role', async () => {
    const auth = createAuthenticator({ secret: SECRET });
    await expect(auth.authenticate(`Bearer ${await sign('1h', { roles: ['street_staff'] })}`)).rejects.toThrow(/org/);
    await expect(auth.authenticate(`Bearer ${await sign('1h', { org: 'street:310101002', roles: ['root'] })}`)).rejects.toThrow(/role/);
    await expect(auth.authenticate(`Bearer ${await sign('1h', { org: 'street:12', roles: ['street_staff'] })}`)).rejects.toThrow(/org/);
  });
});
