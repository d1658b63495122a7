/**
 * A dedicated store holding a trail of 10 million realistic audit events, for the search figures at
 * trail scale (`npm run bench -- --only audit10m`). Filled once with bulk SQL (INSERT … SELECT over
 * generate_series, the secondary indexes dropped and rebuilt afterwards) and kept: a later run
 * reuses it when its fill version and event count match.
 *
 * The events are NOT a verifiable chain (their hashes are stand-ins; nothing is signed): the fill
 * is about what the searches read — the columns, their distributions and the indexes the
 * migrations create — not about the chain, whose cost the ingest bench measures. What it holds:
 * - one year of events up to the fill day, spread evenly, in the migrations' monthly partitions;
 * - four chains, 20 streets' clerks (40 each), the demo's five duties, 1 in 17 refused, 1 in 500
 *   failed, a case reference on one event in three (200,000 distinct), 1 in 1,000 an emergency read;
 * - 0 to 5 subjects per event out of 1 million persons (about 30 reads each), whose keyed hashes
 *   are the real HMAC of {@link benchPersonId} under {@link AUDIT10M_SUBJECT_KEY}, so the searches
 *   find them as in production; and five "heavy" persons (0..4) read by 1 event in 2,500 each
 *   (4,000 reads apiece), the residents "with thousands of reads".
 */
import crypto from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { subjectHasher } from '../audit/audit-keys.ts';
import { ensureAuditPartitions, monthStart } from '../audit/migrations/0002-audit.ts';
import { SYNTHETIC_STREET_CODES } from '../demo/synthetic-data.ts';
import { ensureDatabase } from './databases.ts';

/** Bump when the fill's content or the store's indexes change: the store is then refilled. */
export const AUDIT10M_FILL_VERSION = 2;
export const AUDIT10M_PERSONS = 1_000_000;
export const AUDIT10M_HEAVY_PERSONS = 5;
export const AUDIT10M_CHAINS = 4;
/** The subject key of the bench store (a bench constant: the store holds no real person). */
export const AUDIT10M_SUBJECT_KEY = crypto.createHash('sha256').update('lianqiao bench audit10m subject key').digest();
export const PURPOSES = ['elderly-allowance', 'minimum-living-assistance', 'rental-registration', 'grid-inspection', 'employment-assistance'];

/** The idNumber of bench person `i` (18 characters, like a resident ID). */
export function benchPersonId(i: number): string {
  return `310101${String(i).padStart(11, '0')}X`;
}

export interface Audit10mStore {
  readonly url: string;
  readonly events: number;
  /** The fill's time span: events lie in [from, to). */
  readonly from: Date;
  readonly to: Date;
  /** Seconds the fill took in this run (0 when reused). */
  readonly fillSeconds: number;
  readonly databaseSize: string;
}

interface Meta {
  version: number;
  events: number;
  filled: number;
  from: Date;
  to: Date;
}

async function readMeta(db: Kysely<any>): Promise<Meta | undefined> {
  await sql`create table if not exists bench_audit10m_meta (version int not null, events bigint not null, filled bigint not null, span_from timestamptz not null, span_to timestamptz not null)`.execute(db);
  const { rows } = await sql<any>`select version, events, filled, span_from, span_to from bench_audit10m_meta`.execute(db);
  const r = rows[0];
  return r && { version: r.version, events: Number(r.events), filled: Number(r.filled), from: new Date(r.span_from), to: new Date(r.span_to) };
}

/** The store at `url` with `events` events, filled now if it does not hold them yet. */
export async function ensureAudit10m(url: string, events: number, log: (line: string) => void): Promise<Audit10mStore> {
  await ensureDatabase(url);
  const db = postgresDatabase(url, { poolSize: 1 });
  const started = performance.now();
  try {
    await migrateStore(db);
    let meta = await readMeta(db);
    if (meta && (meta.version !== AUDIT10M_FILL_VERSION || meta.events !== events)) {
      log(`audit10m: the store holds fill v${meta.version} of ${meta.events} events; refilling (v${AUDIT10M_FILL_VERSION}, ${events})`);
      await db.destroy();
      const { dropDatabase } = await import('./databases.ts');
      await dropDatabase(url);
      return ensureAudit10m(url, events, log);
    }
    if (!meta) {
      const to = monthStart(new Date(), 0);
      to.setUTCDate(8);
      const from = new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth(), to.getUTCDate()));
      await sql`insert into bench_audit10m_meta values (${AUDIT10M_FILL_VERSION}, ${events}, 0, ${from.toISOString()}, ${to.toISOString()})`.execute(db);
      meta = { version: AUDIT10M_FILL_VERSION, events, filled: 0, from, to };
    }
    const filling = meta.filled < events;
    if (filling) await fill(db, meta, log);
    const size = await sql<{ s: string }>`select pg_size_pretty(pg_database_size(current_database())) as s`.execute(db);
    const fillSeconds = filling ? (performance.now() - started) / 1000 : 0;
    return { url, events, from: meta.from, to: meta.to, fillSeconds, databaseSize: size.rows[0]!.s };
  } finally {
    await db.destroy().catch(() => {});
  }
}

