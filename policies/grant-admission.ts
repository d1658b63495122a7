/**
 * Admission of duties and grants: the one set of rules an entry must pass before it counts, and the
 * one reading of a grant's validity period. The policy files (`policy-files/`), the admin API
 * (`createGrant`, `upsertDuty`) and the decision (`grant-compiler.ts`, Casbin's `grantValid`)
 * all call these functions, so a rule cannot drift between them.
 *
 * Validity is converted once, here: {@link admitGrant} turns the bounds as written (a date, a
 * zone-less date-time read in city time, or an instant) into instants, which is what the store
 * keeps (`timestamptz`) and what {@link grantIsValid} compares.
 */
import { validateCondition, describeKind, type PathStep } from '../core/conditions.ts';
import { DATASETS, fieldDef, isDatasetName, type DatasetName } from '../core/datasets.ts';
import { isDutyId } from '../core/identity.ts';
import { cityInstantIso, parseCityInstant } from '../core/time.ts';
import type { DutyDef, GrantDef } from './policy-definitions.ts';
import { emergencyClauseIssues } from './emergency/emergency-clause.ts';
import { dutyDisclosureIssues } from './duty-disclosure.ts';

/** Street codes are 9-digit township-level division codes. */
export const STREET_CODE = /^\d{9}$/;
/** Grant ids (duty ids follow `DUTY_ID` in core/identity.ts). */
export const GRANT_ID = /^[a-z0-9][a-z0-9-]{0,99}$/;
/** Departments: the only organisations that delegate duties or own datasets. */
export const DEPARTMENT = /^dept:[a-z0-9][a-z0-9-]{0,63}$/;
/** Longest duty title. */
export const MAX_TITLE_LENGTH = 200;

