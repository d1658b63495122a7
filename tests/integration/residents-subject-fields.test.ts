/**
 * Each person sees the fields read for them, not the whole operation's (CONTRACT.md § Residents):
 * an event keeps, per subject, which fields were read for that subject, and `myDataAccess` and the
 * auditors' `subjectAccessReport` show exactly those. Also: a person looked up through a filter or
 * through the houses they own appears in their `myDataAccess`; an emergency session about a person
 * is no read of them (not listed), and the reads under it are listed as emergency reads.
 * Through the real gateway, on every backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { emergencyCall, REASON, START } from './emergency-fixtures.ts';

const MINE = /* GraphQL */ `
  query Mine($first: Int) {
    myDataAccess(first: $first) { totalCount edges { node { duty { id } caseRef fields emergency } } }
  }`;
const REPORT = /* GraphQL */ `
  query Report($id: ID!) { subjectAccessReport(idNumber: $id) { accesses { actorOrg operationName fields } } }`;
const PURPOSE = 'minimum-living-assistance';
const STREET = '310101002';

interface Access {
  duty: { id: string } | null;
  caseRef: string | null;
  fields: string[];
  emergency: boolean;
}

describe.each(BACKENDS)('fields per person in myDataAccess on %s', (backend) => {
  let gw: TestGateway;
  let clerk: string;
  let auditor: string;
  let call: ReturnType<typeof emergencyCall>;

  const mine = async (idNumber: string): Promise<{ totalCount: number; nodes: Access[] }> => {
    const token = await gw.token({ sub: idNumber, org: 'resident', roles: ['resident'] });
    const { body } = await gw.graphql(MINE, { token, variables: { first: 50 } });
    expect(body.errors).toBeUndefined();
    return { totalCount: body.data.myDataAccess.totalCount, nodes: body.data.myDataAccess.edges.map((e: any) => e.node) };
  };
  const report = async (idNumber: string, operationName: string) => {
    const { body } = await gw.graphql(REPORT, { token: auditor, variables: { id: idNumber } });
    expect(body.errors).toBeUndefined();
    return (body.data.subjectAccessReport.accesses as { operationName: string; fields: string[] }[]).filter((a) => a.operationName === operationName);
  };
  const one = async <T>(query: string, db: 'population' | 'housing'): Promise<T> => {
    const { rows } = await sql.raw<T>(query).execute(gw.runtime.databases[db]);
    expect(rows.length).toBeGreaterThan(0);
    return rows[0]!;
  };

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 400 });
    clerk = await gw.token({ sub: 'fields-clerk', org: NANJING_EAST, roles: ['street_staff'] });
    auditor = await gw.token({ sub: 'fields-auditor', org: 'office:security', roles: ['auditor'] });
    call = emergencyCall(gw);
  });
  afterAll(async () => gw?.close());

  it("one operation reading A's name and B's house with its owner's name: each sees only their own fields", async () => {
    const { owner } = await one<{ owner: string }>(`select owner_id_number as owner from housing.house where street_code = '${STREET}' and owner_id_number is not null order by id limit 1`, 'housing');
    const { a } = await one<{ a: string }>(`select id_number as a from population.person where street_code = '${STREET}' and id_number <> '${owner}' order by rid limit 1`, 'population');
    const { body } = await gw.graphql(
      `query Both($a: ID!, $b: String) { person(idNumber: $a) { name } houses(first: 5, filter: { ownerIdNumber: { eq: $b } }) { edges { node { id ownerName } } } }`,
      { token: clerk, purpose: PURPOSE, variables: { a, b: owner } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.houses.edges.length).toBeGreaterThan(0);

    const aSees = (await mine(a)).nodes[0]!;
    const bSees = (await mine(owner)).nodes[0]!;
    expect(aSees.fields).toEqual(['population.name', 'filter:population.idNumber']);
    expect(bSees.fields).toEqual(['housing.id', 'housing.ownerName', 'filter:housing.ownerIdNumber']);
    // The auditors' report of each person shows the same; the event itself keeps all of them.
    expect((await report(a, 'Both')).map((x) => x.fields)).toEqual([aSees.fields]);
    expect((await report(owner, 'Both')).map((x) => x.fields)).toEqual([bSees.fields]);
    const { rows } = await sql<{ fields: string[] }>`select fields from audit_event where operation_name = 'Both'`.execute(gw.runtime.databases.store);
    expect([...rows[0]!.fields].sort()).toEqual(
      ['filter:housing.ownerIdNumber', 'filter:population.idNumber', 'housing.id', 'housing.ownerName', 'population.name'].sort(),
    );
  });

  it("a house's owner and its residents: the owner sees the house's fields, a resident the resident fields", async () => {
    // A house whose owner does not live in it, with at least one resident.
    const { house, owner, resident } = await one<{ house: string; owner: string; resident: string }>(
      `select h.id as house, h.owner_id_number as owner, min(p.id_number) as resident
         from housing.house h join population.person p on p.house_id = h.id
        where h.street_code = '${STREET}' and p.street_code = '${STREET}' and h.owner_id_number is not null
          and not exists (select 1 from population.person q where q.house_id = h.id and q.id_number = h.owner_id_number)
        group by h.id, h.owner_id_number order by h.id limit 1`,
      'housing',
    );
    const { body } = await gw.graphql(`query Household($id: ID!) { house(id: $id) { address ownerName residents { gender } } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id: house },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.house.residents.length).toBeGreaterThan(0);
    expect((await mine(owner)).nodes[0]!.fields).toEqual(['housing.address', 'housing.ownerName', 'filter:housing.id']);
    expect((await mine(resident)).nodes[0]!.fields).toEqual(['population.gender']);
    expect((await report(resident, 'Household')).map((x) => x.fields)).toEqual([['population.gender']]);
  });

  it('a person reached at the top and again as a resident sees the union of what was read for them', async () => {
    const { id } = await one<{ id: string }>(`select id_number as id from population.person where street_code = '${STREET}' and house_id is not null order by rid limit 1`, 'population');
    const { body } = await gw.graphql(`query Twice($id: ID!) { person(idNumber: $id) { name household { residents { gender } } } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id },
    });
    expect(body.errors).toBeUndefined();
    expect((await mine(id)).nodes[0]!.fields).toEqual(['population.gender', 'population.name', 'filter:population.idNumber']);
  });

  it('a look-up through a filter, and through the houses a person owns, appears in their myDataAccess', async () => {
    const { id } = await one<{ id: string }>(`select id_number as id from population.person where street_code = '${STREET}' order by rid desc limit 1`, 'population');
    const before = (await mine(id)).totalCount;
    const counted = await gw.graphql(`query($id: String) { people(first: 0, filter: { idNumber: { eq: $id } }) { totalCount } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id },
    });
    expect(counted.body.data.people.totalCount).toBe(1);
    const after = await mine(id);
    expect(after.totalCount).toBe(before + 1);
    expect(after.nodes[0]).toMatchObject({ duty: { id: PURPOSE }, fields: ['filter:population.idNumber'] });

    const { owner } = await one<{ owner: string }>(`select owner_id_number as owner from housing.house where street_code = '${STREET}' and owner_id_number is not null order by id desc limit 1`, 'housing');
    const ownerBefore = (await mine(owner)).totalCount;
    const houses = await gw.graphql(`query($id: String) { houses(first: 0, filter: { ownerIdNumber: { eq: $id } }) { totalCount } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id: owner },
    });
    expect(houses.body.data.houses.totalCount).toBeGreaterThan(0);
    const ownerAfter = await mine(owner);
    expect(ownerAfter.totalCount).toBe(ownerBefore + 1);
    expect(ownerAfter.nodes[0]).toMatchObject({ duty: { id: PURPOSE }, fields: ['filter:housing.ownerIdNumber'] });
  });

  it('an emergency session about a person is no read of them: only the reads under it are listed, as emergency reads', async () => {
    const { id } = await one<{ id: string }>(
      `select id_number as id from population.person where street_code = '${STREET}' and birth_date <= current_date - interval '70 years' order by rid limit 1`,
      'population',
    );
    const before = (await mine(id)).totalCount;
    const started = await call(clerk, START, { variables: { duty: 'elderly-allowance', subject: id, reason: REASON, caseRef: 'EM-2026-7' } });
    expect(started.body.errors).toBeUndefined();
    const session = started.body.data.startEmergencyAccess.id as string;

    // Opening the session read nothing of the person: nothing new on their page.
    expect((await mine(id)).totalCount).toBe(before);

    const read = await call(clerk, `query($id: ID!) { person(idNumber: $id) { phone } }`, { purpose: 'elderly-allowance', emergency: session, variables: { id } });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data.person.phone).toBeTruthy();
    const ended = await call(clerk, `mutation($id: ID!) { endEmergencyAccess(id: $id) { id state subjectIdNumber } }`, { variables: { id: session } });
    expect(ended.body.errors).toBeUndefined();

    const afterRead = await mine(id);
    // The read, flagged, with the session's case; nothing for the session's start or end.
    expect(afterRead.totalCount).toBe(before + 1);
    expect(afterRead.nodes[0]).toEqual({ duty: { id: 'elderly-allowance' }, caseRef: 'EM-2026-7', fields: ['population.phone', 'filter:population.idNumber'], emergency: true });
    // No entry of the duty without fields (the session's own events read nothing).
    expect(afterRead.nodes.filter((n) => n.duty?.id === 'elderly-allowance' && n.fields.length === 0)).toEqual([]);
    // The auditors' report of the person keeps the START, which reads no field.
    expect((await report(id, 'emergency:start')).map((x) => x.fields)).toEqual([[]]);
  });
});
