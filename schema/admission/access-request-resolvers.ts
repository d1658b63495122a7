/**
 * Access requests: street admins ask (for their own street, for a duty in force there) and
 * cancel; the data owner of the dataset's department approves as asked or narrower, or rejects;
 * approval creates the grant in the same transaction as the decision and its audit event.
 */
import { GatewayError } from '../../core/errors.ts';
import { DATASETS, isDatasetName } from '../../core/datasets.ts';
import { hasRole, streetCodeOf, type Viewer } from '../../core/identity.ts';
import { validateGrant } from '../../policies/grant-admission.ts';
import type { FieldAccess } from '../../policies/access-plan.ts';
import { PolicyStore } from '../../policies/policy-store.ts';
import { requestGrant, widerThanAsked, type AccessRequest, type AccessRequestState, type Approval } from '../../policies/admission/access-request.ts';
import { accessChanges } from '../../policies/admission/access-changes.ts';
import { commitChange, newId, ownedDatasets, requireRole, seesEverything, snapshotOf, viewerOf, type AdmissionDeps } from './admission-deps.ts';
import { futureEnd, page, requestedEmergency, requestedFields, requiredText, rowCondition } from './admission-input.ts';
import type { EmergencyClause } from '../../policies/emergency/emergency-clause.ts';
import { grantView } from '../admin/admin-schema.ts';

const bad = (message: string, details?: Record<string, unknown>) => new GatewayError('BAD_USER_INPUT', message, details ? { details } : {});
const forbidden = (message: string) => new GatewayError('FORBIDDEN', message);

function visible(viewer: Viewer, r: AccessRequest): boolean {
  if (seesEverything(viewer)) return true;
  if (ownedDatasets(viewer).includes(r.dataset)) return true;
  return hasRole(viewer, 'street_admin') && streetCodeOf(viewer.org) === r.street;
}

const fieldList = (fields: Readonly<Record<string, FieldAccess>>) =>
  Object.entries(fields).map(([field, access]) => ({ field, access: access === 'full' ? 'FULL' : 'MASKED' }));

const emergencyView = (clause: EmergencyClause | null) => (clause ? { fields: fieldList(clause.fields), maxMinutes: clause.maxMinutes } : null);

export function requestView(r: AccessRequest, deps: AdmissionDeps) {
  return {
    ...r,
    fields: fieldList(r.fields),
    rows: r.rows ? JSON.stringify(r.rows) : null,
    emergency: emergencyView(r.emergency),
    decision:
      r.state === 'APPROVED' || r.state === 'REJECTED'
        ? {
            decision: r.state === 'APPROVED' ? 'APPROVE' : 'REJECT',
            reviewer: r.reviewedBy,
            at: r.reviewedAt,
            reason: r.decisionReason,
            fields: r.approvedFields ? fieldList(r.approvedFields) : null,
            rows: r.approvedRows ? JSON.stringify(r.approvedRows) : null,
            validUntil: r.approvedUntil,
            emergency: r.state === 'APPROVED' ? emergencyView(r.approvedEmergency) : null,
          }
        : null,
    grant: async () => {
      if (!r.grantId) return null;
      const g = await deps.grants.grant(r.grantId);
      return g ? grantView(g) : null;
    },
    changes: async () => {
      const snapshot = await snapshotOf(deps);
      const proposed = r.state === 'PENDING' ? requestGrant(r, { fields: r.fields, rows: r.rows, validUntil: r.validUntil, untilMs: Date.parse(r.validUntil), emergency: r.emergency }, `preview-${r.id}`) : null;
      return accessChanges(snapshot, r.street, r.duty, r.dataset, proposed, deps.now?.() ?? Date.now()).map((c) => ({ ...c, changed: c.today !== c.after || c.todayEmergency !== c.afterEmergency }));
    },
  };
}

