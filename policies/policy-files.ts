/**
 * Policy as code: the duty catalogue (`policies/duties.yaml`) and the departments' grants
 * (`policies/grants/*.yaml`), their parser and their validator.
 *
 * Checks come in three layers, so that each problem is reported once and with the line it is on:
 * - {@link parseDutiesFile} / {@link parseGrantsFile}: everything one file can tell on its own —
 *   YAML syntax, shape and unknown keys, and each entry's own meaning (datasets, owners, fields,
 *   masks, row conditions, street codes, dates).
 * - {@link validatePolicySet}: what needs the whole set — ids unique across all files, every grant's
 *   duty in the catalogue.
 * - {@link validateGrant} / {@link validateDuty}: all checks of one entry, without line numbers, for
 *   entries that come from elsewhere (the runtime `createGrant` mutation).
 *
 * A parsed set is trustworthy only when no problem was reported: entries with problems are still
 * returned (so that cross-file checks can run on them), never silently dropped or repaired.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Condition } from '../core/conditions.ts';
import { COMPARISON_OPS } from '../core/conditions.ts';
import type { DatasetDef, DatasetName, FieldDef } from '../core/datasets.ts';
import { DATASETS, fieldDef, isDatasetName } from '../core/datasets.ts';

// ---------------------------------------------------------------------------------------------
// Types

export interface DutyDef {
  id: string;
  title: string;
  /** The department that delegated the duty to streets, e.g. `dept:civil-affairs`. */
  delegatedBy: string;
  /** The streets (9-digit codes) the duty is delegated to. */
  streets: 'all' | string[];
}

export type FieldAccess = 'full' | 'masked';

export interface GrantDef {
  /** Unique across all grants, `[a-z0-9-]`. */
  id: string;
  /** The department granting; must own `dataset`. */
  owner: string;
  dataset: DatasetName;
  /** The duty (purpose) the grant serves. */
  duty: string;
  /** The streets holding the grant; each sees only the rows of its own street. */
  streets: 'all' | string[];
  fields: Record<string, FieldAccess>;
  /** Row condition on the dataset's own fields, ANDed with the street scope. */
  rows: Condition | null;
  /** ISO date or date-time; a date is a calendar day in China Standard Time (UTC+8). */
  validFrom: string | null;
  /** ISO date (inclusive: valid through that whole day, UTC+8) or date-time (exclusive). */
  validUntil: string | null;
}

export interface PolicyProblem {
  file: string;
  /** 1-based line of the offending node; 0 when the problem concerns the whole file. */
  line: number;
  message: string;
}

export interface PolicySet {
  duties: DutyDef[];
  grants: GrantDef[];
}

export interface PolicyLocation {
  file: string;
  line: number;
}

/**
 * Where a key of a duty or grant is written. `path` is relative to the entry, e.g. `['duty']` or
 * `['rows', 'all', 1, 'op']`. The default locator knows every entry returned by the parse functions.
 */
export type PolicyLocator = (entry: DutyDef | GrantDef, path: readonly PathStep[]) => PolicyLocation | undefined;

export type PathStep = string | number;

/** The shipped policy directory (`policies/` next to this file). */
export const DEFAULT_POLICY_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Street codes are 9-digit township-level division codes. */
export const STREET_CODE = /^\d{9}$/;
/** Duty and grant ids. */
export const POLICY_ID = /^[a-z0-9][a-z0-9-]{0,99}$/;
/** Departments (the only organisations that delegate duties or own datasets). */
const DEPARTMENT = /^dept:[a-z0-9][a-z0-9-]*$/;

/** Largest list an `in` condition may carry. */
export const MAX_IN_VALUES = 1000;
/** Deepest nesting of `all`/`any` in a row condition. */
export const MAX_CONDITION_DEPTH = 8;

// ---------------------------------------------------------------------------------------------
// Entry checks (no line numbers: paths relative to the entry)

