/**
 * Exporting the trail: every stored column of each event (so that an export can be re-verified
 * offline), as JSON Lines or CSV, streamed in keyset batches so memory stays flat.
 */
import { sql, type Kysely } from 'kysely';
import { recordFromRow, type AuditRecord } from './audit-rows.ts';

export type ExportFormat = 'jsonl' | 'csv';

/** The export view of a record: every stored column, so that an export can be re-verified offline. */
export function exportObject(r: AuditRecord): Record<string, unknown> {
  return {
    chainId: r.chainId,
    seq: r.seq,
    time: r.time.toISOString(),
    startedAt: r.startedAt.toISOString(),
    durationMs: r.durationMs,
    actorSub: r.actorSub,
    actorOrg: r.actorOrg,
    actorRoles: r.actorRoles,
    purpose: r.purpose,
    operationType: r.operationType,
    operationName: r.operationName,
    operationHash: r.operationHash,
    fields: r.fields,
    decision: r.decision,
    reason: r.reason,
    rows: r.rows,
    subjectHashes: r.subjectHashes,
    change: r.change,
    requestId: r.requestId,
    instance: r.instance,
    caseRef: r.caseRef ?? null,
    prevHash: r.prevHash,
    hash: r.hash,
    hashAlg: r.hashAlg,
  };
}

/** Columns of the CSV export, in order (the keys of {@link exportObject}). */
export const CSV_COLUMNS: readonly string[] = [
  'chainId', 'seq', 'time', 'startedAt', 'durationMs', 'actorSub', 'actorOrg', 'actorRoles', 'purpose', 'operationType',
  'operationName', 'operationHash', 'fields', 'decision', 'reason', 'rows', 'subjectHashes', 'change', 'requestId',
  'instance', 'caseRef', 'prevHash', 'hash', 'hashAlg',
];

/**
 * First characters that make a spreadsheet read a cell as a formula (or, TAB and CR, let one
 * through after the application trims them): a purpose, operation name, reason or `sub` is chosen
 * by the caller, and an auditor opening the export must not run what a caller wrote.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field: quoted when it holds a quote, comma or line break; quotes doubled. A cell that
 * starts with `=`, `+`, `-`, `@`, TAB or CR is neutralised by a leading `'` and quoted (the OWASP
 * rule for CSV injection): spreadsheets then show it as text. The JSON Lines export carries every
 * value unchanged, for re-verification.
 */
export function csvField(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text)) return `"'${text.replaceAll('"', '""')}"`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The JSON Lines view of a row, built by PostgreSQL: the keys, order and values of
 * {@link exportObject} (times as `toISOString` writes them, `hashAlg` NULL as `sha256`), as
 * compact JSON. Serialising in the database is what lets an export stream at tens of thousands of
 * events a second: the gateway then receives one finished line per event instead of decoding two
 * dozen typed columns and re-encoding them. (Only `change`, kept as jsonb, keeps jsonb's spacing
 * inside its value; a line is parsed, never compared as bytes.)
 */
const ISO = (column: string) => `to_char(e.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const JSONL_LINE = sql.raw(`row_to_json(x)::text as line from audit_event e, lateral (select
    e.chain_id as "chainId", e.seq, ${ISO('"time"')} as "time", ${ISO('started_at')} as "startedAt", e.duration_ms as "durationMs",
    e.actor_sub as "actorSub", e.actor_org as "actorOrg", e.actor_roles as "actorRoles", e.purpose,
    e.operation_type as "operationType", e.operation_name as "operationName", e.operation_hash as "operationHash",
    e.fields, e.decision, e.reason, e."rows", e.subject_hashes as "subjectHashes", e.change, e.request_id as "requestId",
    e.instance, e.case_ref as "caseRef", e.prev_hash as "prevHash", e.hash, coalesce(e.hash_alg, 'sha256') as "hashAlg") x`);

/**
 * Every event recorded in [from, to), oldest first, as JSON Lines or CSV (with a header),
 * fetched in keyset batches: memory stays flat however many events there are. Each yielded
 * string holds one batch of lines.
 */
export async function* exportEvents(db: Kysely<any>, from: Date, to: Date, format: ExportFormat, batchSize: number): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  // The keyset is carried as the stored text of `time` (exact, whatever its precision).
  const select = format === 'jsonl' ? JSONL_LINE : sql`e.* from audit_event e`;
  const fetch = (after?: { time: string; chainId: string; seq: string }) => {
    const keyset = after ? sql`and (e."time", e.chain_id, e.seq) > (${after.time}::timestamptz, ${after.chainId}, ${after.seq}::bigint)` : sql``;
    // An ordered walk of the time index is always the right plan here; right after a burst of
    // inserts the statistics may suggest sorting the whole remaining range for every batch.
    // The transaction lasts one batch only: nothing is held while the client downloads.
    const batch = db.transaction().execute(async (trx) => {
      await sql`set local enable_sort = off`.execute(trx);
      await sql`set local enable_bitmapscan = off`.execute(trx);
      const { rows } = await sql<Record<string, unknown>>`
        select e."time"::text as keyset_time, e.chain_id as keyset_chain, e.seq::text as keyset_seq, ${select}
         where e."time" >= ${from.toISOString()}::timestamptz and e."time" < ${to.toISOString()}::timestamptz ${keyset}
         order by e."time", e.chain_id, e.seq limit ${batchSize}`.execute(trx);
      return rows;
    });
    batch.catch(() => {}); // a read ahead that nobody waits for any more (the client went away)
    return batch;
  };
  // One batch is read ahead: the store reads and serialises the next batch while this one is sent.
  let next: Promise<Record<string, unknown>[]> | undefined = fetch();
  while (next) {
    const rows: Record<string, unknown>[] = await next;
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    next = rows.length < batchSize ? undefined : fetch({ time: String(last.keyset_time), chainId: String(last.keyset_chain), seq: String(last.keyset_seq) });
    let chunk = '';
    if (format === 'jsonl') {
      for (const row of rows) chunk += `${row.line as string}\n`;
    } else {
      for (const row of rows) {
        const o = exportObject(recordFromRow(row));
        chunk += `${CSV_COLUMNS.map((c) => csvField(o[c])).join(',')}\r\n`;
      }
    }
    yield chunk;
  }
}
