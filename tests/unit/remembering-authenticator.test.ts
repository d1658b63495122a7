/** The plugins after useAuthentication learn the viewer without verifying the token again. */
import { describe, expect, it } from 'vitest';
import { RememberingAuthenticator } from '../../gateway/auth/remembering-authenticator.ts';
import type { Authenticator } from '../../gateway/auth/authenticator.ts';
import type { Viewer } from '../../gateway/context.ts';
import { GatewayError } from '../../gateway/errors.ts';

function counting(): Authenticator & { calls: number } {
  const inner = {
    calls: 0,
    async authenticate(header: string | null | undefined): Promise<Viewer> {
      inner.calls += 1;
      if (!header?.startsWith('Bearer ok-')) throw new GatewayError('UNAUTHENTICATED', 'invalid token');
      return { sub: header.slice('Bearer ok-'.length), org: 'street:310101002', roles: ['street_staff'] };
    },
  };
  return inner;
}

const request = (authorization?: string) => new Request('http://gateway.test/graphql', { headers: authorization ? { authorization } : {} });

describe('RememberingAuthenticator', () => {
  it('hands the verified viewer on without a second verification', async () => {
    const inner = counting();
    const auth = new RememberingAuthenticator(inner);
    const r = request('Bearer ok-alice');
    expect((await auth.authenticate('Bearer ok-alice')).sub).toBe('alice');
    expect((await auth.viewerOf(r))?.sub).toBe('alice');
    expect((await auth.viewerOf(r))?.sub).toBe('alice');
    expect(inner.calls).toBe(1);
  });

  it('concurrent requests with one token each get it', async () => {
    const inner = counting();
    const auth = new RememberingAuthenticator(inner);
    await Promise.all([auth.authenticate('Bearer ok-bob'), auth.authenticate('Bearer ok-bob')]);
    const [a, b] = await Promise.all([auth.viewerOf(request('Bearer ok-bob')), auth.viewerOf(request('Bearer ok-bob'))]);
    expect([a?.sub, b?.sub]).toEqual(['bob', 'bob']);
    expect(inner.calls).toBe(2);
  });

  it('verifies itself when it has not seen the token, and knows no viewer for a bad one', async () => {
    const inner = counting();
    const auth = new RememberingAuthenticator(inner);
    expect((await auth.viewerOf(request('Bearer ok-carol')))?.sub).toBe('carol');
    expect(await auth.viewerOf(request('Bearer forged'))).toBeUndefined();
    expect(await auth.viewerOf(request())).toBeUndefined();
    await expect(auth.authenticate('Bearer forged')).rejects.toThrow(/invalid token/);
  });

  it('stays bounded when viewers are never asked for', async () => {
    const inner = counting();
    const auth = new RememberingAuthenticator(inner, 3);
    for (const name of ['a', 'b', 'c', 'd', 'e']) await auth.authenticate(`Bearer ok-${name}`);
    inner.calls = 0;
    expect((await auth.viewerOf(request('Bearer ok-a')))?.sub).toBe('a'); // evicted: verified again
    expect(inner.calls).toBe(1);
    expect((await auth.viewerOf(request('Bearer ok-e')))?.sub).toBe('e');
    expect(inner.calls).toBe(1);
  });
});