async function fill(db: Kysely<any>, meta: Meta, log: (line: string) => void): Promise<void> {
  await sql`set synchronous_commit = off`.execute(db);
  await sql`set maintenance_work_mem = '1GB'`.execute(db);
  const months = (meta.to.getUTCFullYear() - meta.from.getUTCFullYear()) * 12 + meta.to.getUTCMonth() - meta.from.getUTCMonth() + 4;
  for (const problem of await ensureAuditPartitions(db, meta.from, months)) throw problem;
  await persons(db, log);
  // The secondary indexes are rebuilt after the load (much faster than maintaining them row by
  // row), from their own definitions as the migrations made them.
  const { rows: indexes } = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'audit_event' and indexname <> 'audit_event_pkey'`.execute(db);
  const saved = await sql`create table if not exists bench_audit10m_indexes (name text primary key, def text not null)`.execute(db).then(() =>
    sql<{ name: string; def: string }>`select name, def from bench_audit10m_indexes`.execute(db),
  );
  if (saved.rows.length === 0) {
    for (const i of indexes) await sql`insert into bench_audit10m_indexes values (${i.indexname}, ${i.indexdef})`.execute(db);
  }
  for (const i of indexes) await sql`drop index if exists ${sql.id(i.indexname)}`.execute(db);
  const chunk = 250_000;
  const span = (meta.to.getTime() - meta.from.getTime()) / 1000;
  const streets = `{${SYNTHETIC_STREET_CODES.join(',')}}`;
  const purposes = `{${PURPOSES.join(',')}}`;
  const t0 = performance.now();
  for (let lo = meta.filled; lo < meta.events; lo += chunk) {
    const hi = Math.min(meta.events, lo + chunk);
    await sql`
      insert into audit_event (chain_id, seq, prev_hash, hash, "time", started_at, duration_ms, actor_sub, actor_org, actor_roles,
        purpose, operation_type, operation_name, operation_hash, fields, decision, reason, "rows", subject_hashes, change,
        request_id, instance, hash_alg, case_ref)
      select 'bench10m-' || (g % ${AUDIT10M_CHAINS}), g / ${AUDIT10M_CHAINS} + 1,
             md5((g - 1)::text) || md5('p' || (g - 1)), md5(g::text) || md5('p' || g), t, t - interval '5 ms', 3 + g % 20,
             'staff-' || st || '-' || (g / 20) % 40, 'street:' || st, '{street_staff}',
             pu, 'query', case when refused then null else 'PeopleReview' end, md5((g % 50)::text) || md5((g % 50)::text),
             '{population.name,population.idNumber,population.birthDate,population.residenceAddress}',
             case when g % 500 = 7 then 'error' when refused then 'deny' else 'allow' end,
             case when refused then 'FORBIDDEN: purpose "' || pu || '" does not allow this operation; not granted: population.phone'
                  else 'grants: population-' || pu end,
             cardinality(subjects), subjects,
             case when g % 1000 = 3 then jsonb_build_object('emergency', jsonb_build_object('session', 'es-' || g, 'caseRef', 'EM-' || g)) end,
             md5('r' || g)::uuid::text, 'bench10m-' || (g % ${AUDIT10M_CHAINS}), null,
             case when g % 3 = 0 then 'CASE-' || (g / 3) % 200000 end
        from (
          select g, ${meta.from.toISOString()}::timestamptz + (g::float8 / ${meta.events} * ${span}) * interval '1 second' as t,
                 (${streets}::text[])[1 + g % ${SYNTHETIC_STREET_CODES.length}] as st,
                 (${purposes}::text[])[1 + (g / 7) % ${PURPOSES.length}] as pu,
                 g % 17 = 0 as refused,
                 case when g % 17 = 0 then '{}'::text[] else array(
                   select distinct p.h from bench_person p
                    where p.i = any (array(
                      select ${AUDIT10M_HEAVY_PERSONS} + (g::bigint * 7919 + j * 104729) % ${AUDIT10M_PERSONS - AUDIT10M_HEAVY_PERSONS}
                        from generate_series(1, 1 + g % 5) j)
                      || case when g % 500 = 1 then (g / 500) % ${AUDIT10M_HEAVY_PERSONS} end)
                    order by p.h) end as subjects
            from generate_series(${lo}::bigint, ${hi - 1}::bigint) g
        ) s`.execute(db);
    await sql`update bench_audit10m_meta set filled = ${hi}`.execute(db);
    const rate = (hi - meta.filled) / ((performance.now() - t0) / 1000);
    log(`audit10m: ${hi.toLocaleString('en')} / ${meta.events.toLocaleString('en')} events (${Math.round(rate).toLocaleString('en')}/s)`);
  }
  const { rows: defs } = await sql<{ name: string; def: string }>`select name, def from bench_audit10m_indexes`.execute(db);
  for (const d of defs) {
    const i0 = performance.now();
    await sql.raw(d.def.replace(' ON ONLY ', ' ON ').replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS ')).execute(db);
    log(`audit10m: index ${d.name} rebuilt in ${((performance.now() - i0) / 1000).toFixed(0)} s`);
  }
  await sql`vacuum (analyze) audit_event`.execute(db);
  log('audit10m: vacuumed and analysed');
  meta.filled = meta.events;
}

/** The 1 million bench persons' subject hashes, computed with the real hasher. */
async function persons(db: Kysely<any>, log: (line: string) => void): Promise<void> {
  await sql`create table if not exists bench_person (i int primary key, h text not null)`.execute(db);
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from bench_person`.execute(db);
  if (Number(rows[0]!.n) === AUDIT10M_PERSONS) return;
  await sql`truncate bench_person`.execute(db);
  const hash = subjectHasher(AUDIT10M_SUBJECT_KEY, 0);
  for (let lo = 0; lo < AUDIT10M_PERSONS; lo += 50_000) {
    const ids: number[] = [];
    const hashes: string[] = [];
    for (let i = lo; i < Math.min(AUDIT10M_PERSONS, lo + 50_000); i++) {
      ids.push(i);
      hashes.push(hash(benchPersonId(i)));
    }
    await sql`insert into bench_person select * from unnest(${ids}::int[], ${hashes}::text[])`.execute(db);
  }
  await sql`analyze bench_person`.execute(db);
  log(`audit10m: ${AUDIT10M_PERSONS.toLocaleString('en')} bench persons hashed`);
}
