/**
 * A grant's emergency clause (`emergency: { fields, maxMinutes }`): the fields a street may read in
 * addition to the grant's own while an emergency session for the grant's duty is open, and how long
 * such a session may last. The clause is part of the grant, so only the data owner who grants the
 * duty can allow it, and it can never reach rows or duties the grant itself does not.
 *
 * @example
 * emergency:
 *   fields: { phone: full }
 *   maxMinutes: 60
 */
import type { DatasetDef } from '../../core/datasets.ts';
import { fieldDef } from '../../core/datasets.ts';

export type EmergencyFieldAccess = 'full' | 'masked';

export interface EmergencyClause {
  /** Fields of the grant's dataset readable under an open emergency session, each full or masked. */
  readonly fields: Readonly<Record<string, EmergencyFieldAccess>>;
  /** Longest session the clause allows, in minutes. */
  readonly maxMinutes: number;
}

/** A session's length when the clause names none (CONTRACT.md). */
export const DEFAULT_EMERGENCY_MINUTES = 60;
/** No clause may allow more than a working day: an emergency is short, or it is a grant request. */
export const MAX_EMERGENCY_MINUTES = 12 * 60;

export interface ClauseIssue {
  /** Relative to the clause, e.g. `['fields', 'phone']`. */
  readonly path: (string | number)[];
  readonly message: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Everything wrong with a clause as written, on the grant's dataset. Empty when it is valid.
 * `maxMinutes` may be left out (then {@link DEFAULT_EMERGENCY_MINUTES}).
 */
export function emergencyClauseIssues(dataset: DatasetDef, value: unknown): ClauseIssue[] {
  if (!isPlainObject(value)) return [{ path: [], message: `emergency must be a mapping with fields and maxMinutes` }];
  const issues: ClauseIssue[] = [];
  for (const key of Object.keys(value)) {
    if (key !== 'fields' && key !== 'maxMinutes') issues.push({ path: [key], message: `emergency: unknown key '${key}' (expected fields, maxMinutes)` });
  }
  const fields = value.fields;
  if (!isPlainObject(fields) || Object.keys(fields).length === 0) {
    issues.push({ path: ['fields'], message: `emergency.fields must map at least one field of ${dataset.name} to full or masked` });
  } else {
    for (const [name, access] of Object.entries(fields)) {
      const def = fieldDef(dataset, name);
      if (!def) issues.push({ path: ['fields', name], message: `emergency: unknown field '${name}' in dataset ${dataset.name}` });
      else if (def.internal) issues.push({ path: ['fields', name], message: `emergency: field '${name}' is internal to ${dataset.name} and cannot be granted` });
      else if (access !== 'full' && access !== 'masked') {
        issues.push({ path: ['fields', name], message: `emergency: bad access ${JSON.stringify(access)} for '${name}' (expected full or masked)` });
      }
    }
  }
  const minutes = value.maxMinutes;
  if (minutes !== undefined && minutes !== null && (!Number.isInteger(minutes) || (minutes as number) < 1 || (minutes as number) > MAX_EMERGENCY_MINUTES)) {
    issues.push({ path: ['maxMinutes'], message: `emergency.maxMinutes must be a whole number of minutes from 1 to ${MAX_EMERGENCY_MINUTES}` });
  }
  return issues;
}

/**
 * The clause with `maxMinutes` filled in; anything else as written, so that its checks still see
 * what was written (an unknown key, a bad field list).
 */
export function normalizeEmergencyClause(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return { ...value, maxMinutes: value.maxMinutes ?? DEFAULT_EMERGENCY_MINUTES };
}
