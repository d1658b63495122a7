/**
 * An admission change and its audit event are one transaction: when the audit insert fails the
 * change is not there, and when the change fails its event is not there (CONTRACT.md). Faults are
 * injected with triggers in the store itself, on each backend, so the real transaction is tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import type { Role } from '../../core/identity.ts';

const who = {
  department: { sub: 'admin-urban', org: 'dept:urban-management', roles: ['department_admin'] as Role[] },
  reviewer: { sub: 'reviewer-310101', org: 'district:310101', roles: ['district_reviewer'] as Role[] },
  streetAdmin: { sub: 'admin-nanjing-east', org: NANJING_EAST, roles: ['street_admin'] as Role[] },
  owner: { sub: 'owner-psb', org: 'dept:public-security', roles: ['data_owner'] as Role[] },
  clerk: { sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] as Role[] },
};

for (const backend of BACKENDS) {
  describe(`admission change + audit event in one transaction (${backend})`, () => {
    let gw: TestGateway;
    const run = async (role: keyof typeof who, query: string, variables?: Record<string, unknown>, purpose?: string) =>
      (await gw.graphql(query, { token: await gw.token(who[role]), variables, purpose })).body;
    const db = () => gw.runtime.databases.store;
    const changeEvents = async (action: string) =>
      (await sql<{ n: number }>`select count(*)::int as n from audit_event where operation_name = ${`change:${action}`}`.execute(db())).rows[0]!.n;

    /** Makes inserts into `table` fail (for rows matching `when`) until the returned function is called. */
    async function failInserts(table: string, when: string): Promise<() => Promise<void>> {
      const name = `refuse_${table.replace(/\W/g, '')}_${Math.random().toString(36).slice(2, 8)}`;
      await sql.raw(`create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`).execute(db());
      await sql.raw(`create trigger ${name} before insert on ${table} for each row when (${when}) execute function ${name}()`).execute(db());
      return async () => {
        await sql.raw(`drop trigger ${name} on ${table}`).execute(db());
        await sql.raw(`drop function ${name}()`).execute(db());
      };
    }

    let requestId: string;
    beforeAll(async () => {
      gw = await createTestGateway({ backend });
      const proposed = await run('department', `mutation($i: ProposeDutyDelegationInput!) { proposeDutyDelegation(input: $i) { id } }`, {
        i: { duty: 'grid-inspection', streets: ['310101002'], legalBasis: 'x', validUntil: '2099-12-31' },
      });
      await run('reviewer', `mutation($id: ID!) { reviewDutyDelegation(id: $id, decision: ADMIT, reason: "ok") { id } }`, { id: proposed.data.proposeDutyDelegation.id });
      const asked = await run('streetAdmin', `mutation($i: RequestAccessInput!) { requestAccess(input: $i) { id } }`, {
        i: { duty: 'grid-inspection', dataset: 'population', fields: [{ field: 'phone', access: 'MASKED' }, { field: 'streetCode', access: 'FULL' }], reason: 'r', legalBasis: 'b', validUntil: '2099-12-31' },
      });
      requestId = asked.data.requestAccess.id;
    }, 120_000);
    afterAll(async () => {
      await gw?.close();
    });

    const APPROVE = `mutation($id: ID!) { reviewAccessRequest(id: $id, decision: APPROVE, reason: "ok") { state grant { id } } }`;
    const WITHDRAW = `mutation($id: ID!) { withdrawGrant(id: $id, reason: "end") { state } }`;
    const requestState = async () => (await sql<{ state: string }>`select state from access_request where id = ${requestId}`.execute(db())).rows[0]!.state;
    const grantRows = async () => (await sql<{ n: number }>`select count(*)::int as n from "grant" where id = ${`grant-${requestId}`}`.execute(db())).rows[0]!.n;
    const phoneRead = async () => run('clerk', `{ people(first: 1) { edges { node { phone } } } }`, undefined, 'grid-inspection');

    it('approval: the audit insert fails → no decision, no grant; the grant insert fails → no event', async () => {
      let restore = await failInserts('audit_event', "new.operation_name = 'change:reviewAccessRequest'");
      try {
        const body = await run('owner', APPROVE, { id: requestId });
        expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await restore();
      }
      expect(await requestState()).toBe('PENDING');
      expect(await grantRows()).toBe(0);
      expect(await changeEvents('reviewAccessRequest')).toBe(0);

      restore = await failInserts('"grant"', 'true');
      try {
        const body = await run('owner', APPROVE, { id: requestId });
        expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await restore();
      }
      expect(await requestState()).toBe('PENDING');
      expect(await changeEvents('reviewAccessRequest')).toBe(0);

      // With nothing failing, the same approval goes through, with exactly one event.
      const ok = await run('owner', APPROVE, { id: requestId });
      expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
      expect(await requestState()).toBe('APPROVED');
      expect(await grantRows()).toBe(1);
      expect(await changeEvents('reviewAccessRequest')).toBe(1);
      expect((await phoneRead()).errors).toBeUndefined();
    });

    it('withdrawal: the audit insert fails → the grant still serves; the change fails → no event', async () => {
      const grant = `grant-${requestId}`;
      let restore = await failInserts('audit_event', "new.operation_name = 'change:withdrawGrant'");
      try {
        expect((await run('owner', WITHDRAW, { id: grant })).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await restore();
      }
      expect((await phoneRead()).errors).toBeUndefined();
      expect((await gw.runtime.policyStore.grant(grant))!.revokedAt).toBeNull();

      restore = await failInserts('grant_review', 'true');
      try {
        expect((await run('owner', WITHDRAW, { id: grant })).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await restore();
      }
      expect((await gw.runtime.policyStore.grant(grant))!.revokedAt).toBeNull();
      expect(await changeEvents('withdrawGrant')).toBe(0);
      expect((await phoneRead()).errors).toBeUndefined();

      expect((await run('owner', WITHDRAW, { id: grant })).data.withdrawGrant.state).toBe('WITHDRAWN');
      expect(await changeEvents('withdrawGrant')).toBe(1);
      expect((await phoneRead()).errors[0].extensions.code).toBe('FORBIDDEN');
    });

    it('a proposal whose event cannot be stored is not there', async () => {
      const before = (await sql<{ n: number }>`select count(*)::int as n from duty_delegation`.execute(db())).rows[0]!.n;
      const restore = await failInserts('audit_event', "new.operation_name = 'change:proposeDutyDelegation'");
      try {
        const body = await run('department', `mutation($i: ProposeDutyDelegationInput!) { proposeDutyDelegation(input: $i) { id } }`, {
          i: { duty: 'illegal-construction', streets: ['310101019'], legalBasis: 'x', validUntil: '2099-12-31' },
        });
        expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      } finally {
        await restore();
      }
      expect((await sql<{ n: number }>`select count(*)::int as n from duty_delegation`.execute(db())).rows[0]!.n).toBe(before);
    });
  });
}