/** One problem of an entry; `path` is relative to the entry (`['rows', 'all', 1, 'op']`). */
export interface EntryIssue {
  readonly path: readonly PathStep[];
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Ownership

/** The datasets an organisation owns (a department owns its registries; anyone else none). */
export function datasetsOwnedBy(org: string): Set<DatasetName> {
  return new Set(Object.values(DATASETS).filter((d) => d.owner === org).map((d) => d.name));
}

/** Whether `org` owns `dataset`, and so alone may grant it. */
export function ownsDataset(org: string, dataset: string): boolean {
  return isDatasetName(dataset) && DATASETS[dataset].owner === org;
}

// ---------------------------------------------------------------------------------------------
// Validity

/**
 * A grant's validity as epoch milliseconds: `from` inclusive, `until` exclusive, null when open.
 * Reads bounds as written or as admitted alike ({@link parseCityInstant}). Throws on a bound that
 * does not parse (validate first).
 */
export function grantValidity(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>): { from: number | null; until: number | null } {
  // Plans read every grant's bounds on each compile: remember them per grant (and per text, so a
  // changed bound is read again).
  const known = VALIDITY.get(grant);
  if (known && known.validFrom === grant.validFrom && known.validUntil === grant.validUntil) return known.period;
  const period = Object.freeze(readValidity(grant));
  VALIDITY.set(grant, { validFrom: grant.validFrom, validUntil: grant.validUntil, period });
  return period;
}

const VALIDITY = new WeakMap<object, { validFrom: string | null; validUntil: string | null; period: { from: number | null; until: number | null } }>();

function readValidity(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>): { from: number | null; until: number | null } {
  const read = (value: string | null | undefined, edge: 'start' | 'end', key: string): number | null => {
    if (value === null || value === undefined) return null;
    const ms = parseCityInstant(value, edge);
    if (ms === undefined) throw new RangeError(`${key} is not an ISO date or date-time`);
    return ms;
  };
  return { from: read(grant.validFrom, 'start', 'validFrom'), until: read(grant.validUntil, 'end', 'validUntil') };
}

/**
 * Whether a grant is in force at `at` (default now): inside its validity period. An expired or
 * not-yet-valid grant grants nothing.
 *
 * @example isGrantActive({ validFrom: '2025-01-01', validUntil: '2025-12-31' }, new Date('2026-01-01T00:00:00+08:00')) // false
 */
export function isGrantActive(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>, at: Date | number = Date.now()): boolean {
  const t = typeof at === 'number' ? at : at.getTime();
  const { from, until } = grantValidity(grant);
  return (from === null || t >= from) && (until === null || t < until);
}

/**
 * THE rule of whether a grant counts at `now`: it exists, is not revoked, and is in force. A bound
 * that cannot be read makes the grant count for nothing (fail closed).
 */
export function grantIsValid(
  grant: (Pick<GrantDef, 'validFrom' | 'validUntil'> & { readonly revokedAt?: string | null }) | undefined,
  now: number,
): boolean {
  if (!grant || grant.revokedAt) return false;
  try {
    return isGrantActive(grant, now);
  } catch {
    return false;
  }
}

/** The instants (epoch ms) at which a grant's validity begins or ends, for cache expiry. */
export function validityBoundaries(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>): number[] {
  try {
    const { from, until } = grantValidity(grant);
    return [from, until].filter((x): x is number => x !== null);
  } catch {
    return [];
  }
}

/**
 * The grant as the store keeps it: validity bounds converted once into instants (ISO UTC text of a
 * `timestamptz`), read the city's way. Idempotent. Throws on a bound that does not parse.
 *
 * @example admitGrant({ ...g, validUntil: '2025-12-31' }).validUntil === '2025-12-31T16:00:00.000Z'
 */
export function admitGrant<T extends GrantDef>(grant: T): T {
  const convert = (value: string | null | undefined, edge: 'start' | 'end', key: string): string | null => {
    if (value === null || value === undefined) return null;
    const iso = cityInstantIso(String(value), edge);
    if (iso === undefined) throw new RangeError(`${key} is not an ISO date or date-time`);
    return iso;
  };
  return { ...grant, validFrom: convert(grant.validFrom, 'start', 'validFrom'), validUntil: convert(grant.validUntil, 'end', 'validUntil') };
}

// ---------------------------------------------------------------------------------------------
// Entry checks (paths relative to the entry; the files add line numbers)

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function shown(value: unknown): string {
  return typeof value === 'string' && value.length <= 100 ? JSON.stringify(value) : describeKind(value);
}

function streetIssues(streets: unknown, where: PathStep[]): EntryIssue[] {
  if (streets === 'all') return [];
  if (!Array.isArray(streets) || streets.length === 0) {
    return [{ path: where, message: `streets must be 'all' or a non-empty list of 9-digit street codes, got ${describeKind(streets)}` }];
  }
  const issues: EntryIssue[] = [];
  const seen = new Set<string>();
  streets.forEach((code, i) => {
    if (typeof code !== 'string' || !STREET_CODE.test(code)) {
      issues.push({ path: [...where, i], message: `bad street code ${shown(code)} (expected 9 digits, e.g. "310101002")` });
    } else if (seen.has(code)) {
      issues.push({ path: [...where, i], message: `street ${code} is listed twice` });
    }
    if (typeof code === 'string') seen.add(code);
  });
  return issues;
}

function boundIssue(value: unknown, key: 'validFrom' | 'validUntil', edge: 'start' | 'end', issues: EntryIssue[]): number | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'string' ? parseCityInstant(value, edge) : undefined;
  if (ms === undefined) {
    issues.push({ path: [key], message: `${key} ${shown(value)} is not an ISO date (YYYY-MM-DD) or date-time` });
    return null;
  }
  return ms;
}

/**
 * Every problem of one grant. `duties` null: the duty reference is checked for shape only (the
 * files check it across files later).
 */
