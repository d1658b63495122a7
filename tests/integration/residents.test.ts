/**
 * Residents see who read their data (CONTRACT.md § Residents), and reads carry X-Case-Ref: through
 * the real gateway, on every backend. The list comes from the audit trail itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, THE_BUND, type TestGateway } from '../setup.ts';
import type { DutyDef } from '../../policies/policy-definitions.ts';
import { auditEvent } from '../../audit/audit-event.ts';

const MY_DATA_ACCESS = /* GraphQL */ `
  query Mine($first: Int, $after: String) {
    myDataAccess(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { time organisation { id name nameZh } duty { id title titleZh } caseRef fields emergency } }
    }
  }`;

describe.each(BACKENDS)('residents and case references on %s', (backend) => {
  let gw: TestGateway;
  let clerk: string;
  let bundClerk: string;
  let auditor: string;
  let person: string;
  let other: string;
  const sqlSeen: string[] = [];

  /** One operation through yoga with any headers (the test setup's helper sends only the purpose). */
  async function call(query: string, token: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>) {
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }
  const residentToken = (idNumber: string) => gw.token({ sub: idNumber, org: 'resident', roles: ['resident'] });
  const duty = (id: string): DutyDef => gw.runtime.authorizer.duties().find((d) => d.id === id)!;
  async function setDuty(next: DutyDef) {
    await gw.runtime.policyStore.upsertDuty(next);
    await gw.runtime.authorizer.reload(true);
  }

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 400, onSourceQuery: (_source, q) => sqlSeen.push(q.sql) });
    clerk = await gw.token({ sub: 'clerk-nanjing', org: NANJING_EAST, roles: ['street_staff'] });
    bundClerk = await gw.token({ sub: 'clerk-bund', org: THE_BUND, roles: ['street_staff'] });
    auditor = await gw.token({ sub: 'auditor-1', org: 'office:security', roles: ['auditor'] });
    const { body } = await call(`{ people(first: 2) { edges { node { idNumber } } } }`, clerk, { 'x-purpose': 'elderly-allowance' });
    [person, other] = body.data.people.edges.map((e: any) => e.node.idNumber);
    expect(person).toMatch(/^\d{17}[\dX]$/);
  });
  afterAll(async () => gw?.close());

  it("lists a clerk's read of the resident, newest first, with organisation, duty, case reference and field names", async () => {
    const read = await call(`{ person(idNumber: "${person}") { name birthDate } }`, clerk, {
      'x-purpose': 'elderly-allowance',
      'x-case-ref': 'HP-2026-0042',
    });
    expect(read.body.errors).toBeUndefined();
    await call(`{ person(idNumber: "${other}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance' });

    const { body } = await call(MY_DATA_ACCESS, await residentToken(person), {}, { first: 5 });
    expect(body.errors).toBeUndefined();
    const nodes = body.data.myDataAccess.edges.map((e: any) => e.node);
    expect(nodes[0]).toEqual({
      time: expect.any(String),
      organisation: { id: NANJING_EAST, name: 'Nanjing East Road Street Office', nameZh: '南京东路街道办事处' },
      duty: { id: 'elderly-allowance', title: 'Review the elderly comprehensive allowance', titleZh: '审核老年综合津贴' },
      caseRef: 'HP-2026-0042',
      // Names only; a look-up by ID number is named as the filter it was.
      fields: ['population.birthDate', 'population.name', 'filter:population.idNumber'],
      emergency: false,
    });
    // The setup's people() read also carried this person; the read of `other` did not.
    expect(body.data.myDataAccess.totalCount).toBe(2);
    const times = nodes.map((n: any) => n.time);
    expect([...times].sort().reverse()).toEqual(times);
    // Field names only: no value of the person appears anywhere in the answer.
    expect(JSON.stringify(body)).not.toContain(person);
  });

  it('pages with cursors, never repeating or skipping a read', async () => {
    for (let i = 0; i < 3; i++) await call(`{ person(idNumber: "${person}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': `P-${i}` });
    const token = await residentToken(person);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await call(MY_DATA_ACCESS, token, {}, { first: 2, after });
      expect(body.errors).toBeUndefined();
      seen.push(...body.data.myDataAccess.edges.map((e: any) => e.cursor));
      if (!body.data.myDataAccess.pageInfo.hasNextPage) break;
      after = body.data.myDataAccess.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(5);
  });

  it("is only ever the caller's own: other roles and organisations are refused, the person is the token's", async () => {
    for (const token of [clerk, auditor, await gw.token({ sub: person, org: NANJING_EAST, roles: ['resident'] }), await gw.token({ sub: 'not-an-id', org: 'resident', roles: ['resident'] })]) {
      const { body } = await call(MY_DATA_ACCESS, token, {}, { first: 5 });
      expect(body.data).toBeNull();
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    // Someone nobody read sees an empty list (and not the others').
    const { body } = await call(MY_DATA_ACCESS, await residentToken('110101199001011237'), {}, { first: 5 });
    expect(body.data.myDataAccess).toMatchObject({ totalCount: 0, edges: [] });
  });

  it("keeps the resident's ID number out of the trail in clear; the resident's own look-ups are not listed to them", async () => {
    await call(MY_DATA_ACCESS, await residentToken(person), {}, { first: 1 });
    const db = gw.runtime.databases.store;
    const clear = await sql<{ n: unknown }>`select count(*) as n from audit_event where actor_org = 'resident' and actor_sub = ${person}`.execute(db);
    expect(Number(clear.rows[0]!.n)).toBe(0);
    const own = await sql<{ n: unknown }>`select count(*) as n from audit_event where actor_org = 'resident' and cardinality(subject_hashes) = 1`.execute(db);
    expect(Number(own.rows[0]!.n)).toBeGreaterThan(0);
    const { body } = await call(MY_DATA_ACCESS, await residentToken(person), {}, { first: 50 });
    expect(body.data.myDataAccess.edges.every((e: any) => e.node.organisation.id !== 'resident')).toBe(true);
  });

  it("delays a duty's reads by its disclosureDelayDays, and shows them once the delay has passed", async () => {
    const original = duty('elderly-allowance');
    await setDuty({ ...original, disclosureDelayDays: 30 });
    try {
      const before = (await call(MY_DATA_ACCESS, await residentToken(other), {}, { first: 50 })).body.data.myDataAccess.totalCount;
      await call(`{ person(idNumber: "${other}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': 'SECRET-1' });
      const { body } = await call(MY_DATA_ACCESS, await residentToken(other), {}, { first: 50 });
      expect(body.data.myDataAccess.edges.map((e: any) => e.node.caseRef)).not.toContain('SECRET-1');
      // Earlier reads under the duty are within the delay too: hidden as well, not dropped.
      expect(body.data.myDataAccess.totalCount).toBeLessThanOrEqual(before);
      const later = await gw.runtime.residentDisclosure.page(other, {
        first: 50,
        delays: new Map([['elderly-allowance', 30]]),
        now: new Date(Date.now() + 31 * 86_400_000),
      });
      expect(later.edges.map((e) => e.node.caseRef)).toContain('SECRET-1');
    } finally {
      await setDuty(original);
    }
  });

  it('a duty with requiresCaseRef reads nothing without X-Case-Ref (BAD_USER_INPUT), and records it when given', async () => {
    const original = duty('elderly-allowance');
    await setDuty({ ...original, requiresCaseRef: true });
    try {
      sqlSeen.length = 0;
      const refused = await call(`{ person(idNumber: "${person}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance' });
      expect(refused.body.data ?? null).toBeNull();
      expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const blank = await call(`{ people(first: 1) { totalCount } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': '   ' });
      expect(blank.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const stats = await call(`{ statistics(dataset: "population", groupBy: []) { count } }`, clerk, { 'x-purpose': 'elderly-allowance' });
      expect(stats.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(sqlSeen).toEqual([]);
      const allowed = await call(`{ person(idNumber: "${person}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': 'REQ-77' });
      expect(allowed.body.errors).toBeUndefined();
      expect(sqlSeen.length).toBeGreaterThan(0);
    } finally {
      await setDuty(original);
    }
  });

  it("X-Case-Ref goes into every event, refused ones too, and the auditors' search filters on it", async () => {
    await call(`{ house(id: "nope") { id } }`, bundClerk, { 'x-purpose': 'grid-inspection', 'x-case-ref': 'AUD-9' });
    await call(`{ person(idNumber: "${person}") { phone } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': 'AUD-9' });
    const { body } = await call(
      `{ auditEvents(filter: { caseRef: "AUD-9" }, first: 10) { totalCount edges { node { caseRef decision actor { sub } } } } }`,
      auditor,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.auditEvents.totalCount).toBe(2);
    expect(body.data.auditEvents.edges.map((e: any) => e.node.decision).sort()).toEqual(['deny', 'deny']);
    expect(body.data.auditEvents.edges.every((e: any) => e.node.caseRef === 'AUD-9')).toBe(true);
    // An ID number sent as a case reference is not kept in clear.
    await call(`{ person(idNumber: "${person}") { name } }`, clerk, { 'x-purpose': 'elderly-allowance', 'x-case-ref': `about ${person}` });
    const db = gw.runtime.databases.store;
    const leaked = await sql<{ n: unknown }>`select count(*) as n from audit_event where case_ref like ${`%${person}%`}`.execute(db);
    expect(Number(leaked.rows[0]!.n)).toBe(0);
    // The trail with case references still verifies.
    const report = await gw.runtime.verifyAudit();
    expect(report.firstProblem).toBeUndefined();
    expect(report.intact).toBe(true);
  });

  it('shows an emergency read as such, from the session its event names', async () => {
    const target = other;
    const viewer = { sub: 'clerk-nanjing', org: NANJING_EAST, roles: ['street_staff' as const] };
    // No X-Case-Ref on the read: the session's case is shown.
    const origin = { requestId: crypto.randomUUID(), started: Date.now(), viewer, purpose: 'elderly-allowance' };
    await gw.runtime.audit.append(
      auditEvent(origin, {
        operationType: 'query',
        decision: 'allow',
        fields: ['population.phone'],
        rows: 1,
        subjects: [target],
        change: { emergency: { session: 'session-1', caseRef: 'EM-1', refused: false } },
      }),
    );
    const { body } = await call(MY_DATA_ACCESS, await residentToken(target), {}, { first: 5 });
    const nodes = body.data.myDataAccess.edges.map((e: any) => e.node);
    expect(nodes[0]).toMatchObject({ caseRef: 'EM-1', emergency: true, fields: ['population.phone'] });
    expect(nodes.slice(1).every((n: any) => n.emergency === false)).toBe(true);
  });
  it('a look-up of the person through a filter appears in their myDataAccess (the pipeline makes such look-ups subjects)', async () => {
    const target = person;
    const token = await residentToken(target);
    const before = (await call(MY_DATA_ACCESS, token, {}, { first: 50 })).body.data.myDataAccess.totalCount;
    const lookup = await call(`{ people(first: 0, filter: { idNumber: { eq: "${target}" } }) { totalCount } }`, clerk, {
      'x-purpose': 'elderly-allowance',
      'x-case-ref': 'FILTER-1',
    });
    expect(lookup.body.data.people.totalCount).toBe(1);
    const { body } = await call(MY_DATA_ACCESS, token, {}, { first: 50 });
    expect(body.data.myDataAccess.totalCount).toBe(before + 1);
    expect(body.data.myDataAccess.edges[0].node).toMatchObject({ caseRef: 'FILTER-1', organisation: { id: NANJING_EAST } });
  });
});
