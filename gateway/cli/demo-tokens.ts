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
  { label: 'Urban management department administrator (department_admin, dept:urban-management)', sub: 'admin-urban-management', org: 'dept:urban-management', roles: ['department_admin'] },
  { label: 'Civil affairs department administrator (department_admin, dept:civil-affairs)', sub: 'admin-civil-affairs', org: 'dept:civil-affairs', roles: ['department_admin'] },
  { label: 'Huangpu district reviewer (district_reviewer, district:310101)', sub: 'reviewer-310101', org: 'district:310101', roles: ['district_reviewer'] },
];

export async function demoTokens(secret: string, ttl = '8h'): Promise<{ label: string; token: string }[]> {
  return Promise.all(DEMO_USERS.map(async ({ label, ...claims }) => ({ label, token: await signToken(secret, claims, ttl) })));
}
