/**
 * A duty delegation (CONTRACT.md § Admission review, step 1): a department proposes to hand one of
 * its duties down to some streets, with the legal basis and a period; the reviewer of each
 * street's district admits or rejects that street, with a reason. Its state is derived from those
 * answers, its withdrawal and the clock, never stored, so that it cannot disagree with them.
 */
import { parseCityInstant } from '../../core/time.ts';

export type DelegationState = 'PROPOSED' | 'ADMITTED' | 'REJECTED' | 'WITHDRAWN' | 'EXPIRED';
export type DelegationStreetState = 'PROPOSED' | 'ADMITTED' | 'REJECTED';

export interface DelegationStreet {
  readonly street: string;
  /** The district (first six digits) whose reviewer answers for this street. */
  readonly district: string;
  readonly state: DelegationStreetState;
  readonly reviewedBy: string | null;
  readonly reviewedAt: string | null;
  readonly reason: string | null;
}

export interface DutyDelegation {
  readonly id: string;
  readonly duty: string;
  /** The delegating department (the duty's `delegatedBy`). */
  readonly delegatedBy: string;
  /** The document the delegation rests on, e.g. 沪民规〔2026〕1号. */
  readonly legalBasis: string;
  /** ISO instants. `validFrom` null: from admission on. */
  readonly validFrom: string | null;
  readonly validUntil: string;
  readonly note: string | null;
  readonly proposedBy: string;
  readonly proposedAt: string;
  readonly withdrawnBy: string | null;
  readonly withdrawnAt: string | null;
  readonly withdrawalReason: string | null;
  readonly streets: readonly DelegationStreet[];
}

/**
 * WITHDRAWN once withdrawn; REJECTED when every street was rejected; EXPIRED from `validUntil` on;
 * PROPOSED while some street still waits for its reviewer; ADMITTED otherwise (some street admitted).
 */
export function delegationState(d: DutyDelegation, now: number = Date.now()): DelegationState {
  if (d.withdrawnAt) return 'WITHDRAWN';
  if (d.streets.every((s) => s.state === 'REJECTED')) return 'REJECTED';
  if (Date.parse(d.validUntil) <= now) return 'EXPIRED';
  if (d.streets.some((s) => s.state === 'PROPOSED')) return 'PROPOSED';
  return 'ADMITTED';
}

/** Whether the delegation puts its duty in force for `street` at `now`. */
export function streetInForce(d: DutyDelegation, street: string, now: number = Date.now()): boolean {
  if (d.withdrawnAt) return false;
  if (d.validFrom && Date.parse(d.validFrom) > now) return false;
  if (Date.parse(d.validUntil) <= now) return false;
  return d.streets.some((s) => s.street === street && s.state === 'ADMITTED');
}

/**
 * An instant as the API accepts it (ISO date, read as a day in UTC+8, or date-time), as epoch ms;
 * undefined when it is not one. `edge: 'end'` makes a date mean the end of that day.
 */
export function parseApiInstant(value: string, edge: 'start' | 'end'): number | undefined {
  return parseCityInstant(value, edge);
}