interface Issue {
  path: PathStep[];
  message: string;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function formatPath(pathSteps: readonly PathStep[]): string {
  let out = '';
  for (const step of pathSteps) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function streetIssues(streets: unknown, where: PathStep[]): Issue[] {
  if (streets === 'all') return [];
  if (!Array.isArray(streets) || streets.length === 0) {
    return [{ path: where, message: `streets must be 'all' or a non-empty list of 9-digit street codes, got ${describe(streets)}` }];
  }
  const issues: Issue[] = [];
  const seen = new Set<string>();
  streets.forEach((code, i) => {
    if (typeof code !== 'string' || !STREET_CODE.test(code)) {
      issues.push({ path: [...where, i], message: `bad street code ${JSON.stringify(code)} (expected 9 digits, e.g. "310101002")` });
    } else if (seen.has(code)) {
      issues.push({ path: [...where, i], message: `street ${code} is listed twice` });
    }
    if (typeof code === 'string') seen.add(code);
  });
  return issues;
}

/** Does `value` fit the type of `field`? Returns a reason when it does not. */
function valueMismatch(field: FieldDef, value: unknown, checkEnum = true): string | undefined {
  const got = describe(value);
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') return `must be text, got ${got}`;
      if (checkEnum && field.values && !field.values.includes(value)) {
        return `must be one of ${field.values.join(', ')}, got ${JSON.stringify(value)}`;
      }
      return undefined;
    case 'date':
      return typeof value === 'string' && isCalendarDate(value) ? undefined : `must be a date YYYY-MM-DD, got ${got}`;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : `must be an integer, got ${got}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `must be a number, got ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${got}`;
  }
}

const CONDITION_SHAPE = 'a condition is {field, op, value}, {all: [conditions]} or {any: [conditions]}';

function conditionIssues(dataset: DatasetDef, condition: unknown, where: PathStep[], depth: number): Issue[] {
  const at = (p: PathStep[]) => formatPath(p) || 'condition';
  if (!isPlainObject(condition)) {
    return [{ path: where, message: `${at(where)}: ${CONDITION_SHAPE}, got ${describe(condition)}` }];
  }
  const keys = Object.keys(condition);
  if ('all' in condition || 'any' in condition) {
    const combinator = 'all' in condition ? 'all' : 'any';
    const issues: Issue[] = keys
      .filter((k) => k !== combinator)
      .map((k) => ({ path: [...where, k], message: `${at([...where, k])}: unexpected key '${k}' next to '${combinator}' (${CONDITION_SHAPE})` }));
    const parts = condition[combinator];
    const partsAt = [...where, combinator];
    if (depth >= MAX_CONDITION_DEPTH) {
      return [...issues, { path: partsAt, message: `${at(partsAt)}: conditions nested deeper than ${MAX_CONDITION_DEPTH} levels` }];
    }
    if (!Array.isArray(parts) || parts.length === 0) {
      return [...issues, { path: partsAt, message: `${at(partsAt)}: '${combinator}' takes a non-empty list of conditions, got ${describe(parts)}` }];
    }
    parts.forEach((part, i) => issues.push(...conditionIssues(dataset, part, [...partsAt, i], depth + 1)));
    return issues;
  }

  const issues: Issue[] = [];
  for (const k of keys) {
    if (k !== 'field' && k !== 'op' && k !== 'value') {
      issues.push({ path: [...where, k], message: `${at([...where, k])}: unknown key '${k}' (${CONDITION_SHAPE})` });
    }
  }
  for (const k of ['field', 'op', 'value'] as const) {
    if (!(k in condition)) issues.push({ path: where, message: `${at(where)}: missing '${k}' (${CONDITION_SHAPE})` });
  }
  if (issues.length > 0) return issues;

  const { field, op, value } = condition;
  const fieldAt = [...where, 'field'];
  const opAt = [...where, 'op'];
  const valueAt = [...where, 'value'];
  const def = typeof field === 'string' ? fieldDef(dataset, field) : undefined;
  if (typeof field !== 'string' || !def) {
    issues.push({ path: fieldAt, message: `${at(fieldAt)}: unknown field ${JSON.stringify(field)} in dataset ${dataset.name}` });
  } else if (def.internal) {
    issues.push({ path: fieldAt, message: `${at(fieldAt)}: field '${field}' is internal to dataset ${dataset.name} and cannot be used in a condition` });
  }
  if (typeof op !== 'string' || !(COMPARISON_OPS as readonly string[]).includes(op)) {
    issues.push({ path: opAt, message: `${at(opAt)}: unknown operator ${JSON.stringify(op)} (expected one of ${COMPARISON_OPS.join(', ')})` });
  }
  if (issues.length > 0 || !def) return issues;

  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) {
      issues.push({ path: valueAt, message: `${at(valueAt)}: 'in' takes a non-empty list of at most ${MAX_IN_VALUES} values, got ${Array.isArray(value) ? `${value.length} values` : describe(value)}` });
    } else {
      value.forEach((v, i) => {
        const why = valueMismatch(def, v);
        if (why) issues.push({ path: [...valueAt, i], message: `${at([...valueAt, i])}: value for '${def.name}' (${def.type}) ${why}` });
      });
    }
    return issues;
  }
  if (Array.isArray(value)) {
    issues.push({ path: valueAt, message: `${at(valueAt)}: only 'in' takes a list of values, '${String(op)}' takes one value` });
    return issues;
  }
  if (op === 'startsWith') {
    if (def.type !== 'string') {
      issues.push({ path: opAt, message: `${at(opAt)}: 'startsWith' applies to text fields only, '${def.name}' is ${def.type}` });
    } else if (typeof value !== 'string' || value === '') {
      issues.push({ path: valueAt, message: `${at(valueAt)}: 'startsWith' takes a non-empty text prefix, got ${describe(value)}` });
    }
    return issues;
  }
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') {
      issues.push({ path: valueAt, message: `${at(valueAt)}: '${String(op)}' cannot compare with null (only eq and ne can)` });
    }
    return issues;
  }
  if (def.type === 'boolean' && op !== 'eq' && op !== 'ne') {
    issues.push({ path: opAt, message: `${at(opAt)}: '${String(op)}' cannot order boolean field '${def.name}' (use eq or ne)` });
    return issues;
  }
  const why = valueMismatch(def, value);
  if (why) issues.push({ path: valueAt, message: `${at(valueAt)}: value for '${def.name}' (${def.type}) ${why}` });
  return issues;
}

/**
 * Check a row condition against a dataset: its shape, that each field exists and is not internal
 * (derived fields such as `age` are fine), that each operator is known and each value fits the
 * field's type (dates `YYYY-MM-DD`, integers, numbers, booleans, enumeration values; `in` takes a
 * non-empty list of at most {@link MAX_IN_VALUES}; `startsWith` text fields only; `null` with `eq`
 * and `ne` only; booleans cannot be ordered). Returns one message per problem, empty when valid.
 *
 * @example validateCondition(POPULATION, { field: 'age', op: 'gte', value: 65 }) // []
 */
export function validateCondition(dataset: DatasetDef, condition: unknown): string[] {
  return conditionIssues(dataset, condition, [], 0).map((i) => i.message);
}

/** Per-grant checks. `duties` null: the duty reference is checked for shape only (cross-file check later). */
function grantIssues(grant: GrantDef, duties: readonly DutyDef[] | null): Issue[] {
  const issues: Issue[] = [];
  const g = grant as unknown as Record<string, unknown>;
  if (typeof g.id !== 'string' || !POLICY_ID.test(g.id)) {
    issues.push({ path: ['id'], message: `bad grant id ${JSON.stringify(g.id)} (lowercase letters, digits and '-', at most 100)` });
  }
  if (typeof g.duty !== 'string' || g.duty === '') {
    issues.push({ path: ['duty'], message: `duty must be a duty id, got ${describe(g.duty)}` });
  } else if (duties && !duties.some((d) => d.id === g.duty)) {
    issues.push({ path: ['duty'], message: `unknown duty '${g.duty}' (not in the duty catalogue)` });
  }
  issues.push(...streetIssues(g.streets, ['streets']));

  const ds = typeof g.dataset === 'string' && isDatasetName(g.dataset) ? DATASETS[g.dataset] : undefined;
  if (!ds) {
    issues.push({ path: ['dataset'], message: `unknown dataset ${JSON.stringify(g.dataset)} (expected one of ${Object.keys(DATASETS).join(', ')})` });
  } else {
    if (g.owner !== ds.owner) {
      issues.push({ path: ['owner'], message: `${JSON.stringify(g.owner)} does not own dataset ${ds.name} (its owner is ${ds.owner}); only the owner may grant it` });
    }
    const fields = g.fields;
    if (!isPlainObject(fields) || Object.keys(fields).length === 0) {
      issues.push({ path: ['fields'], message: `fields must map at least one field of ${ds.name} to full or masked, got ${describe(fields)}` });
    } else {
      for (const [name, access] of Object.entries(fields)) {
        const def = fieldDef(ds, name);
        if (!def) {
          issues.push({ path: ['fields', name], message: `unknown field '${name}' in dataset ${ds.name}` });
        } else if (def.internal) {
          issues.push({ path: ['fields', name], message: `field '${name}' is internal to dataset ${ds.name} (used for joins) and cannot be granted` });
        } else if (access !== 'full' && access !== 'masked') {
          issues.push({ path: ['fields', name], message: `bad access ${JSON.stringify(access)} for field '${name}' (expected full or masked)` });
        }
      }
      if (ds.streetField && fields[ds.streetField] !== 'full') {
        issues.push({ path: ['fields'], message: `a grant on ${ds.name} must include ${ds.streetField}: full (a street may always see which street a record belongs to)` });
      }
    }
    if (g.rows !== null && g.rows !== undefined) issues.push(...conditionIssues(ds, g.rows, ['rows'], 0));
  }

  const from = checkInstant(g.validFrom, 'validFrom', 'start', issues);
  const until = checkInstant(g.validUntil, 'validUntil', 'end', issues);
  if (from !== null && until !== null && from >= until) {
    issues.push({ path: ['validFrom'], message: `validFrom ${String(g.validFrom)} is after validUntil ${String(g.validUntil)}` });
  }
  return issues;
}

function checkInstant(value: unknown, key: 'validFrom' | 'validUntil', edge: 'start' | 'end', issues: Issue[]): number | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'string' ? parseInstant(value, edge) : undefined;
  if (ms === undefined) {
    issues.push({ path: [key], message: `${key} ${JSON.stringify(value)} is not an ISO date (YYYY-MM-DD) or date-time` });
    return null;
  }
  return ms;
}

function dutyIssues(duty: DutyDef): Issue[] {
  const issues: Issue[] = [];
  const d = duty as unknown as Record<string, unknown>;
  if (typeof d.id !== 'string' || !POLICY_ID.test(d.id)) {
    issues.push({ path: ['id'], message: `bad duty id ${JSON.stringify(d.id)} (lowercase letters, digits and '-', at most 100)` });
  }
  if (typeof d.title !== 'string' || d.title.trim() === '') {
    issues.push({ path: ['title'], message: `title must be non-empty text, got ${describe(d.title)}` });
  }
  if (typeof d.delegatedBy !== 'string' || !DEPARTMENT.test(d.delegatedBy)) {
    issues.push({ path: ['delegatedBy'], message: `delegatedBy must be a department id such as dept:civil-affairs, got ${describe(d.delegatedBy)}` });
  }
  issues.push(...streetIssues(d.streets, ['streets']));
  return issues;
}

/**
 * All checks of one grant against the duty catalogue, as messages without line numbers: id, owner
 * owns the dataset, duty in `duties`, street codes, fields (known, not internal, full or masked,
 * the street field in full), row condition ({@link validateCondition}), dates and their order.
 * Used by the runtime `createGrant` mutation; empty when valid. Id uniqueness is the caller's.
 */
export function validateGrant(grant: GrantDef, duties: readonly DutyDef[]): string[] {
  return grantIssues(grant, duties).map((i) => i.message);
}

/** All checks of one duty: id, title, delegating department, street codes. Empty when valid. */
export function validateDuty(duty: DutyDef): string[] {
  return dutyIssues(duty).map((i) => i.message);
}

// ---------------------------------------------------------------------------------------------
// Validity periods

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Dates without a zone are read in China Standard Time, the deployment's zone. */
const DEFAULT_OFFSET_MINUTES = 8 * 60;
const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

/**
 * Milliseconds since the epoch for an ISO date or date-time, or undefined when it is not one.
 * A date alone is a calendar day in UTC+8: its start for `edge: 'start'`, the start of the next day
 * for `edge: 'end'` (so `validUntil: 2025-12-31` is valid through the whole of that day).
 */
function parseInstant(value: string, edge: 'start' | 'end'): number | undefined {
  const m = INSTANT.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  const dayStart = Date.UTC(y, mo - 1, d);
  if (m[4] === undefined) {
    return dayStart - DEFAULT_OFFSET_MINUTES * 60_000 + (edge === 'end' ? DAY_MS : 0);
  }
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  let offset = DEFAULT_OFFSET_MINUTES;
  if (m[8] === 'Z') offset = 0;
  else if (m[8]) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(m[8]);
    if (!z || Number(z[2]) > 23 || Number(z[3]) > 59) return undefined;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return dayStart + ((h * 60 + mi - offset) * 60 + s) * 1000 + fraction;
}

/**
 * A grant's validity as epoch milliseconds: `from` inclusive, `until` exclusive, null when open.
 * Throws on dates that do not parse (validate first).
 */
export function grantValidity(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>): { from: number | null; until: number | null } {
  const read = (value: string | null, edge: 'start' | 'end', key: string): number | null => {
    if (value === null || value === undefined) return null;
    const ms = parseInstant(value, edge);
    if (ms === undefined) throw new RangeError(`${key} ${JSON.stringify(value)} is not an ISO date or date-time`);
    return ms;
  };
  return { from: read(grant.validFrom, 'start', 'validFrom'), until: read(grant.validUntil, 'end', 'validUntil') };
}

/**
 * Whether a grant is in force at `at` (default now). An expired or not-yet-valid grant grants nothing.
 *
 * @example isGrantActive({ validFrom: '2025-01-01', validUntil: '2025-12-31' }, new Date('2026-01-01T00:00:00+08:00')) // false
 */
export function isGrantActive(grant: Pick<GrantDef, 'validFrom' | 'validUntil'>, at: Date | number = Date.now()): boolean {
  const t = typeof at === 'number' ? at : at.getTime();
  const { from, until } = grantValidity(grant);
  return (from === null || t >= from) && (until === null || t < until);
}

// ---------------------------------------------------------------------------------------------
// YAML files

interface Source {
  file: string;
  locate: (pathSteps: readonly PathStep[]) => number;
}

/** Where each parsed entry was written: feeds the default {@link PolicyLocator}. */
const SOURCES = new WeakMap<object, Source>();

const defaultLocator: PolicyLocator = (entry, pathSteps) => {
  const source = SOURCES.get(entry);
  return source ? { file: source.file, line: source.locate(pathSteps) } : undefined;
};

interface ParsedFile {
  root: unknown;
  problems: PolicyProblem[];
  /** Line of the node at `path` from the document root (the closest existing ancestor's otherwise). */
  locate: (pathSteps: readonly PathStep[]) => number;
}

function parseYaml(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : Math.max(1, lineCounter.linePos(offset).line));
  const nodeLine = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] | null } | null)?.range;
    return range ? lineOf(range[0]) : undefined;
  };
  const locate = (pathSteps: readonly PathStep[]): number => {
    let node: unknown = doc.contents;
    let line = nodeLine(node) ?? 1;
    for (let i = 0; i < pathSteps.length; i++) {
      const step = pathSteps[i];
      const last = i === pathSteps.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(step));
        if (!pair) return line;
        const keyLine = nodeLine(pair.key) ?? line;
        if (last) return keyLine;
        node = pair.value;
        line = nodeLine(node) ?? keyLine;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step];
        if (item === undefined) return line;
        node = item;
        line = nodeLine(node) ?? line;
      } else {
        return line;
      }
    }
    return line;
  };
  const problems = doc.errors.map((e) => ({
    file,
    line: lineOf(e.pos?.[0]),
    message: `YAML syntax error: ${e.message.split('\n')[0]}`,
  }));
  if (problems.length > 0) return { root: undefined, problems, locate };
  let root: unknown;
  try {
    root = normalise(doc.toJS({ maxAliasCount: 100 }));
  } catch (error) {
    return { root: undefined, problems: [{ file, line: 1, message: `YAML error: ${(error as Error).message}` }], locate };
  }
  return { root, problems, locate };
}

/** Dates (from a `%YAML 1.1` document's timestamps) back to ISO text; everything else as is. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) {
    const iso = Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (Array.isArray(value)) return value.map(normalise);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

/** Check the top level `{ <listKey>: [ mappings ] }` and return the entries with their index. */
function topLevelEntries(parsed: ParsedFile, file: string, listKey: string): { items: { index: number; raw: Record<string, unknown> }[]; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const { root, locate } = parsed;
  if (!isPlainObject(root)) {
    problems.push({ file, line: locate([]), message: `expected a mapping with the key '${listKey}', got ${describe(root)}` });
    return { items: [], problems };
  }
  for (const key of Object.keys(root)) {
    if (key !== listKey) problems.push({ file, line: locate([key]), message: `unknown key '${key}' (expected '${listKey}')` });
  }
  const list = root[listKey];
  if (!(listKey in root)) {
    problems.push({ file, line: locate([]), message: `missing key '${listKey}'` });
    return { items: [], problems };
  }
  if (!Array.isArray(list)) {
    problems.push({ file, line: locate([listKey]), message: `'${listKey}' must be a list, got ${describe(list)}` });
    return { items: [], problems };
  }
  const items: { index: number; raw: Record<string, unknown> }[] = [];
  list.forEach((raw, index) => {
    if (isPlainObject(raw)) items.push({ index, raw });
    else problems.push({ file, line: locate([listKey, index]), message: `each entry of '${listKey}' must be a mapping, got ${describe(raw)}` });
  });
  return { items, problems };
}

/** Unknown and missing keys of one entry; returns false when the entry cannot be built. */
function checkKeys(
  raw: Record<string, unknown>,
  what: string,
  required: readonly string[],
  optional: readonly string[],
  report: (pathSteps: PathStep[], message: string) => void,
): boolean {
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!required.includes(key) && !optional.includes(key)) {
      report([key], `${what}: unknown key '${key}' (expected ${[...required, ...optional].join(', ')})`);
    }
  }
  for (const key of required) {
    if (!(key in raw) || raw[key] === null || raw[key] === undefined) {
      report([], `${what}: missing required key '${key}'`);
      ok = false;
    }
  }
  return ok;
}

/** Streets as written: 'all', or codes (unquoted 9-digit codes arrive as integers). */
function readStreets(value: unknown): 'all' | string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : (v as string)));
  return value as 'all';
}

function entryName(kind: string, raw: Record<string, unknown>, index: number): string {
  return typeof raw.id === 'string' && raw.id !== '' ? `${kind} '${raw.id}'` : `${kind} #${index + 1}`;
}

const DUTY_KEYS = ['id', 'title', 'delegatedBy', 'streets'] as const;
const GRANT_REQUIRED = ['id', 'owner', 'dataset', 'duty', 'streets', 'fields'] as const;
const GRANT_OPTIONAL = ['rows', 'validFrom', 'validUntil'] as const;

/**
 * Parse the duty catalogue (`duties: [{id, title, delegatedBy, streets}]`) and check each duty on
 * its own. Problems carry `file` and the 1-based line. Id uniqueness is checked by {@link validatePolicySet}.
 */
export function parseDutiesFile(text: string, file: string): { duties: DutyDef[]; problems: PolicyProblem[] } {
  const parsed = parseYaml(text, file);
  if (parsed.problems.length > 0) return { duties: [], problems: parsed.problems };
  const { items, problems } = topLevelEntries(parsed, file, 'duties');
  const duties: DutyDef[] = [];
  for (const { index, raw } of items) {
    const at = (p: readonly PathStep[]) => parsed.locate(['duties', index, ...p]);
    const name = entryName('duty', raw, index);
    const report = (p: PathStep[], message: string) => problems.push({ file, line: at(p), message });
    if (!checkKeys(raw, name, DUTY_KEYS, [], report)) continue;
    const duty: DutyDef = {
      id: raw.id as string,
      title: raw.title as string,
      delegatedBy: raw.delegatedBy as string,
      streets: readStreets(raw.streets),
    };
    for (const issue of dutyIssues(duty)) report(issue.path, `${name}: ${issue.message}`);
    SOURCES.set(duty, { file, locate: at });
    duties.push(duty);
  }
  return { duties, problems: sortProblems(problems) };
}

/**
 * Parse one grants file (`grants: [GrantDef]`) and check each grant on its own (everything but the
 * duty reference and id uniqueness, which {@link validatePolicySet} checks across files).
 * Problems carry `file` and the 1-based line of the offending key.
 */
export function parseGrantsFile(text: string, file: string): { grants: GrantDef[]; problems: PolicyProblem[] } {
  const parsed = parseYaml(text, file);
  if (parsed.problems.length > 0) return { grants: [], problems: parsed.problems };
  const { items, problems } = topLevelEntries(parsed, file, 'grants');
  const grants: GrantDef[] = [];
  for (const { index, raw } of items) {
    const at = (p: readonly PathStep[]) => parsed.locate(['grants', index, ...p]);
    const name = entryName('grant', raw, index);
    const report = (p: PathStep[], message: string) => problems.push({ file, line: at(p), message });
    if (!checkKeys(raw, name, GRANT_REQUIRED, GRANT_OPTIONAL, report)) continue;
    const strings = ['id', 'owner', 'dataset', 'duty'].filter((k) => typeof raw[k] !== 'string');
    for (const k of strings) report([k], `${name}: ${k} must be text, got ${describe(raw[k])}`);
    if (!isPlainObject(raw.fields)) {
      report(['fields'], `${name}: fields must be a mapping of field names to full or masked, got ${describe(raw.fields)}`);
      continue;
    }
    if (strings.length > 0) continue;
    const asText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));
    const grant: GrantDef = {
      id: raw.id as string,
      owner: raw.owner as string,
      dataset: raw.dataset as DatasetName,
      duty: raw.duty as string,
      streets: readStreets(raw.streets),
      fields: raw.fields as Record<string, FieldAccess>,
      rows: (raw.rows ?? null) as Condition | null,
      validFrom: asText(raw.validFrom),
      validUntil: asText(raw.validUntil),
    };
    for (const issue of grantIssues(grant, null)) report(issue.path, `${name}: ${issue.message}`);
    SOURCES.set(grant, { file, locate: at });
    grants.push(grant);
  }
  return { grants, problems: sortProblems(problems) };
}

