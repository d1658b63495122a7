/**
 * Reading the admission API's arguments: texts, instants, fields and row conditions, each refused
 * with BAD_USER_INPUT naming what is wrong, before anything is looked up or changed.
 */
import { GatewayError } from '../../core/errors.ts';
import { DATASETS, type DatasetName } from '../../core/datasets.ts';
import type { Condition } from '../../core/conditions.ts';
import { validateCondition } from '../../core/conditions.ts';
import type { FieldAccess } from '../../policies/access-plan.ts';
import { parseApiInstant } from '../../policies/admission/duty-delegation.ts';
import { normalizeEmergencyClause, type EmergencyClause } from '../../policies/emergency/emergency-clause.ts';

export const MAX_TEXT = 1000;
/** Largest row condition accepted, as JSON text. */
export const MAX_ROWS_TEXT = 20_000;
export const MAX_PAGE = 100;

function bad(message: string, details?: Record<string, unknown>): GatewayError {
  return new GatewayError('BAD_USER_INPUT', message, details ? { details } : {});
}

/** A required, non-blank text of at most `max` characters, trimmed. */
export function requiredText(value: unknown, name: string, max = MAX_TEXT): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') throw bad(`${name} must not be empty`);
  if (text.length > max) throw bad(`${name} is longer than ${max} characters`);
  return text;
}

export function optionalText(value: unknown, name: string, max = MAX_TEXT): string | null {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '') ? null : requiredText(value, name, max);
}

/** An end instant that lies in the future: ISO date (through that day, UTC+8) or date-time. */
export function futureEnd(value: unknown, name: string, now: number): { iso: string; ms: number } {
  const ms = typeof value === 'string' ? parseApiInstant(value, 'end') : undefined;
  if (ms === undefined) throw bad(`${name} ${JSON.stringify(value)} is not an ISO date (YYYY-MM-DD) or date-time`);
  if (ms <= now) throw bad(`${name} ${String(value)} is in the past`);
  return { iso: new Date(ms).toISOString(), ms };
}

/** A start instant not before today (UTC+8): periods are not backdated. */
export function startNotBeforeToday(value: unknown, name: string, now: number): { iso: string; ms: number } | null {
  if (value === null || value === undefined || value === '') return null;
  const ms = typeof value === 'string' ? parseApiInstant(value, 'start') : undefined;
  if (ms === undefined) throw bad(`${name} ${JSON.stringify(value)} is not an ISO date (YYYY-MM-DD) or date-time`);
  const today = parseApiInstant(new Date(now + 8 * 3600_000).toISOString().slice(0, 10), 'start')!;
  if (ms < today) throw bad(`${name} ${String(value)} is in the past`);
  return { iso: new Date(ms).toISOString(), ms };
}

/** `[{field, access: FULL|MASKED}]` → `{field: full|masked}`; a field listed twice is refused. */
export function requestedFields(list: unknown, name = 'fields'): Record<string, FieldAccess> {
  if (!Array.isArray(list) || list.length === 0) throw bad(`${name} must list at least one field`);
  if (list.length > 100) throw bad(`${name} lists more than 100 fields`);
  const fields: Record<string, FieldAccess> = {};
  for (const item of list as { field?: unknown; access?: unknown }[]) {
    const field = typeof item?.field === 'string' ? item.field : '';
    if (Object.hasOwn(fields, field)) throw bad(`${name}: field ${field} is listed twice`);
    if (item.access !== 'FULL' && item.access !== 'MASKED') throw bad(`${name}: bad access ${JSON.stringify(item.access)} for ${field}`);
    fields[field] = item.access === 'FULL' ? 'full' : 'masked';
  }
  return fields;
}

/** A row condition given as JSON text, checked against the dataset's fields and types. */
export function rowCondition(dataset: DatasetName, text: unknown, name = 'rows'): Condition | null {
  if (text === null || text === undefined || text === '') return null;
  if (typeof text !== 'string' || text.length > MAX_ROWS_TEXT) throw bad(`${name} must be a JSON condition of at most ${MAX_ROWS_TEXT} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(`${name} is not valid JSON`);
  }
  const problems = validateCondition(DATASETS[dataset], parsed).map((issue) => issue.message);
  if (problems.length > 0) throw bad(`${name}: ${problems.join('; ')}`, { problems });
  return parsed as Condition;
}

/** One page of `items` after the item whose cursor is `after`. */
export function page<T>(items: readonly T[], cursorOf: (item: T) => string, first: unknown, after: unknown) {
  const size = first === null || first === undefined ? 20 : Number(first);
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE) throw bad(`first must be from 0 to ${MAX_PAGE}`);
  let start = 0;
  if (after !== null && after !== undefined) {
    const index = items.findIndex((item) => cursorOf(item) === after);
    if (index < 0) throw bad('after is not a cursor of this list');
    start = index + 1;
  }
  const slice = items.slice(start, start + size);
  return {
    edges: slice.map((node) => ({ cursor: cursorOf(node), node })),
    pageInfo: { hasNextPage: start + size < items.length, endCursor: slice.length > 0 ? cursorOf(slice.at(-1)!) : null },
    totalCount: items.length,
  };
}

/**
 * `{fields: [{field, access: FULL|MASKED}], maxMinutes}` → an emergency clause as the grant keeps it
 * (`maxMinutes` left out: the default). Only its shape is read here: whether its fields belong to the
 * dataset and its minutes to the allowed range is the grant's one rule (`emergencyClauseIssues`,
 * through `validateGrant`), the same the policy files pass.
 */
export function requestedEmergency(value: unknown, name = 'emergency'): EmergencyClause | null {
  if (value === null || value === undefined) return null;
  const input = value as { fields?: unknown; maxMinutes?: unknown };
  const fields = requestedFields(input.fields, `${name}.fields`);
  return normalizeEmergencyClause({ fields, maxMinutes: input.maxMinutes ?? undefined }) as EmergencyClause;
}
