/**
 * When a duty is delegated to a street: the admitted, unwithdrawn delegations as time windows,
 * indexed by duty. The access-plan compiler asks {@link delegationInForce} at the instant of the
 * plan and drops its cached plan at {@link nextDelegationChange}, so a delegation's `validUntil`
 * ends access with no job to run. Pure: the authorizer loads the windows with the grants.
 */

/** One street's admitted delegation of one duty. `from` inclusive, `until` exclusive (epoch ms). */
export interface DelegationWindow {
  readonly delegation: string;
  readonly duty: string;
  readonly street: string;
  readonly from: number | null;
  readonly until: number;
}

/** Windows by duty, then street. */
export type DelegationIndex = ReadonlyMap<string, ReadonlyMap<string, readonly DelegationWindow[]>>;

export const NO_DELEGATIONS: DelegationIndex = new Map();

export function indexDelegations(windows: readonly DelegationWindow[]): DelegationIndex {
  const index = new Map<string, Map<string, DelegationWindow[]>>();
  for (const w of windows) {
    let byStreet = index.get(w.duty);
    if (!byStreet) index.set(w.duty, (byStreet = new Map()));
    const list = byStreet.get(w.street);
    if (list) list.push(w);
    else byStreet.set(w.street, [w]);
  }
  return index;
}

/** The delegation that puts `duty` in force for `street` at `now`, if any. */
export function delegationInForce(index: DelegationIndex, duty: string, street: string, now: number): DelegationWindow | undefined {
  return index.get(duty)?.get(street)?.find((w) => (w.from === null || w.from <= now) && now < w.until);
}

/**
 * The first instant after `now` at which a window of `duty` for `street` opens or closes (Infinity
 * when none does): a plan of that street and duty must not be served past it.
 */
export function nextDelegationChange(index: DelegationIndex, duty: string, street: string, now: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const w of index.get(duty)?.get(street) ?? []) {
    if (w.from !== null && w.from > now && w.from < next) next = w.from;
    if (w.until > now && w.until < next) next = w.until;
  }
  return next;
}
