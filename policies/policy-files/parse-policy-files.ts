/**
 * Policy as code: the duty catalogue (`policies/duties.yaml`) and the departments' grants
 * (`policies/grants/*.yaml`), parsed and checked with the line each problem is on.
 *
 * Checks come in three layers, so that each problem is reported once and with its line:
 * - {@link parseDutiesFile} / {@link parseGrantsFile}: everything one file can tell on its own —
 *   YAML syntax, shape and unknown keys, and each entry's own meaning through the admission rules
 *   the admin API uses too (`grant-admission.ts`).
 * - {@link validatePolicySet}: what needs the whole set — ids unique across all files, every grant's
 *   duty in the catalogue.
 *
 * A parsed set is trustworthy only when no problem was reported: entries with problems are still
 * returned (so that cross-file checks can run on them), never silently dropped or repaired. Grants
 * keep their bounds as written; the store admits them (`admitGrant`) when it syncs the files.
 */
import { describeKind, type Condition } from '../../core/conditions.ts';
import type { DatasetName } from '../../core/datasets.ts';
import type { GrantFieldAccess } from '../policy-definitions.ts';
import { DUTY_DISCLOSURE_KEYS, readDutyDisclosure } from '../duty-disclosure.ts';
import { dutyIssues, grantIssues } from '../grant-admission.ts';
import { normalizeEmergencyClause, type EmergencyClause } from '../emergency/emergency-clause.ts';
import type { DutyDef, GrantDef, PolicySet } from '../policy-definitions.ts';
import {
  defaultLocator,
  parseYaml,
  rememberSource,
  sortProblems,
  type ParsedFile,
  type PathStep,
  type PolicyLocation,
  type PolicyLocator,
  type PolicyProblem,
} from './yaml-locations.ts';

export interface PolicyText {
  file: string;
  text: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Check the top level `{ <listKey>: [ mappings ] }` and return the entries with their index. */
function topLevelEntries(parsed: ParsedFile, file: string, listKey: string): { items: { index: number; raw: Record<string, unknown> }[]; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const { root, locate } = parsed;
  if (!isPlainObject(root)) {
    problems.push({ file, line: locate([]), message: `expected a mapping with the key '${listKey}', got ${describeKind(root)}` });
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
    problems.push({ file, line: locate([listKey]), message: `'${listKey}' must be a list, got ${describeKind(list)}` });
    return { items: [], problems };
  }
  const items: { index: number; raw: Record<string, unknown> }[] = [];
  list.forEach((raw, index) => {
    if (isPlainObject(raw)) items.push({ index, raw });
    else problems.push({ file, line: locate([listKey, index]), message: `each entry of '${listKey}' must be a mapping, got ${describeKind(raw)}` });
  });
  return { items, problems };
}

/** Unknown and missing keys of one entry; returns false when the entry cannot be built. */
function checkKeys(
  raw: Record<string, unknown>,
  what: string,
  required: readonly string[],
  optional: readonly string[],
  report: (pathSteps: readonly PathStep[], message: string) => void,
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
const GRANT_OPTIONAL = ['rows', 'validFrom', 'validUntil', 'emergency'] as const;

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
    const report = (p: readonly PathStep[], message: string) => problems.push({ file, line: at(p), message });
    if (!checkKeys(raw, name, DUTY_KEYS, DUTY_DISCLOSURE_KEYS, report)) continue;
    const duty: DutyDef = {
      id: raw.id as string,
      title: raw.title as string,
      delegatedBy: raw.delegatedBy as string,
      streets: readStreets(raw.streets),
      ...readDutyDisclosure(raw),
    };
    for (const issue of dutyIssues(duty)) report(issue.path, `${name}: ${issue.message}`);
    rememberSource(duty, file, at);
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
    const report = (p: readonly PathStep[], message: string) => problems.push({ file, line: at(p), message });
    if (!checkKeys(raw, name, GRANT_REQUIRED, GRANT_OPTIONAL, report)) continue;
    const strings = ['id', 'owner', 'dataset', 'duty'].filter((k) => typeof raw[k] !== 'string');
    for (const k of strings) report([k], `${name}: ${k} must be text, got ${describeKind(raw[k])}`);
    if (!isPlainObject(raw.fields)) {
      report(['fields'], `${name}: fields must be a mapping of field names to full or masked, got ${describeKind(raw.fields)}`);
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
      fields: raw.fields as Record<string, GrantFieldAccess>,
      rows: (raw.rows ?? null) as Condition | null,
      validFrom: asText(raw.validFrom),
      validUntil: asText(raw.validUntil),
      emergency: raw.emergency === undefined || raw.emergency === null ? null : (normalizeEmergencyClause(raw.emergency) as EmergencyClause),
    };
    for (const issue of grantIssues(grant, null)) report(issue.path, `${name}: ${issue.message}`);
    rememberSource(grant, file, at);
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
