/**
 * Duty delegations: department admins propose and withdraw, district reviewers admit or reject
 * the streets of their district. Who may do what (CONTRACT.md): a department admin only for duties
 * its department delegates, a reviewer only streets of its district, nobody their own proposal;
 * anything else FORBIDDEN. A transition from the wrong state is BAD_USER_INPUT and changes nothing.
 */
import { GatewayError } from '../../core/errors.ts';
import { districtCodeOf, districtOfStreet, hasRole, streetCodeOf, type Viewer } from '../../core/identity.ts';
import { STREET_CODE } from '../../policies/grant-admission.ts';
import { delegationState, streetInForce, type DelegationState, type DutyDelegation } from '../../policies/admission/duty-delegation.ts';
import { commitChange, newId, ownedDatasets, requireRole, seesEverything, viewerOf, type AdmissionDeps } from './admission-deps.ts';
import { futureEnd, optionalText, page, requiredText, startNotBeforeToday } from './admission-input.ts';

const bad = (message: string) => new GatewayError('BAD_USER_INPUT', message);
const forbidden = (message: string) => new GatewayError('FORBIDDEN', message);

/** Whether the viewer may see a delegation (and so act on it, role permitting). */
function visible(viewer: Viewer, d: DutyDelegation): boolean {
  if (seesEverything(viewer) || ownedDatasets(viewer).length > 0) return true;
  if (hasRole(viewer, 'department_admin') && d.delegatedBy === viewer.org) return true;
  const district = districtCodeOf(viewer.org);
  if (district && hasRole(viewer, 'district_reviewer') && d.streets.some((s) => s.district === district)) return true;
  const street = streetCodeOf(viewer.org);
  return !!street && (hasRole(viewer, 'street_admin') || hasRole(viewer, 'street_staff')) && d.streets.some((s) => s.street === street);
}

export function delegationView(d: DutyDelegation, deps: AdmissionDeps) {
  const now = deps.now?.() ?? Date.now();
  return {
    ...d,
    dutyTitle: deps.authorizer.duties().find((x) => x.id === d.duty)?.title ?? null,
    state: delegationState(d, now),
    streets: d.streets.map((s) => ({ ...s, inForce: streetInForce(d, s.street, now) })),
  };
}

