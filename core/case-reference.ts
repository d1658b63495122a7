/**
 * `X-Case-Ref` (CONTRACT.md): the case or application number a read is made for. One reading of the
 * header for the audit trail (which records it) and the policies (which may require it).
 */
import { scrubText } from './personal-data.ts';

/** Longest case reference kept: case and application numbers are short. */
export const MAX_CASE_REF_LENGTH = 64;

/**
 * The recorded form of `X-Case-Ref`: control characters removed, trimmed, scrubbed of personal data
 * (a case number is no place for an ID or phone number, and the trail keeps none in clear), at most
 * {@link MAX_CASE_REF_LENGTH} characters; null when nothing is left.
 */
export function recordedCaseRef(caseRef: string | null | undefined): string | null {
  const cleaned = scrubText((caseRef ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim()).slice(0, MAX_CASE_REF_LENGTH).trim();
  return cleaned === '' ? null : cleaned;
}
