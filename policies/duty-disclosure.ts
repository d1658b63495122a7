/**
 * What a duty tells residents and asks of each read (CONTRACT.md § Residents, the `X-Case-Ref` rule):
 *
 * - `titleZh`: the duty's title in Chinese, beside the English `title`, both in plain words: a
 *   resident sees them in `myDataAccess`.
 * - `requiresCaseRef`: every read under the duty names its case or application number in
 *   `X-Case-Ref`; a read without one is BAD_USER_INPUT and nothing is read.
 * - `disclosureDelayDays`: the duty's reads reach the resident only this many days after they
 *   happened (an inspection must not be tipped off); they are delayed, never dropped.
 *
 * Kept apart from the rest of the duty's definition so that the policy files, the store and the
 * GraphQL layer share one reading and one validation of these three keys.
 */
import { GatewayError } from '../core/errors.ts';
import { recordedCaseRef } from '../core/case-reference.ts';

/** The optional keys a duty may carry (all absent: no Chinese title, no case reference, no delay). */
export interface DutyDisclosure {
  titleZh?: string;
  requiresCaseRef?: boolean;
  disclosureDelayDays?: number;
}

/** Keys of {@link DutyDisclosure} as written in `duties.yaml`. */
export const DUTY_DISCLOSURE_KEYS = ['titleZh', 'requiresCaseRef', 'disclosureDelayDays'] as const;

/** Longest delay a duty may ask for: a year. Past that, "delayed" would be "hidden". */
export const MAX_DISCLOSURE_DELAY_DAYS = 366;

/** Problems with the three keys of a duty as written (empty when valid). */
export function dutyDisclosureIssues(duty: Record<string, unknown>): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  if (duty.titleZh !== undefined && (typeof duty.titleZh !== 'string' || duty.titleZh.trim() === '')) {
    issues.push({ path: ['titleZh'], message: 'titleZh must be non-empty text' });
  }
  if (duty.requiresCaseRef !== undefined && typeof duty.requiresCaseRef !== 'boolean') {
    issues.push({ path: ['requiresCaseRef'], message: 'requiresCaseRef must be true or false' });
  }
  const days = duty.disclosureDelayDays;
  if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 0 || days > MAX_DISCLOSURE_DELAY_DAYS)) {
    issues.push({ path: ['disclosureDelayDays'], message: `disclosureDelayDays must be a whole number of days from 0 to ${MAX_DISCLOSURE_DELAY_DAYS}` });
  }
  return issues;
}

/** The keys present in `raw` (a parsed YAML entry), copied onto a duty. */
export function readDutyDisclosure(raw: Record<string, unknown>): DutyDisclosure {
  const out: DutyDisclosure = {};
  if (raw.titleZh !== undefined) out.titleZh = raw.titleZh as string;
  if (raw.requiresCaseRef !== undefined) out.requiresCaseRef = raw.requiresCaseRef as boolean;
  if (raw.disclosureDelayDays !== undefined) out.disclosureDelayDays = raw.disclosureDelayDays as number;
  return out;
}

/** The duty table's columns for these keys (migration 0007). */
export function dutyDisclosureColumns(duty: DutyDisclosure): { title_zh: string | null; requires_case_ref: boolean; disclosure_delay_days: number } {
  return {
    title_zh: duty.titleZh ?? null,
    requires_case_ref: duty.requiresCaseRef ?? false,
    disclosure_delay_days: duty.disclosureDelayDays ?? 0,
  };
}

/** The keys from a duty row; absent where the row holds the default, so a file duty and its stored copy compare equal. */
export function dutyDisclosureFromRow(row: Record<string, unknown>): DutyDisclosure {
  const out: DutyDisclosure = {};
  if (typeof row.title_zh === 'string') out.titleZh = row.title_zh;
  if (row.requires_case_ref === true) out.requiresCaseRef = true;
  const days = Number(row.disclosure_delay_days ?? 0);
  if (days > 0) out.disclosureDelayDays = days;
  return out;
}

/** Whether reads under `duty` must carry `X-Case-Ref`. */
export function requiresCaseRef(duty: DutyDisclosure | undefined): boolean {
  return duty?.requiresCaseRef === true;
}

/**
 * The `X-Case-Ref` rule for one read: BAD_USER_INPUT when the duty requires a case reference and the
 * request carries none (or only one that records as nothing), null otherwise. Checked before any
 * source is read.
 */
export function caseRefRefusal(
  duties: readonly (DutyDisclosure & { id: string })[],
  purpose: string,
  caseRef: string | null | undefined,
): GatewayError | null {
  const duty = duties.find((d) => d.id === purpose);
  if (!requiresCaseRef(duty) || recordedCaseRef(caseRef) !== null) return null;
  return new GatewayError('BAD_USER_INPUT', `duty "${purpose}" requires the case or application number in the X-Case-Ref header`, {
    details: { purpose, header: 'X-Case-Ref' },
  });
}