export function delegationResolvers(deps: AdmissionDeps) {
  const now = () => deps.now?.() ?? Date.now();
  return {
    Query: {
      dutyDelegations: async (
        _: unknown,
        args: { state?: DelegationState | null; duty?: string | null; street?: string | null; first?: number | null; after?: string | null },
        context: object,
      ) => {
        const viewer = viewerOf(context);
        if (hasRole(viewer, 'resident') && viewer.roles.length === 1) throw forbidden('residents see who read their data, not delegations');
        const all = await deps.store.delegations({ duty: args.duty ?? undefined, street: args.street ?? undefined });
        const at = now();
        const shown = all.filter((d) => visible(viewer, d) && (!args.state || delegationState(d, at) === args.state));
        return page(shown.map((d) => delegationView(d, deps)), (d) => d.id, args.first, args.after);
      },
    },
    Mutation: {
      proposeDutyDelegation: async (_: unknown, args: { input: Record<string, unknown> }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'department_admin');
        const input = args.input;
        const dutyId = String(input.duty);
        const duty = deps.authorizer.duties().find((d) => d.id === dutyId);
        if (!duty) throw bad(`unknown duty "${dutyId}" (not in the duty catalogue)`);
        if (duty.delegatedBy !== viewer.org) throw forbidden(`duty ${duty.id} is delegated by ${duty.delegatedBy}, not by ${viewer.org}`);
        const streets = input.streets as string[];
        if (!Array.isArray(streets) || streets.length === 0) throw bad('streets must list at least one street');
        if (streets.length > 1000) throw bad('at most 1000 streets per proposal');
        const seen = new Set<string>();
        for (const s of streets) {
          if (!STREET_CODE.test(s)) throw bad(`bad street code ${JSON.stringify(s)} (expected 9 digits, e.g. "310101002")`);
          if (seen.has(s)) throw bad(`street ${s} is listed twice`);
          seen.add(s);
        }
        const at = now();
        const legalBasis = requiredText(input.legalBasis, 'legalBasis', 200);
        const note = optionalText(input.note, 'note');
        const from = startNotBeforeToday(input.validFrom, 'validFrom', at);
        const until = futureEnd(input.validUntil, 'validUntil', at);
        if (from && from.ms >= until.ms) throw bad('validFrom is not before validUntil');
        const id = newId('dd');
        const created = await commitChange(
          deps,
          context,
          'proposeDutyDelegation',
          (trx) =>
            deps.store.insertDelegation(
              trx,
              {
                id,
                duty: duty.id,
                delegatedBy: viewer.org,
                legalBasis,
                validFrom: from?.iso ?? null,
                validUntil: until.iso,
                note,
                proposedBy: viewer.sub,
                streets: streets.map((street) => ({ street, district: districtOfStreet(street)! })),
              },
              new Date(at),
            ),
          (d) => ({ delegation: d.id, duty: d.duty, streets: d.streets.map((s) => s.street), legalBasis: d.legalBasis, validFrom: d.validFrom, validUntil: d.validUntil }),
          { policyMoved: false },
        );
        return delegationView(created, deps);
      },

      reviewDutyDelegation: async (
        _: unknown,
        args: { id: string; decision: 'ADMIT' | 'REJECT'; streets?: string[] | null; reason: string },
        context: object,
      ) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'district_reviewer');
        const district = districtCodeOf(viewer.org);
        if (!district) throw forbidden(`${viewer.org} is not a district (district:<6 digits>)`);
        const reason = requiredText(args.reason, 'reason');
        const existing = await deps.store.delegation(args.id);
        if (!existing) throw bad(`no duty delegation ${args.id}`);
        const ours = existing.streets.filter((s) => s.district === district);
        if (ours.length === 0) throw forbidden(`delegation ${args.id} names no street of district ${district}`);
        if (existing.proposedBy === viewer.sub) throw forbidden('nobody reviews their own proposal');
        if (args.streets) {
          for (const s of args.streets) {
            const named = existing.streets.find((x) => x.street === s);
            if (!named) throw bad(`street ${s} is not in delegation ${args.id}`);
            if (named.district !== district) throw forbidden(`street ${s} is not in district ${district}`);
          }
        }
        const state = await commitChange(
          deps,
          context,
          'reviewDutyDelegation',
          async (trx) => {
            // Held until commit: a second review of the same delegation waits, then sees this one.
            const d = (await deps.store.delegation(args.id, trx, true))!;
            const at = now();
            const lifecycle = delegationState(d, at);
            if (lifecycle !== 'PROPOSED') throw bad(`delegation ${args.id} is ${lifecycle}; only a PROPOSED delegation is reviewed`);
            const pending = d.streets.filter((s) => s.district === district && s.state === 'PROPOSED').map((s) => s.street);
            const target = args.streets ? [...new Set(args.streets)] : pending;
            const answered = target.filter((s) => !pending.includes(s));
            if (pending.length === 0) throw bad(`the streets of district ${district} in delegation ${args.id} are already reviewed`);
            if (answered.length > 0) throw bad(`already reviewed: ${answered.join(', ')}`);
            if (target.length === 0) throw bad('streets must name at least one street');
            const decision = args.decision === 'ADMIT' ? 'ADMITTED' : 'REJECTED';
            const changed = await deps.store.answerStreets(trx, args.id, target, { state: decision, by: viewer.sub, at: new Date(at), reason });
            if (changed !== target.length) throw bad(`delegation ${args.id} was reviewed meanwhile; nothing changed`);
            return { delegation: (await deps.store.delegation(args.id, trx))!, streets: target, decision };
          },
          (r) => ({ delegation: r.delegation.id, duty: r.delegation.duty, decision: r.decision, streets: r.streets, reason }),
          { policyMoved: (r) => r.decision === 'ADMITTED' },
        );
        return delegationView(state.delegation, deps);
      },

      withdrawDutyDelegation: async (_: unknown, args: { id: string; reason: string }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'department_admin');
        const reason = requiredText(args.reason, 'reason');
        const existing = await deps.store.delegation(args.id);
        if (!existing) throw bad(`no duty delegation ${args.id}`);
        if (existing.delegatedBy !== viewer.org) throw forbidden(`delegation ${args.id} is ${existing.delegatedBy}'s, not ${viewer.org}'s`);
        const withdrawn = await commitChange(
          deps,
          context,
          'withdrawDutyDelegation',
          async (trx) => {
            const d = (await deps.store.delegation(args.id, trx, true))!;
            const at = now();
            const lifecycle = delegationState(d, at);
            if (lifecycle !== 'PROPOSED' && lifecycle !== 'ADMITTED') throw bad(`delegation ${args.id} is ${lifecycle}; it cannot be withdrawn`);
            if (!(await deps.store.withdrawDelegation(trx, args.id, viewer.sub, new Date(at), reason))) throw bad(`delegation ${args.id} is already withdrawn`);
            return (await deps.store.delegation(args.id, trx))!;
          },
          (d) => ({ delegation: d.id, duty: d.duty, streets: d.streets.filter((s) => s.state === 'ADMITTED').map((s) => s.street), reason }),
        );
        return delegationView(withdrawn, deps);
      },
    },
  };
}
