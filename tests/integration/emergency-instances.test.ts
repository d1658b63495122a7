/**
 * Emergency sessions across two gateway instances sharing real PostgreSQL: a session started on
 * one is honoured on the other, ended on one it is refused on the other at once (each read checks
 * the store, there is nothing to propagate), and starts racing on both instances still leave the
 * user at most one open session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { emergencyCall, REASON, START } from './emergency-fixtures.ts';

const REAL = !!process.env.TEST_DATABASE_URL;

describe.runIf(REAL)('emergency sessions on two instances (postgres)', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    a = await createTestGateway({ backend: 'postgres', persons: 300 });
    b = await createTestGateway({ shareWith: a });
  });
  afterAll(async () => {
    await b?.runtime.close();
    await a?.close();
  });

  const PHONE = `{ people(first: 3) { edges { node { phone } } } }`;
  const variables = { duty: 'elderly-allowance', reason: REASON, caseRef: 'CASE-MULTI' };

  it('started on A, used on B; ended on A, refused on B with no delay', async () => {
    const token = await a.token({ sub: 'multi-1', org: NANJING_EAST, roles: ['street_staff'] });
    const started = await emergencyCall(a)(token, START, { variables });
    const id = started.body.data.startEmergencyAccess.id as string;
    const onB = await emergencyCall(b)(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
    expect(onB.body.errors).toBeUndefined();
    const ended = await emergencyCall(a)(token, `mutation($id: ID!) { endEmergencyAccess(id: $id) { state } }`, { variables: { id } });
    expect(ended.body.data.endEmergencyAccess.state).toBe('ENDED');
    const after = await emergencyCall(b)(token, PHONE, { purpose: 'elderly-allowance', emergency: id });
    expect(after.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(after.body.data ?? null).toBeNull();
  });

  it('starts racing on both instances leave one open session', async () => {
    const token = await a.token({ sub: 'multi-2', org: NANJING_EAST, roles: ['street_staff'] });
    const results = await Promise.all([a, b, a, b].map((gw) => emergencyCall(gw)(token, START, { variables })));
    expect(results.filter((r) => !r.body.errors)).toHaveLength(1);
    for (const r of results.filter((x) => x.body.errors)) expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});
