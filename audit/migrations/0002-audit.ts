/**
 * The audit trail: hash-chained events, signed checkpoints and the chain registry.
 *
 * Design decisions (see also `audit/audit-writer.ts`):
 * - `audit_event` is partitioned by range on `time`, one partition per calendar month in UTC
 *   (`audit_event_p2025_11`), plus a DEFAULT partition so that no insert ever fails for lack of a
 *   partition. The writer creates the coming months ahead of time ({@link ensureAuditPartitions});
 *   a month must be created before rows for it land in DEFAULT, otherwise PostgreSQL refuses to
 *   create it (the rows would have to be moved by hand). `time` is the time the audit log recorded
 *   the event, which never decreases along a chain, so a month holds a contiguous run of each
 *   chain's sequence numbers and old months can be exported and detached without leaving holes in
 *   the middle of a chain.
 * - Subjects are a `text[]` of keyed hashes in the event row with a GIN index, not a side table.
 *   The list is part of the hashed, chained record, so the index can never disagree with the
 *   evidence (a side table could lose rows without the chain noticing); a look-up is one GIN probe
 *   per monthly partition however many events there are; GIN keeps each distinct subject once with
 *   a compressed posting list, smaller than one btree row per (event, subject); and ingest is one
 *   insert statement per batch instead of two.
 * - `audit_event` and `audit_checkpoint` reject UPDATE, DELETE and TRUNCATE with a trigger (row
 *   triggers are cloned onto every partition; TRUNCATE triggers are statement-level and are added
 *   to each partition too, since truncating one partition does not fire the parent's).
 *   Detaching and dropping a partition is DDL and stays possible for the table's owner: that is
 *   the documented way to retire old months.
 * - `audit_chain` is the registry of chains and their current head. It is the one mutable table:
 *   the writer advances the head in the same statement that inserts a batch, which makes a second
 *   process writing the same chain fail instead of forking it, and lets the verifier notice a
 *   deleted or appended tail.
 *
 * The same DDL runs on PGlite (PostgreSQL 17 in WASM) and on PostgreSQL 14 or later
 * (`create or replace trigger`).
 */
import { sql, type Kysely, type Migration } from 'kysely';

/** Name of the monthly partition holding `month` (any instant inside it, UTC). */
export function auditPartitionName(month: Date): string {
  return `audit_event_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** First instant of the UTC month `offset` months after the one holding `date`. */
export function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

/**
 * Creates the monthly partitions of `audit_event` for the month holding `from` and the `count - 1`
 * following ones, if missing, each with its TRUNCATE guard. Safe to run concurrently from several
 * instances; returns the problems it met (e.g. rows for that month already sitting in the DEFAULT
 * partition) instead of throwing, so the caller can log them and carry on writing.
 */
export async function ensureAuditPartitions(db: Kysely<any>, from: Date, count: number): Promise<Error[]> {
  const problems: Error[] = [];
  for (let i = 0; i < count; i++) {
    const start = monthStart(from, i);
    const end = monthStart(from, i + 1);
    const name = auditPartitionName(start);
    try {
      const exists = await sql<{ found: number }>`select 1 as found from pg_class where relname = ${name} and relkind = 'r'`.execute(db);
      if (exists.rows.length > 0) continue;
      await sql`create table if not exists ${sql.id(name)} partition of audit_event
        for values from (${sql.lit(start.toISOString())}) to (${sql.lit(end.toISOString())})`.execute(db);
      await truncateGuard(db, name);
    } catch (error) {
      // A concurrent instance created it first (duplicate table), or DEFAULT holds rows of that month.
      const again = await sql`select 1 from pg_class where relname = ${name} and relkind = 'r'`.execute(db).catch(() => ({ rows: [] }));
      if (again.rows.length === 0) problems.push(new Error(`could not create audit partition ${name}`, { cause: error }));
    }
  }
  return problems;
}

async function truncateGuard(db: Kysely<any>, table: string): Promise<void> {
  await sql`create or replace trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${sql.id(table)}
    for each statement execute function audit_append_only()`.execute(db);
}

export const auditMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create table if not exists audit_event (
      chain_id text not null,
      seq bigint not null,
      prev_hash text not null,
      hash text not null,
      "time" timestamptz not null,
      started_at timestamptz not null,
      duration_ms integer not null,
      actor_sub text,
      actor_org text,
      actor_roles text[] not null,
      purpose text,
      operation_type text not null,
      operation_name text,
      operation_hash text,
      fields text[] not null,
      decision text not null,
      reason text,
      "rows" integer not null,
      subject_hashes text[] not null,
      change jsonb,
      request_id text not null,
      instance text not null,
      primary key (chain_id, seq, "time")
    ) partition by range ("time")`.execute(db);
    await sql`create table if not exists audit_event_default partition of audit_event default`.execute(db);
    // Keyset pagination and time ranges (search, export, anomalies), newest first or oldest first.
    await sql`create index if not exists audit_event_time on audit_event ("time", chain_id, seq)`.execute(db);
    await sql`create index if not exists audit_event_actor on audit_event (actor_sub, "time")`.execute(db);
    await sql`create index if not exists audit_event_subjects on audit_event using gin (subject_hashes)`.execute(db);

    await sql`create table if not exists audit_checkpoint (
      chain_id text not null,
      seq bigint not null,
      head_hash text not null,
      signed_at timestamptz not null,
      kind text not null,
      key_id text not null,
      signature text not null,
      primary key (chain_id, seq)
    )`.execute(db);

    await sql`create table if not exists audit_chain (
      chain_id text primary key,
      owner text not null,
      head_seq bigint not null,
      head_hash text not null,
      head_time timestamptz not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

    await sql`create or replace function audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit records are append-only: % on % is not allowed', tg_op, tg_table_name
          using errcode = 'insufficient_privilege';
      end
    $$`.execute(db);
    for (const table of ['audit_event', 'audit_checkpoint']) {
      await sql`create or replace trigger ${sql.id(`${table}_append_only`)} before update or delete on ${sql.id(table)}
        for each row execute function audit_append_only()`.execute(db);
      await truncateGuard(db, table);
    }
    await truncateGuard(db, 'audit_event_default');

    const problems = await ensureAuditPartitions(db, new Date(), 4);
    if (problems.length > 0) throw problems[0];
  },
};
