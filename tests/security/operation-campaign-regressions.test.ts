/**
 * What the operation campaign found, each kept as a test of its own.
 *
 * 1. A request yoga refuses before it has GraphQL parameters (a body that is not JSON, a batch
 *    array, `variables` that are not an object, no query, a query that is not a string) left no
 *    audit event: none of useAudit's execution hooks runs for it. Each now leaves exactly one `deny`
 *    event, whose text holds none of the personal data the body carried.
 * 2. An `X-Purpose` that is an ID number or a phone number has the form of a duty id
 *    (`[a-z0-9-]{1,64}`), and was recorded in clear as the event's purpose. What the scrubber would
 *    change is not recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { recordedPurpose } from '../../audit/audit-event.ts';

describe.each(BACKENDS)('requests refused before they are GraphQL, on %s', (backend) => {
  let gw: TestGateway;
  let idNumber: string;
  let phone: string;

  beforeAll(async () => {
    gw = await createTestGateway({ backend, persons: 200 });
    const person = await sql<{ id: string; phone: string }>`select id_number as id, phone from population.person order by rid limit 1`.execute(gw.runtime.databases.population);
    idNumber = person.rows[0]!.id;
    phone = person.rows[0]!.phone;
  });
  afterAll(async () => gw?.close());

  const bodies = () => [
    { what: 'a body that is not JSON', body: `{"query": "{ person(idNumber: \\"${idNumber}\\") { name } }", `, status: 400 },
    { what: 'a batch array', body: JSON.stringify([{ query: 'query($id: ID!) { person(idNumber: $id) { name } }', variables: { id: idNumber } }, { query: '{ me { sub } }' }]), status: 400 },
    { what: 'variables that are not an object', body: JSON.stringify({ query: '{ me { sub } }', variables: phone }), status: 400 },
    { what: 'no query', body: JSON.stringify({ variables: { id: idNumber } }), status: 200 },
    { what: 'a query that is not a string', body: JSON.stringify({ query: 13812345678 }), status: 400 },
  ];

  it('each leaves exactly one deny event, with no personal data in it', async () => {
    const clerk = await gw.token({ sub: 'clerk-unparsed', org: NANJING_EAST, roles: ['street_staff'] });
    for (const { what, body, status } of bodies()) {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clerk}`, 'x-purpose': 'elderly-allowance' },
        body,
      });
      expect(response.status, what).toBe(status);
      const answer = await response.json();
      expect(answer.data ?? null, what).toBeNull();
      const requestId = response.headers.get('x-request-id');
      expect(requestId, what).toBeTruthy();
      const { rows } = await sql<Record<string, unknown>>`select * from audit_event where request_id = ${requestId}`.execute(gw.runtime.databases.store);
      expect(rows, what).toHaveLength(1);
      expect(rows[0], what).toMatchObject({ decision: 'deny', actor_org: NANJING_EAST, purpose: 'elderly-allowance', rows: 0, subject_hashes: [] });
      expect(String(rows[0]!.reason), what).toMatch(/^BAD_USER_INPUT: /);
      const text = JSON.stringify(rows[0]);
      expect(text, what).not.toContain(idNumber);
      expect(text, what).not.toContain(phone);
      expect(text, what).not.toContain('13812345678');
    }
  });

  it('a purpose made of an ID number or a phone is refused and recorded as none', async () => {
    const clerk = await gw.token({ sub: 'clerk-pii-purpose', org: NANJING_EAST, roles: ['street_staff'] });
    for (const [purpose, token] of [
      [idNumber, clerk],
      [phone, clerk],
      [idNumber.toLowerCase(), undefined],
    ] as const) {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-purpose': purpose, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: '{ people(first: 1) { totalCount } }' }),
      });
      const answer = await response.json();
      expect(answer.data?.people ?? null, purpose).toBeNull();
      const { rows } = await sql<Record<string, unknown>>`select * from audit_event where request_id = ${response.headers.get('x-request-id')}`.execute(gw.runtime.databases.store);
      expect(rows, purpose).toHaveLength(1);
      expect(rows[0]!.purpose, purpose).toBeNull();
      expect(JSON.stringify(rows[0]).toLowerCase(), purpose).not.toContain(purpose.toLowerCase());
    }
  });

  it('each is answered in the contract codes, with nothing of the body echoed back', async () => {
    const clerk = await gw.token({ sub: 'clerk-unparsed-answer', org: NANJING_EAST, roles: ['street_staff'] });
    for (const { what, body } of bodies()) {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clerk}`, 'x-purpose': 'elderly-allowance' },
        body,
      });
      const text = await response.text();
      const answer = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
      expect(answer.errors?.length, what).toBeGreaterThan(0);
      // yoga's request errors keep their own code (as tests/security/bad-input.test.ts allows).
      for (const error of answer.errors ?? []) expect(error.extensions?.code, what).toMatch(/^(BAD_USER_INPUT|BAD_REQUEST)$/);
      expect(text, what).not.toContain('originalError');
      expect(text, what).not.toContain(idNumber);
      expect(text, what).not.toContain(phone);
    }
  });

  it('an operation name that carries an ID number or a phone is recorded without it', async () => {
    const clerk = await gw.token({ sub: 'clerk-pii-name', org: NANJING_EAST, roles: ['street_staff'] });
    for (const name of [`P${phone}`, `_${phone}`, `Q${idNumber.replace(/X$/i, '1')}`]) {
      const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clerk}`, 'x-purpose': 'elderly-allowance' },
        body: JSON.stringify({ query: `query ${name} { me { sub } }` }),
      });
      await response.text();
      const { rows } = await sql<Record<string, unknown>>`select * from audit_event where request_id = ${response.headers.get('x-request-id')}`.execute(gw.runtime.databases.store);
      expect(rows, name).toHaveLength(1);
      expect(rows[0]!.operation_name, name).toMatch(/^[PQ_]/);
      expect(JSON.stringify(rows[0]), name).not.toContain(name.slice(1));
    }
  });

  it('a duty id is recorded as it is', () => {
    expect(recordedPurpose(' elderly-allowance ')).toBe('elderly-allowance');
    expect(recordedPurpose('no-such-duty')).toBe('no-such-duty');
    expect(recordedPurpose('13812345678')).toBeNull();
    expect(recordedPurpose('=HYPERLINK(1)')).toBeNull();
  });
});
