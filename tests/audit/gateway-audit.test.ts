/**
 * The audit trail as the gateway writes it: exactly one event per operation under concurrency,
 * matching what each response returned, and subject access reports that name exactly the reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { loadAuditKeys, subjectHasher } from '../../audit/audit-keys.ts';

describe.each(BACKENDS)('gateway audit trail on %s', (backend) => {
  let gw: TestGateway;
  let hash: (idNumber: string) => string;

  beforeAll(async () => {
    // 2,000 operations at once queue for pool connections far longer than a deployment would let them.
    gw = await createTestGateway({ backend, persons: 3000, poolWaitMs: 120_000 });
    hash = subjectHasher(loadAuditKeys(gw.config).subjectKey);
  });
  afterAll(async () => gw?.close());

  async function eventOf(requestId: string) {
    const rows = await sql<{ rows: number; subject_hashes: string[]; decision: string; actor_org: string; purpose: string | null }>`
      select rows, subject_hashes, decision, actor_org, purpose from audit_event where request_id = ${requestId}`.execute(gw.runtime.databases.store);
    return rows.rows;
  }

  it('2,000 concurrent operations leave exactly 2,000 events matching their responses, and every chain verifies', async () => {
    const clerk = await gw.token({ sub: 'clerk-load', org: NANJING_EAST, roles: ['street_staff'] });
    const ids = await sql<{ id: string }>`select id_number as id from population.person order by rid limit 200`.execute(gw.runtime.databases.population);
    const before = Number((await sql<{ n: string }>`select count(*) as n from audit_event`.execute(gw.runtime.databases.store)).rows[0]!.n);

    type Sent = { query: string; purpose: string; variables?: Record<string, unknown>; kind: 'page' | 'lookup' | 'forbidden' | 'houses' };
    const operations: Sent[] = Array.from({ length: 2000 }, (_, i): Sent => {
      switch (i % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
          return { kind: 'page', purpose: 'elderly-allowance', query: `{ people(first: ${(i % 7) + 1}) { edges { node { idNumber name } } } }` };
        case 4:
        case 5:
        case 6:
          return {
            kind: 'lookup',
            purpose: 'minimum-living-assistance',
            query: `query($id: ID!) { person(idNumber: $id) { idNumber name } }`,
            variables: { id: ids.rows[i % ids.rows.length]!.id },
          };
        case 7:
        case 8:
          return { kind: 'forbidden', purpose: 'elderly-allowance', query: `{ people(first: 3) { edges { node { phone } } } }` };
        default:
          return { kind: 'houses', purpose: 'rental-registration', query: `{ houses(first: 2) { edges { node { ownerName residents { name } } } } }` };
      }
    });

    const responses = await Promise.all(
      operations.map(async (op) => {
        const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${clerk}`, 'x-purpose': op.purpose },
          body: JSON.stringify({ query: op.query, variables: op.variables }),
        });
        return { op, requestId: response.headers.get('x-request-id')!, body: await response.json() };
      }),
    );
    const after = Number((await sql<{ n: string }>`select count(*) as n from audit_event`.execute(gw.runtime.databases.store)).rows[0]!.n);
    expect(after - before).toBe(2000);
    expect(new Set(responses.map((r) => r.requestId)).size).toBe(2000);

    for (const { op, requestId, body } of responses) {
      const events = await eventOf(requestId);
      expect(events).toHaveLength(1);
      const event = events[0]!;
      expect(event.actor_org).toBe(NANJING_EAST);
      expect(event.purpose).toBe(op.purpose);
      if (op.kind === 'forbidden') {
        expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
        expect(event).toMatchObject({ decision: 'deny', rows: 0, subject_hashes: [] });
        continue;
      }
      expect(body.errors).toBeUndefined();
      expect(event.decision).toBe('allow');
      if (op.kind === 'houses') {
        const houses = body.data.houses.edges.map((e: any) => e.node);
        expect(event.rows).toBe(houses.length + houses.reduce((n: number, h: any) => n + h.residents.length, 0));
        continue;
      }
      const persons = op.kind === 'page' ? body.data.people.edges.map((e: any) => e.node) : body.data.person ? [body.data.person] : [];
      expect(event.rows).toBe(persons.length);
      expect([...event.subject_hashes].sort()).toEqual(persons.map((p: any) => hash(p.idNumber)).sort());
    }

    const report = await gw.runtime.verifyAudit();
    expect(report.firstProblem ?? null).toBeNull(); // names the problem when there is one
    expect(report.intact).toBe(true);
  }, 240_000);

  it('a subject access report lists exactly the reads of one person by three streets under two duties', async () => {
    const db = gw.runtime.databases.population;
    // An owner who lives in one street and lets houses in two others.
    const candidates = await sql<{ id: string; home: string; streets: string[]; houses: string[] }>`
      select p.id_number as id, p.street_code as home,
             array_agg(h.street_code order by h.street_code) as streets, array_agg(h.id order by h.street_code) as houses
      from population.person p join housing.house h on h.owner_id_number = p.id_number
      where h.street_code <> p.street_code and h.tenure in ('owned', 'rented')
      group by p.id_number, p.street_code
      having count(distinct h.street_code) >= 2
      order by p.id_number limit 1`.execute(db);
    expect(candidates.rows.length).toBe(1);
    const owner = candidates.rows[0]!;
    const [streetA, streetC] = [...new Set(owner.streets)];
    const houseA = owner.houses[owner.streets.indexOf(streetA!)]!;
    const houseC = owner.houses[owner.streets.indexOf(streetC!)]!;

    const clerkOf = (street: string) => gw.token({ sub: `clerk-${street}`, org: `street:${street}`, roles: ['street_staff'] });
    const readHouse = async (street: string, id: string) => {
      const { body } = await gw.graphql(`query($id: ID!) { house(id: $id) { ownerName } }`, {
        token: await clerkOf(street),
        purpose: 'rental-registration',
        variables: { id },
      });
      expect(body.data.house.ownerName).toBeTruthy();
    };
    await readHouse(streetA!, houseA);
    await readHouse(streetC!, houseC);
    const home = await gw.graphql(`query($id: ID!) { person(idNumber: $id) { name } }`, {
      token: await clerkOf(owner.home),
      purpose: 'minimum-living-assistance',
      variables: { id: owner.id },
    });
    expect(home.body.data.person.name).toBeTruthy();

    const auditor = await gw.token({ sub: 'auditor', org: 'office:security', roles: ['auditor'] });
    const query = `query($id: ID!) { subjectAccessReport(idNumber: $id) { totalAccesses accesses { actorOrg purpose decision } } }`;
    const { body } = await gw.graphql(query, { token: auditor, variables: { id: owner.id } });
    expect(body.errors).toBeUndefined();
    const report = body.data.subjectAccessReport;
    expect(report.totalAccesses).toBe(3);
    expect(report.accesses.map((a: any) => `${a.actorOrg} ${a.purpose}`).sort()).toEqual(
      [
        `street:${streetA} rental-registration`,
        `street:${streetC} rental-registration`,
        `street:${owner.home} minimum-living-assistance`,
      ].sort(),
    );

    const nobody = await sql<{ id: string }>`select id_number as id from population.person where street_code = '310104015' order by rid desc limit 1`.execute(db);
    const none = await gw.graphql(query, { token: auditor, variables: { id: nobody.rows[0]!.id } });
    expect(none.body.data.subjectAccessReport).toEqual({ totalAccesses: 0, accesses: [] });
    // The auditor's own look-up names the person (as a keyed hash) in its event: whoever looks a
    // person up is in that person's report afterwards, and nobody else is added to it.
    const again = await gw.graphql(query, { token: auditor, variables: { id: nobody.rows[0]!.id } });
    expect(again.body.data.subjectAccessReport).toEqual({ totalAccesses: 1, accesses: [{ actorOrg: 'office:security', purpose: null, decision: 'allow' }] });
    const ownerAgain = await gw.graphql(query, { token: auditor, variables: { id: owner.id } });
    expect(ownerAgain.body.data.subjectAccessReport.totalAccesses).toBe(4);
    // Its twin, searching the trail by subject, is a look-up of that person as well.
    const searched = await gw.graphql(`query($id: ID!) { auditEvents(filter: { subjectIdNumber: $id }) { edges { node { seq } } } }`, {
      token: auditor,
      variables: { id: nobody.rows[0]!.id },
    });
    expect(searched.body.errors, JSON.stringify(searched.body.errors)).toBeUndefined();
    const third = await gw.graphql(query, { token: auditor, variables: { id: nobody.rows[0]!.id } });
    expect(third.body.data.subjectAccessReport.totalAccesses).toBe(3);
  });

  it('records an administrative change in the transaction that applies it, and applies none it could not record', async () => {
    const owner = await gw.token({ sub: 'owner-audit-first', org: 'dept:public-security', roles: ['data_owner'] });
    const mutation = `mutation AddEthnicity($input: GrantInput!) { createGrant(input: $input) { id } }`;
    const input = { id: 'audit-first-ethnicity', dataset: 'population', duty: 'elderly-allowance', streets: ['310101002'], fields: [{ field: 'ethnicity', access: 'full' }, { field: 'streetCode', access: 'full' }] };
    const log = gw.runtime.audit;
    const appendWith = log.appendWith;
    // The change runs, then its event cannot be stored: the transaction must take the change back.
    log.appendWith = ((change, event) =>
      gw.runtime.databases.store.transaction().execute(async (trx) => {
        event(await change(trx));
        throw new Error('audit store down');
      })) as typeof log.appendWith;
    try {
      const refused = await gw.graphql(mutation, { token: owner, variables: { input } });
      expect(refused.body.errors?.[0]?.extensions?.code, JSON.stringify(refused.body.errors)).toBe('SERVICE_UNAVAILABLE');
      expect(refused.body.data?.createGrant ?? null).toBeNull();
    } finally {
      log.appendWith = appendWith;
    }
    expect(await gw.runtime.policyStore.grant(input.id)).toBeUndefined();

    const applied = await gw.graphql(mutation, { token: owner, variables: { input } });
    expect(applied.body.data.createGrant).toEqual({ id: input.id });
    const { rows } = await sql<{ operation_name: string; decision: string; change: { action?: string; grant?: { id?: string } } | null; request_id: string }>`
      select operation_name, decision, change, request_id from audit_event
       where actor_sub = 'owner-audit-first' order by "time", seq`.execute(gw.runtime.databases.store);
    // The refused attempt left its mutation event (error); the applied one its change event first, then the mutation's.
    const last = rows.slice(-2);
    expect(last.map((r) => r.operation_name)).toEqual(['change:createGrant', 'AddEthnicity']);
    expect(last[0]!.request_id).toBe(last[1]!.request_id);
    expect(last[0]!.change).toMatchObject({ action: 'createGrant', grant: { id: input.id } });
    expect(last[1]!.decision).toBe('allow');
    expect(rows.filter((r) => r.operation_name === 'change:createGrant')).toHaveLength(1);
  });

  it('street staff and data owners cannot read the audit trail; auditors read no source data', async () => {
    for (const who of [
      { org: NANJING_EAST, roles: ['street_staff' as const] },
      { org: 'dept:public-security', roles: ['data_owner' as const] },
    ]) {
      const { body } = await gw.graphql(`{ auditEvents(first: 1) { totalCount } }`, { token: await gw.token(who) });
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const auditor = await gw.token({ org: 'office:security', roles: ['auditor'] });
    const { body } = await gw.graphql(`{ people(first: 1) { totalCount } }`, { token: auditor, purpose: 'elderly-allowance' });
    expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
