/**
 * Administration: data owners manage grants on their own datasets, platform admins keep the duty
 * catalogue, street admins read their street's grants, and `explainAccess` says which grant allows
 * or which rule denies each field without reading data.
 */
import { DATASETS, isDatasetName } from '../../core/datasets.ts';
import { streetCodeOf } from '../../core/identity.ts';
import { hasRole, type Viewer } from '../../core/identity.ts';
import { resolverContext } from '../resolver-context.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Authorizer } from '../../policies/authorizer.ts';
import { admitGrant, datasetsOwnedBy, grantIsValid, validateDuty, validateGrant } from '../../policies/grant-admission.ts';
import type { DutyDef, GrantDef } from '../../policies/policy-definitions.ts';
import { PolicyStore, type StoredGrant } from '../../policies/policy-store.ts';
import type { Transaction } from 'kysely';
import { isGatewayError } from '../../core/errors.ts';
import { auditEvent, type TransactionalAuditSink } from '../../audit/audit-event.ts';
import { normalizeEmergencyClause } from '../../policies/emergency/emergency-clause.ts';

export const adminTypeDefs = /* GraphQL */ `
  extend type Query {
    "The duty catalogue."
    duties: [Duty!]!
    "Grants you may see: a data owner's own datasets, a street admin's street, all for platform admins and auditors."
    grants(dataset: String, duty: String): [Grant!]!
    "Which grant allows or which rule denies each dataset field (e.g. population.phone) for an organisation and purpose. Reads no data."
    explainAccess(org: String!, purpose: String!, fields: [String!]): [AccessDecision!]!
  }

  type AccessDecision {
    field: String!
    "full, masked or denied"
    decision: String!
    grant: String
    rule: String!
  }

  input GrantFieldInput {
    field: String!
    access: FieldAccess!
  }

  "A grant's emergency clause: fields readable only under an emergency session for the grant's duty, and its longest session."
  input GrantEmergencyInput {
    "Each full or masked."
    fields: [GrantFieldInput!]!
    "Minutes, 1 to 720; omitted: 60."
    maxMinutes: Int
  }

  input GrantInput {
    id: ID!
    dataset: String!
    duty: String!
    "Street codes; omit for all streets."
    streets: [String!]
    fields: [GrantFieldInput!]!
    "A row condition as JSON, e.g. {\\"field\\":\\"age\\",\\"op\\":\\"gte\\",\\"value\\":65}."
    rows: String
    validFrom: String
    validUntil: String
    "Optional emergency (break-glass) clause, checked by the same rule as the policy files'."
    emergency: GrantEmergencyInput
  }

  input DutyInput {
    id: ID!
    title: String!
    delegatedBy: String!
    "Street codes; omit for all streets."
    streets: [String!]
  }

  type Mutation {
    "Data owners: grant a duty fields of a dataset your department owns."
    createGrant(input: GrantInput!): Grant!
    "Data owners: withdraw a grant on a dataset your department owns."
    revokeGrant(id: ID!): Grant! @deprecated(reason: "Use withdrawGrant(id, reason): a withdrawal keeps its reason.")
    "Platform admins: add or change a duty in the catalogue."
    upsertDuty(input: DutyInput!): Duty!
  }
`;

export interface AdminDeps {
  readonly store: PolicyStore;
  readonly authorizer: Authorizer;
  /** Tells every instance (this one included) that the policies changed. */
  readonly policyChanged: () => Promise<void>;
  /**
   * Each change and its event are written in one transaction: never a change without its event,
   * nor an event of a change that did not happen. The mutation's own event (written by useAudit
   * after it ran) records the operation with the same request id.
   */
  readonly audit: TransactionalAuditSink;
}

/**
 * Applies `apply` and records `change` in one transaction; SERVICE_UNAVAILABLE (and nothing is
 * changed) when the store or the audit log cannot take them.
 */
async function changeWithEvent<T>(
  deps: AdminDeps,
  context: object,
  change: Readonly<Record<string, unknown>>,
  apply: (trx: Transaction<any>) => Promise<T>,
): Promise<T> {
  const state = resolverContext(context);
  const viewer = state.viewer;
  const started = Date.now();
  try {
    return await deps.audit.appendWith(apply, () =>
      auditEvent(
        { requestId: state.requestId, started, viewer, purpose: state.purpose, caseRef: state.caseRef },
        {
          operationType: 'mutation',
          operationName: `change:${String(change.action)}`,
          decision: 'allow',
          reason: 'administrative change, committed with this event; the mutation event with the same request id records the operation',
          change,
        },
      ),
    );
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw new GatewayError('SERVICE_UNAVAILABLE', 'the store or the audit log is unavailable; the change was not made', { cause: error });
  }
}

function viewerOf(context: object): Viewer {
  const viewer = resolverContext(context).viewer;
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
  return viewer;
}