export function grantIssues(grant: GrantDef, duties: readonly DutyDef[] | null): EntryIssue[] {
  const issues: EntryIssue[] = [];
  const g = grant as unknown as Record<string, unknown>;
  if (typeof g.id !== 'string' || !GRANT_ID.test(g.id)) {
    issues.push({ path: ['id'], message: `bad grant id ${shown(g.id)} (lowercase letters, digits and '-', at most 100)` });
  }
  if (!isDutyId(g.duty)) {
    issues.push({ path: ['duty'], message: `duty must be a duty id (lowercase letters, digits and '-', at most 64, not starting with '-'), got ${shown(g.duty)}` });
  } else if (duties && !duties.some((d) => d.id === g.duty)) {
    issues.push({ path: ['duty'], message: `unknown duty '${g.duty}' (not in the duty catalogue)` });
  }
  issues.push(...streetIssues(g.streets, ['streets']));

  const ds = typeof g.dataset === 'string' && isDatasetName(g.dataset) ? DATASETS[g.dataset] : undefined;
  if (!ds) {
    issues.push({ path: ['dataset'], message: `unknown dataset ${shown(g.dataset)} (expected one of ${Object.keys(DATASETS).join(', ')})` });
  } else {
    if (typeof g.owner !== 'string' || !ownsDataset(g.owner, ds.name)) {
      issues.push({ path: ['owner'], message: `${shown(g.owner)} does not own dataset ${ds.name} (its owner is ${ds.owner}); only the owner may grant it` });
    }
    const fields = g.fields;
    if (!isPlainObject(fields) || Object.keys(fields).length === 0) {
      issues.push({ path: ['fields'], message: `fields must map at least one field of ${ds.name} to full or masked, got ${describeKind(fields)}` });
    } else {
      for (const [name, access] of Object.entries(fields)) {
        const def = fieldDef(ds, name);
        if (!def) {
          issues.push({ path: ['fields', name], message: `unknown field '${name.length > 64 ? `${name.slice(0, 64)}…` : name}' in dataset ${ds.name}` });
        } else if (def.internal) {
          issues.push({ path: ['fields', name], message: `field '${name}' is internal to dataset ${ds.name} (used for joins) and cannot be granted` });
        } else if (access !== 'full' && access !== 'masked' && access !== 'aggregate') {
          issues.push({ path: ['fields', name], message: `bad access ${shown(access)} for field '${name}' (expected full, masked or aggregate)` });
        }
      }
      if (ds.streetField && fields[ds.streetField] !== 'full') {
        issues.push({ path: ['fields'], message: `a grant on ${ds.name} must include ${ds.streetField}: full (a street may always see which street a record belongs to)` });
      }
    }
    if (g.rows !== null && g.rows !== undefined) issues.push(...validateCondition(ds, g.rows, ['rows']));
    if (g.emergency !== null && g.emergency !== undefined) {
      for (const i of emergencyClauseIssues(ds, g.emergency)) issues.push({ path: ['emergency', ...i.path], message: i.message });
    }
  }

  const from = boundIssue(g.validFrom, 'validFrom', 'start', issues);
  const until = boundIssue(g.validUntil, 'validUntil', 'end', issues);
  if (from !== null && until !== null && from >= until) {
    issues.push({ path: ['validFrom'], message: `validFrom ${String(g.validFrom)} is after validUntil ${String(g.validUntil)} (a period must end after it begins)` });
  }
  return issues;
}

/** Every problem of one duty: id, title, delegating department, street codes. */
export function dutyIssues(duty: DutyDef): EntryIssue[] {
  const issues: EntryIssue[] = [];
  const d = duty as unknown as Record<string, unknown>;
  if (!isDutyId(d.id)) {
    issues.push({ path: ['id'], message: `bad duty id ${shown(d.id)} (lowercase letters, digits and '-', at most 64, not starting with '-')` });
  }
  if (typeof d.title !== 'string' || d.title.trim() === '' || d.title.length > MAX_TITLE_LENGTH) {
    issues.push({ path: ['title'], message: `title must be non-empty text of at most ${MAX_TITLE_LENGTH} characters, got ${describeKind(d.title)}` });
  }
  if (typeof d.delegatedBy !== 'string' || !DEPARTMENT.test(d.delegatedBy)) {
    issues.push({ path: ['delegatedBy'], message: `delegatedBy must be a department id such as dept:civil-affairs, got ${shown(d.delegatedBy)}` });
  }
  issues.push(...streetIssues(d.streets, ['streets']));
  issues.push(...dutyDisclosureIssues(d));
  return issues;
}

/**
 * All checks of one grant against the duty catalogue, as messages: id, owner owns the dataset,
 * duty in `duties`, street codes, fields (known, not internal, full or masked, the street field in
 * full), row condition (`validateCondition`), validity bounds and their order. The policy files
 * and `createGrant` both call it; empty when valid. Id uniqueness is the caller's.
 */
export function validateGrant(grant: GrantDef, duties: readonly DutyDef[]): string[] {
  return grantIssues(grant, duties).map((i) => i.message);
}

/** All checks of one duty (files and `upsertDuty`): id, title, delegating department, streets. Empty when valid. */
export function validateDuty(duty: DutyDef): string[] {
  return dutyIssues(duty).map((i) => i.message);
}