/**
 * Checks that need the whole set: duty ids and grant ids unique across all files, and every grant's
 * duty present in the catalogue. Lines come from `locate` (by default: where the parse functions
 * read each entry; entries they did not read are reported at line 0 of `duties`/`grants`).
 */
export function validatePolicySet(set: PolicySet, locate: PolicyLocator = defaultLocator): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const where = (entry: DutyDef | GrantDef, pathSteps: PathStep[], fallback: string): PolicyLocation =>
    locate(entry, pathSteps) ?? defaultLocator(entry, pathSteps) ?? { file: fallback, line: 0 };
  const unique = <T extends DutyDef | GrantDef>(entries: readonly T[], kind: string, fallback: string) => {
    const first = new Map<string, T>();
    for (const entry of entries) {
      const seen = first.get(entry.id);
      if (seen) {
        const a = where(seen, ['id'], fallback);
        problems.push({ ...where(entry, ['id'], fallback), message: `duplicate ${kind} id '${entry.id}' (first defined at ${a.file}:${a.line})` });
      } else {
        first.set(entry.id, entry);
      }
    }
  };
  unique(set.duties, 'duty', 'duties');
  unique(set.grants, 'grant', 'grants');
  const dutyIds = new Set(set.duties.map((d) => d.id));
  for (const grant of set.grants) {
    if (typeof grant.duty === 'string' && grant.duty !== '' && !dutyIds.has(grant.duty)) {
      problems.push({ ...where(grant, ['duty'], 'grants'), message: `grant '${grant.id}': unknown duty '${grant.duty}' (not in the duty catalogue)` });
    }
  }
  return problems;
}