function requireRole(viewer: Viewer, ...roles: Parameters<typeof hasRole>[1][]): void {
  if (!roles.some((r) => hasRole(viewer, r))) {
    throw new GatewayError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
  }
}

function ownedDatasets(viewer: Viewer): Set<string> {
  if (!hasRole(viewer, 'data_owner')) return new Set();
  return datasetsOwnedBy(viewer.org);
}

/**
 * Which grants this viewer may list. A street admin sees the grants that can apply to their
 * street: naming it (or all streets) under a duty delegated to it, the same rule as `me`.
 */
function visibleGrant(viewer: Viewer, grant: StoredGrant, duties: ReadonlyMap<string, DutyDef>): boolean {
  if (hasRole(viewer, 'platform_admin') || hasRole(viewer, 'auditor')) return true;
  if (ownedDatasets(viewer).has(grant.dataset)) return true;
  const street = streetCodeOf(viewer.org);
  if (street && hasRole(viewer, 'street_admin')) {
    const duty = duties.get(grant.duty);
    return (grant.streets === 'all' || grant.streets.includes(street)) && !!duty && delegatedTo(duty, street);
  }
  return false;
}

export function grantView(grant: StoredGrant) {
  return {
    ...grant,
    allStreets: grant.streets === 'all',
    streets: grant.streets === 'all' ? [] : grant.streets,
    fields: Object.entries(grant.fields).map(([field, access]) => ({ field, access })),
    rows: grant.rows ? JSON.stringify(grant.rows) : null,
    active: grantIsValid(grant, Date.now()),
  };
}

export function dutyView(duty: DutyDef) {
  return { ...duty, allStreets: duty.streets === 'all', streets: duty.streets === 'all' ? [] : duty.streets };
}

function delegatedTo(duty: DutyDef, street: string | undefined): boolean {
  return !!street && (duty.streets === 'all' || duty.streets.includes(street));
}

/** `[{field, access}]` → `{field: access}`; a field listed twice is BAD_USER_INPUT. */
function fieldMap(list: readonly { field: string; access: 'full' | 'masked' | 'aggregate' }[], name: string): Record<string, 'full' | 'masked' | 'aggregate'> {
  const fields: Record<string, 'full' | 'masked' | 'aggregate'> = {};
  for (const f of list) {
    if (Object.hasOwn(fields, f.field)) throw new GatewayError('BAD_USER_INPUT', `${name}: field ${f.field} listed twice`);
    fields[f.field] = f.access;
  }
  return fields;
}

