/**
 * How the verifier reads the trail: chain ids by loose index scans, each chain's registered head,
 * and events and checkpoints in bounded seq windows, so that memory and each query's work stay
 * flat whatever the trail's size (and whatever an attacker wrote into seq).
 */
import { sql, type Kysely } from 'kysely';
import { checkpointFromRow, recordFromRow, type AuditRecord, type CheckpointRecord } from './audit-rows.ts';

/** Every chain id found in events, checkpoints or the registry (loose index scans, no full scan). */
export async function listChains(db: Kysely<any>): Promise<string[]> {
  const distinct = (table: string) => sql<{ chain_id: string }>`
    with recursive c(chain_id) as (
      select min(chain_id) from ${sql.table(table)}
      union all
      select (select min(t.chain_id) from ${sql.table(table)} t where t.chain_id > c.chain_id) from c where c.chain_id is not null
    )
    select chain_id from c where chain_id is not null`.execute(db);
  const [events, checkpoints, registry] = await Promise.all([
    distinct('audit_event'),
    distinct('audit_checkpoint'),
    sql<{ chain_id: string }>`select chain_id from audit_chain`.execute(db),
  ]);
  const ids = new Set<string>();
  for (const r of [...events.rows, ...checkpoints.rows, ...registry.rows]) ids.add(r.chain_id);
  return [...ids].sort();
}

export interface Registered {
  seq: number;
  hash: string;
}

export async function registeredHead(db: Kysely<any>, chainId: string): Promise<Registered | undefined> {
  const { rows } = await sql<{ head_seq: unknown; head_hash: string }>`
    select head_seq, head_hash from audit_chain where chain_id = ${chainId}`.execute(db);
  return rows[0] ? { seq: Number(rows[0].head_seq), hash: rows[0].head_hash } : undefined;
}

/**
 * Rows of one chain from `table` with `after < seq <= after + size` (and `seq <= bound`), in
 * (seq, time) order; over an empty window, jumps to the next stored seq with one index probe.
 * Fixed seq windows keep each query's work bounded whatever plan the statistics suggest (right
 * after a burst of inserts they are stale, and a LIMIT query would sort everything left).
 */
async function fetchWindow(
  db: Kysely<any>,
  table: 'audit_event' | 'audit_checkpoint',
  chainId: string,
  after: number,
  size: number,
  bound: number,
): Promise<{ rows: Record<string, unknown>[]; end: number } | undefined> {
  const order = table === 'audit_event' ? sql`seq, "time"` : sql`seq`;
  for (;;) {
    if (after >= bound) return undefined;
    const end = Math.min(after + size, bound);
    const { rows } = await sql<Record<string, unknown>>`
      select * from ${sql.table(table)} where chain_id = ${chainId} and seq > ${after} and seq <= ${end} order by ${order}`.execute(db);
    if (rows.length > 0) return { rows, end };
    const next = await sql<{ next: unknown }>`
      select min(seq) as next from ${sql.table(table)} where chain_id = ${chainId} and seq > ${end} and seq <= ${bound}`.execute(db);
    if (next.rows[0]?.next === null || next.rows[0]?.next === undefined) return undefined;
    after = Number(next.rows[0].next) - 1;
  }
}

/** Events of a chain in (seq, time) order, in windows; the next window is fetched while the current one is checked. */
export async function* eventBatches(db: Kysely<any>, chainId: string, bound: number, size: number): AsyncGenerator<AuditRecord[]> {
  // Sequence numbers can be anything an attacker wrote, including zero or negative ones.
  const first = await sql<{ first: unknown }>`
    select min(seq) as first from audit_event where chain_id = ${chainId} and seq <= ${bound}`.execute(db);
  if (first.rows[0]?.first === null || first.rows[0]?.first === undefined) return;
  const fetch = (after: number) => fetchWindow(db, 'audit_event', chainId, after, size, bound);
  let window = await fetch(Number(first.rows[0].first) - 1);
  while (window) {
    const next = fetch(window.end);
    next.catch(() => {}); // awaited below; avoid an unhandled rejection if the consumer stops first
    yield window.rows.map(recordFromRow);
    window = await next;
  }
}

/** Checkpoints in seq order, one at a time, fetched in seq windows. */
export class CheckpointCursor {
  private buffer: CheckpointRecord[] = [];
  private index = 0;
  private after = Number.MIN_SAFE_INTEGER;
  private done = false;
  constructor(
    private readonly db: Kysely<any>,
    private readonly chainId: string,
    private readonly size: number,
  ) {}

  async peek(): Promise<CheckpointRecord | undefined> {
    if (this.index < this.buffer.length) return this.buffer[this.index];
    if (this.done) return undefined;
    if (this.after === Number.MIN_SAFE_INTEGER) {
      const first = await sql<{ first: unknown }>`
        select min(seq) as first from audit_checkpoint where chain_id = ${this.chainId}`.execute(this.db);
      if (first.rows[0]?.first === null || first.rows[0]?.first === undefined) {
        this.done = true;
        return undefined;
      }
      this.after = Number(first.rows[0].first) - 1;
    }
    const window = await fetchWindow(this.db, 'audit_checkpoint', this.chainId, this.after, this.size, Number.MAX_SAFE_INTEGER);
    if (!window) {
      this.done = true;
      return undefined;
    }
    this.buffer = window.rows.map(checkpointFromRow);
    this.index = 0;
    this.after = window.end;
    return this.buffer[0];
  }

  next(): void {
    this.index += 1;
  }
}
