/** Ready-to-use tokens for the embedded demo: one per kind of user in DOMAIN.md. */
import { signToken, type TokenClaims } from '../auth/token-signer.ts';

export const DEMO_USERS: readonly (TokenClaims & { label: string })[] = [
  { label: 'Nanjing East Road street clerk (street_staff, street:310101002)', sub: 'clerk-nanjing-east', org: 'street:310101002', roles: ['street_staff'] },
  { label: 'Tianping Road street clerk (street_staff, street:310104003)', sub: 'clerk-tianping', org: 'street:310104003', roles: ['street_staff'] },
  { label: 'Nanjing East Road street administrator (street_admin)', sub: 'admin-nanjing-east', org: 'street:310101002', roles: ['street_admin'] },
  { label: 'Public security data owner (data_owner, dept:public-security)', sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] },
  { label: 'Housing bureau data owner (data_owner, dept:housing)', sub: 'owner-housing', org: 'dept:housing', roles: ['data_owner'] },
  { label: 'Security officer (auditor, office:security)', sub: 'auditor-1', org: 'office:security', roles: ['auditor'] },
  { label: 'Platform administrator (platform_admin)', sub: 'platform-admin', org: 'platform', roles: ['platform_admin'] },
];

export async function demoTokens(secret: string, ttl = '8h'): Promise<{ label: string; token: string }[]> {
  return Promise.all(DEMO_USERS.map(async ({ label, ...claims }) => ({ label, token: await signToken(secret, claims, ttl) })));
}
