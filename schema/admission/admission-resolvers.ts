/**
 * The admission review's resolvers: delegations, access requests, and the grants they lead to
 * (their state, request, approver and reasons, `withdrawGrant`, `expiringGrants`).
 */
import DataLoader from 'dataloader';
import { GatewayError } from '../../core/errors.ts';
import { hasRole, streetCodeOf, type Viewer } from '../../core/identity.ts';
import { PolicyStore, type StoredGrant } from '../../policies/policy-store.ts';
import type { GrantReview } from '../../policies/admission-store.ts';
import { dutyView, grantView } from '../admin/admin-schema.ts';
import { commitChange, ownedDatasets, requireRole, seesEverything, viewerOf, type AdmissionDeps } from './admission-deps.ts';
import { requiredText } from './admission-input.ts';
import { standingGrantDocuments } from '../../policies/admission/standing-policies.ts';
import { delegationResolvers } from './delegation-resolvers.ts';
import { accessRequestResolvers, requestView } from './access-request-resolvers.ts';

export { admissionTypeDefs } from './admission.graphql.ts';
export type { AdmissionDeps } from './admission-deps.ts';

const DAY_MS = 86_400_000;

type GrantParent = ReturnType<typeof grantView>;

export function grantState(g: Pick<StoredGrant, 'revokedAt' | 'validUntil'>, now: number): 'ACTIVE' | 'EXPIRED' | 'WITHDRAWN' {
  if (g.revokedAt) return 'WITHDRAWN';
  if (g.validUntil && Date.parse(g.validUntil) <= now) return 'EXPIRED';
  return 'ACTIVE';
}

/** Grants a viewer may list: its department's datasets, its street's, or all (auditors, platform admins). */
function grantVisible(viewer: Viewer, g: StoredGrant): boolean {
  if (seesEverything(viewer) || ownedDatasets(viewer).includes(g.dataset)) return true;
  const street = streetCodeOf(viewer.org);
  return !!street && hasRole(viewer, 'street_admin') && (g.streets === 'all' || g.streets.includes(street));
}

/** One review look-up per request, however many grants the answer shows. */
const reviewLoaders = new WeakMap<object, DataLoader<string, GrantReview | null>>();
function reviewOf(deps: AdmissionDeps, context: object, grantId: string): Promise<GrantReview | null> {
  let loader = reviewLoaders.get(context);
  if (!loader) {
    loader = new DataLoader(async (ids) => {
      const reviews = await deps.store.grantReviews(ids);
      return ids.map((id) => reviews.get(id) ?? null);
    });
    reviewLoaders.set(context, loader);
  }
  return loader.load(grantId);
}

export function admissionResolvers(deps: AdmissionDeps) {
  const now = () => deps.now?.() ?? Date.now();
  // Where each standing grant is written, read once from the shipped policy files when first asked.
  let documents: Promise<ReadonlyMap<string, string>> | undefined;
  const documentOf = async (id: string) => {
    documents ??= deps.standingDocuments ? Promise.resolve(deps.standingDocuments) : standingGrantDocuments();
    return (await documents).get(id) ?? 'policy files';
  };
  const delegations = delegationResolvers(deps);
  const requests = accessRequestResolvers(deps);
  const review = (field: keyof GrantReview) => async (g: GrantParent, _: unknown, context: object) =>
    (await reviewOf(deps, context, g.id))?.[field] ?? null;
  return {
    Query: {
      ...delegations.Query,
      ...requests.Query,
      expiringGrants: async (_: unknown, args: { withinDays?: number | null }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner', 'street_admin', 'auditor', 'platform_admin');
        const days = args.withinDays ?? 30;
        if (!Number.isInteger(days) || days < 1 || days > 366) throw new GatewayError('BAD_USER_INPUT', 'withinDays must be from 1 to 366');
        const at = now();
        const horizon = at + days * DAY_MS;
        const grants = await deps.grants.grants();
        return grants
          .filter((g) => grantState(g, at) === 'ACTIVE' && g.validUntil && Date.parse(g.validUntil) <= horizon && grantVisible(viewer, g))
          .sort((a, b) => Date.parse(a.validUntil!) - Date.parse(b.validUntil!) || a.id.localeCompare(b.id))
          .map(grantView);
      },
    },
    Mutation: {
      ...delegations.Mutation,
      ...requests.Mutation,
      withdrawGrant: async (_: unknown, args: { id: string; reason: string }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner');
        const reason = requiredText(args.reason, 'reason');
        const existing = await deps.grants.grant(args.id);
        if (!existing) throw new GatewayError('BAD_USER_INPUT', `no grant ${args.id}`);
        if (!ownedDatasets(viewer).includes(existing.dataset)) {
          throw new GatewayError('FORBIDDEN', `grant ${args.id} is on ${existing.dataset}, which ${viewer.org} does not own`);
        }
        if (existing.revokedAt) throw new GatewayError('BAD_USER_INPUT', `grant ${args.id} is already withdrawn`);
        const withdrawn = await commitChange(
          deps,
          context,
          'withdrawGrant',
          async (trx) => {
            const at = new Date(now());
            const g = await new PolicyStore(trx).revokeGrant(args.id, viewer.sub);
            if (!g) throw new GatewayError('BAD_USER_INPUT', `grant ${args.id} is already withdrawn`);
            await deps.store.recordWithdrawal(trx, args.id, viewer.sub, at, reason);
            return g;
          },
          (g) => ({ grant: g.id, dataset: g.dataset, duty: g.duty, streets: g.streets, reason }),
        );
        return grantView(withdrawn);
      },
    },
    Viewer: {
      dutiesInForce: async (v: { org: string }) => {
        if (!streetCodeOf(v.org)) return [];
        await deps.authorizer.ensureCurrent();
        return deps.authorizer
          .duties()
          .filter((d) => deps.authorizer.plan(v.org, d.id).refusal === null)
          .map(dutyView);
      },
    },
    Grant: {
      state: (g: GrantParent) => grantState(g, now()),
      fromFiles: (g: GrantParent) => g.origin === 'file',
      document: (g: GrantParent) => (g.origin === 'file' ? documentOf(g.id) : null),
      request: async (g: GrantParent, _: unknown, context: object) => {
        const requestId = (await reviewOf(deps, context, g.id))?.requestId;
        const r = requestId ? await deps.store.request(requestId) : undefined;
        return r ? requestView(r, deps) : null;
      },
      approvedBy: review('approvedBy'),
      approvedAt: review('approvedAt'),
      approvalReason: review('approvalReason'),
      legalBasis: review('legalBasis'),
      withdrawnBy: review('withdrawnBy'),
      withdrawnAt: review('withdrawnAt'),
      withdrawalReason: review('withdrawalReason'),
    },
  };
}
