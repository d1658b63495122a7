/**
 * Who is asking: roles, the authenticated viewer, and which street or district an organisation is.
 * Organisation ids follow DOMAIN.md: `street:<9-digit code>`, `district:<6-digit code>`, `dept:<name>`.
 */
export const ROLES = [
  'street_staff',
  'street_admin',
  'data_owner',
  'auditor',
  'platform_admin',
  // The admission review (CONTRACT.md): a department's administrator proposes and withdraws the
  // delegations of its duties; a district's reviewer admits or rejects them for its streets.
  'department_admin',
  'district_reviewer',
  // A person in the registries, asking who read their data (org `resident`, sub = ID number).
  'resident',
] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from the token's claims. */
export interface Viewer {
  readonly sub: string;
  readonly org: string;
  readonly roles: readonly Role[];
}

export function hasRole(viewer: Viewer | undefined, role: Role): boolean {
  return !!viewer && viewer.roles.includes(role);
}

/** The organisation of role `resident`; such a viewer's `sub` is the resident's own ID number (CONTRACT.md). */
export const RESIDENT_ORG = 'resident';

/** Whether the viewer is a resident signed in as themself. */
export function isResident(viewer: Viewer | undefined): boolean {
  return !!viewer && viewer.org === RESIDENT_ORG && viewer.roles.includes('resident');
}

/** Street organisations are `street:<9-digit division code>`. */
export const STREET_ORG = /^street:(\d{9})$/;

export function streetCodeOf(org: string): string | undefined {
  return STREET_ORG.exec(org)?.[1];
}

/** District organisations are `district:<6-digit code>`. */
export const DISTRICT_ORG = /^district:(\d{6})$/;

/** The 6-digit district code of a `district:` organisation, or undefined for any other. */
export function districtCodeOf(org: string): string | undefined {
  return DISTRICT_ORG.exec(org)?.[1];
}

/** The district a street belongs to: the first six digits of its 9-digit code (DOMAIN.md). */
export function districtOfStreet(street: string): string | undefined {
  return /^\d{9}$/.test(street) ? street.slice(0, 6) : undefined;
}

/** Department organisations (`dept:<name>`): the only ones that delegate duties or own datasets. */
export const DEPARTMENT_ORG = /^dept:[a-z0-9][a-z0-9-]*$/;

/**
 * A duty id (the value of `X-Purpose`): 1 to 64 lower-case letters, digits and hyphens, not starting
 * with a hyphen. The one rule for the duty catalogue, the policy files, the admin API and the pipeline.
 */
export const DUTY_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function isDutyId(value: unknown): value is string {
  return typeof value === 'string' && DUTY_ID.test(value);
}
