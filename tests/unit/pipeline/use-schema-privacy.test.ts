/** useSchemaPrivacy on its own: introspection and suggestions only for platform admins in production. */
import { describe, expect, it } from 'vitest';
import { useAuthentication } from '../../../gateway/pipeline/use-authentication.ts';
import { useSchemaPrivacy } from '../../../gateway/pipeline/use-schema-privacy.ts';
import { GatewayError } from '../../../core/errors.ts';
import type { Authenticator } from '../../../gateway/auth/authenticator.ts';
import { memorySink, oneFieldYoga, post } from './one-field-yoga.ts';

const authenticator = {
  async authenticate(header: string | null | undefined) {
    if (header === 'Bearer admin') return { sub: 'admin', org: 'office:platform', roles: ['platform_admin'] };
    if (header === 'Bearer clerk') return { sub: 'clerk', org: 'street:310101002', roles: ['street_staff'] };
    throw new GatewayError('UNAUTHENTICATED', 'no');
  },
} as Authenticator;

describe('useSchemaPrivacy', () => {
  const yoga = (production: boolean) => oneFieldYoga([useAuthentication({ authenticator, audit: memorySink() }), useSchemaPrivacy({ production })]);

  it('in production: introspection only for a platform admin, suggestions stripped for others', async () => {
    const prod = yoga(true);
    const clerk = await post(prod, { query: '{ __schema { queryType { name } } }' }, { authorization: 'Bearer clerk' });
    expect(clerk.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', introspection: false });
    const admin = await post(prod, { query: '{ __schema { queryType { name } } }' }, { authorization: 'Bearer admin' });
    expect(admin.body.data.__schema.queryType.name).toBe('Query');
    const typo = await post(prod, { query: '{ helo }' }, { authorization: 'Bearer clerk' });
    expect(typo.body.errors[0].message).not.toMatch(/Did you mean/);
    const adminTypo = await post(prod, { query: '{ helo }' }, { authorization: 'Bearer admin' });
    expect(adminTypo.body.errors[0].message).toMatch(/Did you mean "hello"\?/);
  });

  it('outside production: both for everyone', async () => {
    const dev = yoga(false);
    expect((await post(dev, { query: '{ __typename __schema { queryType { name } } }' }, { authorization: 'Bearer clerk' })).body.errors).toBeUndefined();
    expect((await post(dev, { query: '{ helo }' }, { authorization: 'Bearer clerk' })).body.errors[0].message).toMatch(/Did you mean/);
  });
});