export interface PolicyText {
  file: string;
  text: string;
}

/**
 * Advice, not errors: pairs of grants of one dataset and duty that can apply to the same street
 * with different row conditions, where one shows a field the other does not (or shows it at a
 * lower access). The gateway then shows such a field only where it covers every admitted row
 * (`policies/grant-compiler.ts`), so it may be denied although a grant names it.
 */
export function overlapWarnings(set: PolicySet, locate: PolicyLocator = defaultLocator): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  const level = (g: GrantDef, f: string) => (g.fields[f] === 'full' ? 2 : g.fields[f] === 'masked' ? 1 : 0);
  const condition = (g: GrantDef) => (g.rows === null || g.rows === undefined ? 'every row' : JSON.stringify(g.rows));
  const sharedStreets = (a: GrantDef, b: GrantDef) =>
    a.streets === 'all' || b.streets === 'all' || (Array.isArray(a.streets) && Array.isArray(b.streets) && a.streets.some((x) => (b.streets as string[]).includes(x)));
  const grants = set.grants.filter((g) => g && typeof g.id === 'string' && g.fields && typeof g.fields === 'object');
  for (let i = 0; i < grants.length; i++) {
    for (let j = i + 1; j < grants.length; j++) {
      const a = grants[i]!;
      const b = grants[j]!;
      if (a.dataset !== b.dataset || a.duty !== b.duty || !sharedStreets(a, b) || condition(a) === condition(b)) continue;
      // Fields one grant shows on rows the other admits, where the other does not show them as well.
      const fields = [...new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])]
        .filter((f) => level(a, f) !== level(b, f) && !(a.rows == null && level(a, f) >= level(b, f)) && !(b.rows == null && level(b, f) >= level(a, f)))
        .sort();
      if (fields.length === 0) continue;
      const at = locate(b, ['rows']) ?? locate(b, ['id']) ?? { file: 'grants', line: 0 };
      warnings.push({
        ...at,
        message:
          `warning: grants '${a.id}' and '${b.id}' (${a.dataset}, ${a.duty}) apply to the same street with different row conditions ` +
          `(${condition(a)} / ${condition(b)}); ${fields.join(', ')} will be shown only where it is granted on every admitted row, ` +
          'i.e. masked or denied: give both grants the same row condition, or the same fields',
      });
    }
  }
  return sortProblems(warnings);
}

