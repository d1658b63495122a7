/**
 * A look-up of a person through a filter is an access to that person (issue 17 item 5): the
 * idNumber a filter names (`people(filter: { idNumber: { eq } })`, `houses(filter: { ownerIdNumber:
 * { eq } })`) is a subject of the event, so it shows in the person's subjectAccessReport even when
 * only `totalCount` comes back; and the event records the fields filtered and sorted on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';

const PURPOSE = 'minimum-living-assistance';

describe.each(BACKENDS)('look-ups through filters on %s', (backend) => {
  let gw: TestGateway;
  let clerk: string;
  let auditor: string;
  const report = async (idNumber: string) => {
    const { body } = await gw.graphql(`query($id: ID!) { subjectAccessReport(idNumber: $id) { totalAccesses accesses { actorOrg purpose decision } } }`, {
      token: auditor,
      variables: { id: idNumber },
    });
    expect(body.errors).toBeUndefined();
    return body.data.subjectAccessReport as { totalAccesses: number; accesses: { actorOrg: string; purpose: string; decision: string }[] };
  };
  /** Persons of the clerk's street: one who owns a house, one who does not matter. */
  const personOfStreet = async (owner: boolean) => {
    const db = gw.runtime.databases.population;
    const { rows } = owner
      ? await sql<{ id: string }>`select owner_id_number as id from housing.house where street_code = '310101002' and owner_id_number is not null order by id limit 1`.execute(
          gw.runtime.databases.housing,
        )
      : await sql<{ id: string }>`select id_number as id from population.person where street_code = '310101002' order by rid limit 1`.execute(db);
    return rows[0]!.id;
  };

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    clerk = await gw.token({ sub: 'lookup-clerk', org: NANJING_EAST, roles: ['street_staff'] });
    auditor = await gw.token({ sub: 'lookup-auditor', org: 'office:security', roles: ['auditor'] });
  });
  afterAll(async () => gw?.close());

  it('people(first: 0, filter: { idNumber: { eq } }) { totalCount } puts that person in their report', async () => {
    const id = await personOfStreet(false);
    const before = (await report(id)).totalAccesses; // the auditor's own look-ups count too
    const { body } = await gw.graphql(`query($id: String) { people(first: 0, filter: { idNumber: { eq: $id } }) { totalCount } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.people.totalCount).toBe(1);
    const after = await report(id);
    // +1 for the clerk's look-up, +1 for the auditor's previous report.
    expect(after.totalAccesses).toBe(before + 2);
    expect(after.accesses).toContainEqual({ actorOrg: NANJING_EAST, purpose: PURPOSE, decision: 'allow' });
  });

  it('houses(filter: { ownerIdNumber: { eq } }) puts the owner in their report', async () => {
    const id = await personOfStreet(true);
    const before = (await report(id)).totalAccesses;
    const { body } = await gw.graphql(`query($id: String) { houses(first: 5, filter: { ownerIdNumber: { eq: $id } }) { totalCount edges { node { id } } } }`, {
      token: clerk,
      purpose: PURPOSE,
      variables: { id },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.houses.totalCount).toBeGreaterThan(0);
    expect((await report(id)).totalAccesses).toBe(before + 2);
  });

  it('the event records the fields filtered and sorted on, next to those read', async () => {
    const id = await personOfStreet(false);
    await gw.graphql(
      `query Filtered($id: String) { people(first: 1, filter: { idNumber: { eq: $id }, age: { gte: 0 } }, orderBy: { field: birthDate }) { edges { node { name } } } }`,
      { token: clerk, purpose: PURPOSE, variables: { id } },
    );
    const { rows } = await sql<{ fields: string[] }>`select fields from audit_event where operation_name = 'Filtered' and actor_sub = 'lookup-clerk'`.execute(
      gw.runtime.databases.store,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.fields).toEqual(['population.name', 'filter:population.age', 'filter:population.birthDate', 'filter:population.idNumber']);
  });
});