export function accessRequestResolvers(deps: AdmissionDeps) {
  const now = () => deps.now?.() ?? Date.now();
  return {
    Query: {
      accessRequests: async (
        _: unknown,
        args: { state?: AccessRequestState | null; dataset?: string | null; street?: string | null; first?: number | null; after?: string | null },
        context: object,
      ) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'street_admin', 'data_owner', 'auditor', 'platform_admin');
        if (args.dataset && !isDatasetName(args.dataset)) throw bad(`unknown dataset "${args.dataset}"`);
        // Narrowed in SQL to what the viewer may see, then by the arguments.
        const street = seesEverything(viewer) || hasRole(viewer, 'data_owner') ? undefined : streetCodeOf(viewer.org);
        const datasets = seesEverything(viewer) ? undefined : hasRole(viewer, 'data_owner') ? ownedDatasets(viewer) : undefined;
        if (!seesEverything(viewer) && !street && !datasets) return page([], () => '', args.first, null);
        const rows = await deps.store.requests({ state: args.state ?? undefined, dataset: args.dataset ?? undefined, street: args.street ?? street, datasets });
        const shown = rows.filter((r) => visible(viewer, r));
        return page(shown.map((r) => requestView(r, deps)), (r) => r.id, args.first, args.after);
      },
      accessRequest: async (_: unknown, args: { id: string }, context: object) => {
        const viewer = viewerOf(context);
        const r = await deps.store.request(args.id);
        return r && visible(viewer, r) ? requestView(r, deps) : null;
      },
    },
    Mutation: {
      requestAccess: async (_: unknown, args: { input: Record<string, unknown> }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'street_admin');
        const own = streetCodeOf(viewer.org);
        if (!own) throw forbidden(`${viewer.org} is not a street office`);
        const input = args.input;
        const street = input.street === null || input.street === undefined ? own : String(input.street);
        if (street !== own) throw forbidden(`a street admin asks for their own street only (${own}), not ${street}`);
        const dataset = String(input.dataset);
        if (!isDatasetName(dataset)) throw bad(`unknown dataset "${dataset}" (expected one of ${Object.keys(DATASETS).join(', ')})`);
        const duty = String(input.duty);
        if (!deps.authorizer.duties().some((d) => d.id === duty)) throw bad(`unknown duty "${duty}" (not in the duty catalogue)`);
        const fields = requestedFields(input.fields);
        const rows = rowCondition(dataset, input.rows);
        const reason = requiredText(input.reason, 'reason');
        const legalBasis = requiredText(input.legalBasis, 'legalBasis', 200);
        const at = now();
        const until = futureEnd(input.validUntil, 'validUntil', at);
        const emergency = requestedEmergency(input.emergency);
        // The grant it would create must be a valid grant (known fields, streetCode in full …).
        const id = newId('ar');
        const problems = validateGrant(
          { id: `grant-${id}`, owner: DATASETS[dataset].owner, dataset, duty, streets: [street], fields, rows, validFrom: null, validUntil: until.iso, emergency },
          deps.authorizer.duties(),
        );
        if (problems.length > 0) throw bad(problems.join('; '), { problems });
        await deps.authorizer.ensureCurrent();
        const plan = deps.authorizer.plan(viewer.org, duty);
        if (plan.refusal) throw forbidden(`${plan.refusal}: access is asked for a duty in force at the street`);
        const created = await commitChange(
          deps,
          context,
          'requestAccess',
          (trx) => deps.store.insertRequest(trx, { id, street, duty, dataset, fields, rows, reason, legalBasis, validUntil: until.iso, requestedBy: viewer.sub, emergency }, new Date(at)),
          (r) => ({ request: r.id, street: r.street, duty: r.duty, dataset: r.dataset, fields: r.fields, rows: r.rows, validUntil: r.validUntil, emergency: r.emergency }),
          { policyMoved: false },
        );
        return requestView(created, deps);
      },

      cancelAccessRequest: async (_: unknown, args: { id: string; reason: string }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'street_admin');
        const reason = requiredText(args.reason, 'reason');
        const existing = await deps.store.request(args.id);
        if (!existing) throw bad(`no access request ${args.id}`);
        if (streetCodeOf(viewer.org) !== existing.street) throw forbidden('only the street that asked may cancel its request');
        if (existing.state !== 'PENDING') throw bad(`request ${args.id} is ${existing.state}; only a PENDING request is cancelled`);
        const cancelled = await commitChange(
          deps,
          context,
          'cancelAccessRequest',
          async (trx) => {
            const r = await deps.store.cancelRequest(trx, args.id, viewer.sub, new Date(now()), reason);
            if (!r) throw bad(`request ${args.id} was decided meanwhile; nothing changed`);
            return r;
          },
          (r) => ({ request: r.id, reason }),
          { policyMoved: false },
        );
        return requestView(cancelled, deps);
      },

      reviewAccessRequest: async (
        _: unknown,
        args: {
          id: string;
          decision: 'APPROVE' | 'REJECT';
          fields?: unknown;
          rows?: string | null;
          validUntil?: string | null;
          emergency?: unknown;
          dropEmergency?: boolean | null;
          reason: string;
        },
        context: object,
      ) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner');
        const reason = requiredText(args.reason, 'reason');
        const existing = await deps.store.request(args.id);
        if (!existing) throw bad(`no access request ${args.id}`);
        if (!ownedDatasets(viewer).includes(existing.dataset)) throw forbidden(`dataset ${existing.dataset} is not owned by ${viewer.org}`);
        if (existing.requestedBy === viewer.sub) throw forbidden('nobody reviews their own request');
        if (existing.state !== 'PENDING') throw bad(`request ${args.id} is ${existing.state}; only a PENDING request is reviewed`);
        const at = now();

        if (args.decision === 'REJECT') {
          if (args.fields != null || args.rows != null || args.validUntil != null || args.emergency != null || args.dropEmergency) throw bad('a rejection takes a reason only');
          const rejected = await commitChange(
            deps,
            context,
            'reviewAccessRequest',
            async (trx) => {
              const r = await deps.store.decideRequest(trx, args.id, { state: 'REJECTED', by: viewer.sub, at: new Date(at), reason });
              if (!r) throw bad(`request ${args.id} was decided meanwhile; nothing changed`);
              return r;
            },
            (r) => ({ request: r.id, decision: 'REJECT', reason }),
            { policyMoved: false },
          );
          return requestView(rejected, deps);
        }

        const fields = args.fields == null ? { ...existing.fields } : requestedFields(args.fields);
        const rows = args.rows == null ? existing.rows : rowCondition(existing.dataset, args.rows);
        const until = args.validUntil == null ? futureEnd(existing.validUntil, 'the asked validUntil', at) : futureEnd(args.validUntil, 'validUntil', at);
        if (args.dropEmergency && args.emergency != null) throw bad('emergency: give a narrower clause or dropEmergency, not both');
        const emergency = args.dropEmergency ? null : args.emergency == null ? existing.emergency : requestedEmergency(args.emergency);
        const approval: Approval = { fields, rows, validUntil: until.iso, untilMs: until.ms, emergency };
        const wider = widerThanAsked(existing, approval);
        if (wider.length > 0) throw bad(`approval is wider than the request: ${wider.join('; ')}`, { problems: wider });
        const grantId = `grant-${existing.id}`;
        const grant = requestGrant(existing, approval, grantId);
        const problems = validateGrant(grant, deps.authorizer.duties());
        if (problems.length > 0) throw bad(problems.join('; '), { problems });
        await deps.authorizer.ensureCurrent();
        const plan = deps.authorizer.plan(`street:${existing.street}`, existing.duty);
        if (plan.refusal) throw bad(`${plan.refusal}: the duty is no longer in force at the street; reject the request instead`);

        const approved = await commitChange(
          deps,
          context,
          'reviewAccessRequest',
          async (trx) => {
            // The conditional update decides who wins two approvals at once: the second finds
            // the request no longer PENDING and rolls back.
            const r = await deps.store.decideRequest(trx, args.id, {
              state: 'APPROVED',
              by: viewer.sub,
              at: new Date(at),
              reason,
              approvedFields: fields,
              approvedRows: rows,
              approvedUntil: until.iso,
              approvedEmergency: emergency,
              grantId,
            });
            if (!r) throw bad(`request ${args.id} was decided meanwhile; nothing changed`);
            await new PolicyStore(trx).createGrant(grant, viewer.sub);
            await deps.store.recordApproval(trx, { grantId, requestId: r.id, by: viewer.sub, at: new Date(at), reason, legalBasis: r.legalBasis });
            return r;
          },
          (r) => ({ request: r.id, decision: 'APPROVE', grant: grantId, fields, rows, validUntil: until.iso, emergency, reason, street: r.street, duty: r.duty, dataset: r.dataset }),
        );
        return requestView(approved, deps);
      },
    },
  };
}