export function adminResolvers(deps: AdminDeps) {
  return {
    Query: {
      me: (_: unknown, __: unknown, context: object) => {
        const viewer = viewerOf(context);
        const street = streetCodeOf(viewer.org);
        return {
          sub: viewer.sub,
          org: viewer.org,
          roles: viewer.roles,
          street: street ?? null,
          duties: deps.authorizer.duties().filter((d) => delegatedTo(d, street)).map(dutyView),
          grants: street
            ? deps.authorizer
                .grants()
                .filter((g) => grantIsValid(g, Date.now()) && (g.streets === 'all' || g.streets.includes(street)))
                .filter((g) => {
                  const duty = deps.authorizer.duties().find((d) => d.id === g.duty);
                  return !!duty && delegatedTo(duty, street);
                })
                .map(grantView)
            : [],
        };
      },
      duties: (_: unknown, __: unknown, context: object) => {
        viewerOf(context);
        return deps.authorizer.duties().map(dutyView);
      },
      grants: async (_: unknown, args: { dataset?: string | null; duty?: string | null }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner', 'street_admin', 'auditor', 'platform_admin');
        if (args.dataset && !isDatasetName(args.dataset)) throw new GatewayError('BAD_USER_INPUT', `unknown dataset "${args.dataset}"`);
        const seesAll = hasRole(viewer, 'platform_admin') || hasRole(viewer, 'auditor');
        if (args.dataset && !seesAll && hasRole(viewer, 'data_owner') && !ownedDatasets(viewer).has(args.dataset)) {
          throw new GatewayError('FORBIDDEN', `dataset ${args.dataset} is not owned by ${viewer.org}`);
        }
        const grants = await deps.store.grants({ dataset: args.dataset ?? undefined, duty: args.duty ?? undefined });
        const duties = new Map(deps.authorizer.duties().map((d) => [d.id, d]));
        const visible = grants.filter((g) => visibleGrant(viewer, g, duties));
        return visible.map(grantView);
      },
      explainAccess: (_: unknown, args: { org: string; purpose: string; fields?: string[] | null }, context: object) => {
        const viewer = viewerOf(context);
        const privileged = ['platform_admin', 'auditor', 'data_owner'].some((r) => hasRole(viewer, r as never));
        if (!privileged && args.org !== viewer.org) {
          throw new GatewayError('FORBIDDEN', 'you may explain access for your own organisation only');
        }
        const all = Object.values(DATASETS).flatMap((d) => d.fields.filter((f) => !f.internal).map((f) => `${d.name}.${f.name}`));
        const fields = args.fields && args.fields.length > 0 ? args.fields : all;
        if (fields.length > 200) throw new GatewayError('BAD_USER_INPUT', 'at most 200 fields');
        return deps.authorizer.explain(args.org, args.purpose, fields).map((d) => ({
          field: d.field,
          decision: d.access,
          grant: d.grant,
          rule: d.rule,
        }));
      },
    },
    Mutation: {
      createGrant: async (_: unknown, args: { input: any }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner');
        const input = args.input;
        if (!isDatasetName(input.dataset)) throw new GatewayError('BAD_USER_INPUT', `unknown dataset "${input.dataset}"`);
        if (!ownedDatasets(viewer).has(input.dataset)) {
          throw new GatewayError('FORBIDDEN', `dataset ${input.dataset} is not owned by ${viewer.org}`);
        }
        let rows: unknown = null;
        if (input.rows) {
          try {
            rows = JSON.parse(input.rows);
          } catch {
            throw new GatewayError('BAD_USER_INPUT', 'rows is not valid JSON');
          }
        }
        const fields = fieldMap(input.fields, 'fields');
        const written: GrantDef = {
          id: input.id,
          owner: viewer.org,
          dataset: input.dataset,
          duty: input.duty,
          streets: input.streets && input.streets.length > 0 ? input.streets : 'all',
          fields,
          rows: rows as GrantDef['rows'],
          validFrom: input.validFrom ?? null,
          validUntil: input.validUntil ?? null,
          // Its fields and minutes are checked by validateGrant below, the files' one rule.
          emergency: input.emergency
            ? (normalizeEmergencyClause({ fields: fieldMap(input.emergency.fields, 'emergency.fields'), maxMinutes: input.emergency.maxMinutes ?? undefined }) as GrantDef['emergency'])
            : null,
        };
        // The same admission rules as the policy files; the validity bounds become instants here.
        const problems = validateGrant(written, deps.authorizer.duties());
        if (problems.length > 0) throw new GatewayError('BAD_USER_INPUT', problems.join('; '), { details: { problems } });
        const grant = admitGrant(written);
        if (await deps.store.grant(grant.id)) throw new GatewayError('BAD_USER_INPUT', `grant ${grant.id} already exists`);
        const created = await changeWithEvent(deps, context, { action: 'createGrant', grant }, (trx) => new PolicyStore(trx).createGrant(grant, viewer.sub));
        resolverContext(context).trace.change = { action: 'createGrant', grant: created };
        await deps.policyChanged();
        return grantView(created);
      },
      revokeGrant: async (_: unknown, args: { id: string }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'data_owner');
        const existing = await deps.store.grant(args.id);
        if (!existing || !ownedDatasets(viewer).has(existing.dataset)) {
          // Another department's grant is answered like a missing one.
          throw new GatewayError('BAD_USER_INPUT', `no grant ${args.id} on a dataset owned by ${viewer.org}`);
        }
        if (existing.revokedAt) throw new GatewayError('BAD_USER_INPUT', `grant ${args.id} is already revoked`);
        const revoked = await changeWithEvent(deps, context, { action: 'revokeGrant', grant: args.id, dataset: existing.dataset, duty: existing.duty }, async (trx) => {
          const done = await new PolicyStore(trx).revokeGrant(args.id, viewer.sub);
          if (!done) throw new GatewayError('BAD_USER_INPUT', `grant ${args.id} is already revoked`);
          return done;
        });
        resolverContext(context).trace.change = { action: 'revokeGrant', grant: args.id, dataset: existing.dataset, duty: existing.duty };
        await deps.policyChanged();
        return grantView(revoked);
      },
      upsertDuty: async (_: unknown, args: { input: any }, context: object) => {
        const viewer = viewerOf(context);
        requireRole(viewer, 'platform_admin');
        const input = args.input;
        const streets: string[] | 'all' = input.streets && input.streets.length > 0 ? input.streets : 'all';
        const duty: DutyDef = { id: input.id, title: input.title, delegatedBy: input.delegatedBy, streets };
        // The same rules as the duty catalogue file (one duty-id rule: DUTY_ID).
        const problems = validateDuty(duty);
        if (problems.length > 0) throw new GatewayError('BAD_USER_INPUT', problems.join('; '), { details: { problems } });
        await changeWithEvent(deps, context, { action: 'upsertDuty', duty }, (trx) => new PolicyStore(trx).upsertDuty(duty));
        resolverContext(context).trace.change = { action: 'upsertDuty', duty };
        await deps.policyChanged();
        return dutyView(duty);
      },
    },
  };
}
