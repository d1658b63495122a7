/**
 * `AuditLog.appendWith(change, event)`: a change to the gateway store and its audit event in one
 * transaction, on every backend. Both are kept or neither is, whichever of the two fails, and the
 * chain stays one intact sequence when such pairs are mixed with the batched, pipelined appends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { AuditLog } from '../../audit/audit-writer.ts';
import { verifyAudit } from '../../audit/audit-verifier.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { isGatewayError } from '../../core/errors.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore, type AuditTestStore } from './audit-fixtures.ts';

const keys = auditTestKeys('append-with');

function event(name: string, change?: Record<string, unknown>): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 1,
    actor: { sub: 'owner-1', org: 'dept:civil-affairs', roles: ['data_owner'] },
    purpose: null,
    operationType: 'mutation',
    operationName: name,
    operationHash: null,
    fields: [],
    decision: 'allow',
    reason: null,
    rows: 0,
    subjects: [],
    change: change ?? null,
    requestId: `req-${name}`,
  };
}

class ChangeRefused extends Error {}

describe.each(BACKENDS)('appendWith on %s', (backend) => {
  let store: AuditTestStore;
  let log: AuditLog;
  const chainId = `${backend}-append-with`;

  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_append_with');
    await sql`create table change_probe (id text primary key, note text not null)`.execute(store.db);
    // Fault injection: the audit insert of an event named `audit-fails` raises inside audit_append.
    await sql`create function refuse_probe_event() returns trigger language plpgsql as $$
      begin raise exception 'injected audit insert failure'; end $$`.execute(store.db);
    await sql`create trigger refuse_probe_event before insert on audit_event for each row
      when (new.operation_name = 'audit-fails') execute function refuse_probe_event()`.execute(store.db);
    log = await AuditLog.open({
      db: store.db,
      chainId,
      signingKey: keys.signingKey,
      subjectKey: keys.subjectKey,
      checkpointEveryMs: 0,
    });
  }, 60_000);

  afterAll(async () => {
    await log?.close();
    await store?.close();
  });

  const probe = async (id: string) =>
    (await sql<{ id: string }>`select id from change_probe where id = ${id}`.execute(store.db)).rows.length;
  const eventsNamed = async (name: string) =>
    (
      await sql<{ seq: string }>`select seq from audit_event where chain_id = ${chainId} and operation_name = ${name}`.execute(
        store.db,
      )
    ).rows.map((r) => Number(r.seq));
  const intact = async () => {
    const report = await verifyAudit(store.db, keys.trusted);
    return report.chains.find((c) => c.chainId === chainId);
  };

  it('keeps the change and its event, the event built from the change result', async () => {
    const result = await log.appendWith(
      async (trx) => {
        await sql`insert into change_probe (id, note) values ('kept', 'granted')`.execute(trx);
        return { grantId: 'g-kept' };
      },
      (r) => event('kept', { grantCreated: r.grantId }),
    );
    expect(result).toEqual({ grantId: 'g-kept' });
    expect(await probe('kept')).toBe(1);
    expect(await eventsNamed('kept')).toHaveLength(1);
    const row = await sql<{ change: unknown }>`select change from audit_event where operation_name = 'kept'`.execute(store.db);
    expect(row.rows[0]!.change).toEqual({ grantCreated: 'g-kept' });
  });

  it('keeps neither when the change throws, and rejects with what it threw', async () => {
    const refusal = new ChangeRefused('wrong state');
    const outcome = log.appendWith(
      async (trx) => {
        await sql`insert into change_probe (id, note) values ('thrown', 'half done')`.execute(trx);
        throw refusal;
      },
      () => event('thrown'),
    );
    await expect(outcome).rejects.toBe(refusal);
    expect(await probe('thrown')).toBe(0);
    expect(await eventsNamed('thrown')).toHaveLength(0);
  });

  it('keeps neither when building the event throws', async () => {
    const outcome = log.appendWith(
      async (trx) => {
        await sql`insert into change_probe (id, note) values ('no-event', 'x')`.execute(trx);
        return 1;
      },
      () => {
        throw new ChangeRefused('cannot describe');
      },
    );
    await expect(outcome).rejects.toBeInstanceOf(ChangeRefused);
    expect(await probe('no-event')).toBe(0);
  });

  it('rolls the change back when the event cannot be stored, answers SERVICE_UNAVAILABLE, and recovers', async () => {
    const outcome = log.appendWith(
      async (trx) => {
        await sql`insert into change_probe (id, note) values ('audit-fails', 'x')`.execute(trx);
        return 1;
      },
      () => event('audit-fails'),
    );
    const error = await outcome.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGatewayError(error) && error.code).toBe('SERVICE_UNAVAILABLE');
    expect(await probe('audit-fails')).toBe(0);
    expect(await eventsNamed('audit-fails')).toHaveLength(0);
    // The writer goes on: a plain append and another change after the failure are kept.
    await log.append(event('after-failure'));
    await log.appendWith(
      async (trx) => sql`insert into change_probe (id, note) values ('after-failure', 'x')`.execute(trx),
      () => event('after-failure-change'),
    );
    expect(await probe('after-failure')).toBe(1);
    expect((await intact())?.intact).toBe(true);
  });

  it('rolls the change back when the chain was taken over by another process', async () => {
    const other = await AuditLog.open({
      db: store.db,
      chainId: `${chainId}-taken`,
      signingKey: keys.signingKey,
      subjectKey: keys.subjectKey,
      checkpointEveryMs: 0,
    });
    await other.append(event('taken-first'));
    await sql`update audit_chain set owner = 'someone-else' where chain_id = ${`${chainId}-taken`}`.execute(store.db);
    await expect(
      other.appendWith(
        async (trx) => sql`insert into change_probe (id, note) values ('taken', 'x')`.execute(trx),
        () => event('taken'),
      ),
    ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await probe('taken')).toBe(0);
    await other.close();
  });

  it('mixes with concurrent batched appends: order kept, every event once, the chain intact', async () => {
    const before = await log.stats().headSeq;
    const outcomes: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      outcomes.push(log.append(event(`mixed-plain-${i}`)));
      if (i % 30 === 15) {
        outcomes.push(
          log.appendWith(
            async (trx) => sql`insert into change_probe (id, note) values (${`mixed-${i}`}, 'x')`.execute(trx),
            () => event(`mixed-change-${i}`),
          ),
        );
      }
    }
    await Promise.all(outcomes);
    expect(log.stats().headSeq).toBe(before + 310);
    // Each change's event sits after the plain events appended before it and before the next ones.
    const [changeSeq] = await eventsNamed('mixed-change-15');
    const [plainBefore] = await eventsNamed('mixed-plain-15');
    const [plainAfter] = await eventsNamed('mixed-plain-16');
    expect(plainBefore).toBeLessThan(changeSeq!);
    expect(changeSeq).toBeLessThan(plainAfter!);
    const probes = await sql<{ n: string }>`select count(*) as n from change_probe where id like 'mixed-%'`.execute(store.db);
    expect(Number(probes.rows[0]!.n)).toBe(10);
    await log.checkpoint();
    expect(await intact()).toMatchObject({ intact: true, unsignedTail: 0 });
  }, 60_000);

  it('property: under any mix of outcomes, a change is kept exactly when its event is', async () => {
    const step = fc.constantFrom('plain', 'change', 'change-throws', 'audit-fails');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        run += 1;
        const settled = await Promise.allSettled(
          steps.map((kind, i) => {
            const id = `p${run}-${i}`;
            if (kind === 'plain') return log.append(event(`prop-${id}`));
            return log.appendWith(
              async (trx) => {
                await sql`insert into change_probe (id, note) values (${id}, ${kind})`.execute(trx);
                if (kind === 'change-throws') throw new ChangeRefused(id);
                return id;
              },
              () => event(kind === 'audit-fails' ? 'audit-fails' : `prop-${id}`, { probe: id }),
            );
          }),
        );
        for (const [i, kind] of steps.entries()) {
          const id = `p${run}-${i}`;
          const kept = settled[i]!.status === 'fulfilled';
          expect(kept).toBe(kind === 'plain' || kind === 'change');
          if (kind === 'plain') continue;
          expect(await probe(id)).toBe(kept ? 1 : 0);
          const events = await sql`select 1 from audit_event where chain_id = ${chainId} and change ->> 'probe' = ${id}`.execute(
            store.db,
          );
          expect(events.rows.length).toBe(kept ? 1 : 0);
        }
        expect((await intact())?.intact).toBe(true);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