/** Parse and validate a duty catalogue and grant files given as text (all problems, sorted by file and line). */
export function checkPolicyTexts(duties: PolicyText, grantFiles: readonly PolicyText[]): { set: PolicySet; problems: PolicyProblem[] } {
  const parsedDuties = parseDutiesFile(duties.text, duties.file);
  const set: PolicySet = { duties: parsedDuties.duties, grants: [] };
  const problems = [...parsedDuties.problems];
  for (const g of grantFiles) {
    const parsed = parseGrantsFile(g.text, g.file);
    set.grants.push(...parsed.grants);
    problems.push(...parsed.problems);
  }
  problems.push(...validatePolicySet(set));
  return { set, problems: sortProblems(problems) };
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : a.p.line - b.p.line || a.i - b.i))
    .map(({ p }) => p);
}

/**
 * Load `<dir>/duties.yaml` and every `<dir>/grants/*.yaml` (or `.yml`, in name order), and check
 * them all. Problem paths are `dir` joined with the file name.
 */
export async function loadPolicyDirectory(
  dir: string = DEFAULT_POLICY_DIR,
): Promise<{ set: PolicySet; problems: PolicyProblem[]; warnings: PolicyProblem[] }> {
  const problems: PolicyProblem[] = [];
  const dutiesFile = path.join(dir, 'duties.yaml');
  let dutiesText = 'duties: []';
  try {
    dutiesText = await readFile(dutiesFile, 'utf8');
  } catch (error) {
    problems.push({ file: dutiesFile, line: 0, message: `cannot read the duty catalogue: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
  }
  const grantsDir = path.join(dir, 'grants');
  const grantFiles: PolicyText[] = [];
  try {
    const names = (await readdir(grantsDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    for (const name of names) {
      const file = path.join(grantsDir, name);
      grantFiles.push({ file, text: await readFile(file, 'utf8') });
    }
  } catch (error) {
    problems.push({ file: grantsDir, line: 0, message: `cannot read the grants directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
  }
  const checked = checkPolicyTexts({ file: dutiesFile, text: dutiesText }, grantFiles);
  return { set: checked.set, problems: [...problems, ...checked.problems], warnings: overlapWarnings(checked.set) };
}
