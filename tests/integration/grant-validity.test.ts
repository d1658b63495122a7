/**
 * One validity rule (issue 17 item 6): a zone-less bound is city time (+08:00), a date-only end runs
 * to the end of that day in city time, and the bound is converted once, at admission, into an
 * instant that the store keeps as such. The files, the admin API and the decision agree, on every
 * backend: before the rule, a date-only end came back 16 hours early (the text went into
 * timestamptz and was read in the session's zone) and a zone-less end 8 hours late.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { newTrace, type TransactionalAuditSink } from '../../audit/audit-event.ts';
import { migrateStore } from '../../gateway/store/databases.ts';
import { CasbinAuthorizer } from '../../policies/casbin/casbin-authorizer.ts';
import { grantIsValid } from '../../policies/grant-admission.ts';
import type { GrantDef } from '../../policies/policy-definitions.ts';
import { parseGrantsFile } from '../../policies/policy-files/parse-policy-files.ts';
import { PolicyStore } from '../../policies/policy-store.ts';
import { adminResolvers } from '../../schema/admin/admin-schema.ts';
import { RESOLVER_CONTEXT } from '../../schema/resolver-context.ts';
import { BACKENDS, openBackendDatabase } from '../backends.ts';

const STREET = '310101002';
const DUTY = 'validity-duty';
/** 2026-03-31 in city time ends at 2026-04-01T00:00+08:00. */
const END_OF_DAY = Date.parse('2026-03-31T16:00:00.000Z');

function grant(id: string, extra: Partial<GrantDef>): GrantDef {
  return {
    id,
    owner: 'dept:public-security',
    dataset: 'population',
    duty: DUTY,
    streets: [STREET],
    fields: { name: 'full', streetCode: 'full' },
    rows: null,
    validFrom: null,
    validUntil: null,
    ...extra,
  };
}

describe.each(BACKENDS)('grant validity on %s', (backend) => {
  let close: () => Promise<void>;
  let store: PolicyStore;
  let db: Kysely<any>;
  let authorizer: CasbinAuthorizer;

  beforeAll(async () => {
    const opened = await openBackendDatabase(backend, 'lianqiao_validity');
    close = opened.close;
    await migrateStore(opened.db);
    store = new PolicyStore(opened.db);
    db = opened.db;
    await store.upsertDuty({ id: DUTY, title: 'validity', delegatedBy: 'dept:civil-affairs', streets: 'all' });
    authorizer = await CasbinAuthorizer.create({ store });
  });

  afterAll(async () => close?.());

  it('keeps a date-only end as the end of that day in city time, not 16 hours early', async () => {
    const stored = await store.createGrant(grant('g-date-only', { validUntil: '2026-03-31' }), 'test');
    expect(stored.validUntil).toBe('2026-03-31T16:00:00.000Z');
    expect((await store.grant('g-date-only'))!.validUntil).toBe('2026-03-31T16:00:00.000Z');
  });

  it('reads a zone-less end in city time, not 8 hours late, and keeps an explicit zone', async () => {
    const zoneless = await store.createGrant(grant('g-zoneless', { fields: { gender: 'full', streetCode: 'full' }, validFrom: '2026-01-01', validUntil: '2026-03-31T18:00' }), 'test');
    expect(zoneless.validFrom).toBe('2025-12-31T16:00:00.000Z');
    expect(zoneless.validUntil).toBe('2026-03-31T10:00:00.000Z');
    const zoned = await store.createGrant(grant('g-zoned', { fields: { gender: 'full', streetCode: 'full' }, validUntil: '2026-03-31T18:00:00Z' }), 'test');
    expect(zoned.validUntil).toBe('2026-03-31T18:00:00.000Z');
  });

  it('stores file grants the same way, and a resync finds nothing changed', async () => {
    const { grants, problems } = parseGrantsFile(
      `grants:
  - id: g-from-file
    owner: dept:public-security
    dataset: population
    duty: ${DUTY}
    streets: ["${STREET}"]
    fields: { name: full, streetCode: full }
    validFrom: 2026-01-01
    validUntil: 2026-03-31
`,
      'grants/test.yaml',
    );
    expect(problems).toEqual([]);
    const duties = await store.duties();
    await store.syncFromFiles(duties, grants);
    expect((await store.grant('g-from-file'))!).toMatchObject({ validFrom: '2025-12-31T16:00:00.000Z', validUntil: '2026-03-31T16:00:00.000Z' });
    expect(await store.syncFromFiles(duties, grants)).toBe(false);
  });

  it('admits a grant from the admin API with the same conversion', async () => {
    // The change runs in a transaction of its own; the event is built from its result and dropped.
    const audit: TransactionalAuditSink = {
      append: async () => {},
      appendWith: (change, event) => db.transaction().execute(async (trx) => {
        const result = await change(trx);
        event(result);
        return result;
      }),
    };
    const deps = { store, authorizer, policyChanged: () => authorizer.reload(true), audit };
    const context = {
      [RESOLVER_CONTEXT]: { requestId: 'r1', viewer: { sub: 'owner', org: 'dept:public-security', roles: ['data_owner'] }, trace: newTrace() },
    };
    const input = { id: 'g-from-api', dataset: 'population', duty: DUTY, streets: [STREET], fields: [{ field: 'name', access: 'full' }, { field: 'streetCode', access: 'full' }], validUntil: '2026-03-31' };
    const created = await adminResolvers(deps).Mutation.createGrant(null, { input }, context);
    expect(created.validUntil).toBe('2026-03-31T16:00:00.000Z');
    expect((await store.grant('g-from-api'))!.validUntil).toBe('2026-03-31T16:00:00.000Z');
  });

  it('decides by the same instant: granted 1 s before the end, not 1 s after', async () => {
    await authorizer.reload(true);
    const name = (at: number) => authorizer.plan(`street:${STREET}`, DUTY, at).decisions.get('population.name')!;
    const onlyDateOnly = (at: number) =>
      ['g-date-only', 'g-from-file', 'g-from-api'].map((id) => grantIsValid(authorizer.grants().find((g) => g.id === id), at));
    expect(onlyDateOnly(END_OF_DAY - 1000)).toEqual([true, true, true]);
    expect(onlyDateOnly(END_OF_DAY + 1000)).toEqual([false, false, false]);
    expect(name(END_OF_DAY - 1000).access).toBe('full');
    expect(name(END_OF_DAY + 1000).access).toBe('denied');
    // The zone-less grant ended at 18:00 city time (10:00Z), the explicit one at 18:00Z.
    const zoneless = authorizer.grants().find((g) => g.id === 'g-zoneless');
    expect(grantIsValid(zoneless, Date.parse('2026-03-31T10:00:00Z') - 1000)).toBe(true);
    expect(grantIsValid(zoneless, Date.parse('2026-03-31T10:00:00Z') + 1000)).toBe(false);
    // A plan compiled just before the end is dropped at the end.
    expect(authorizer.plan(`street:${STREET}`, DUTY, Date.parse('2026-03-31T17:59:59Z')).expiresAt).toBe(Date.parse('2026-03-31T18:00:00Z'));
  });
});
