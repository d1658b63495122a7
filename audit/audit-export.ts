/**
 * Exporting the trail: every stored column of each event (so that an export can be re-verified
 * offline), as JSON Lines or CSV, streamed in keyset batches so memory stays flat.
 */
import { sql, type Kysely } from 'kysely';
import { recordFromRow, type AuditRecord } from './audit-rows.ts';
import type { TrailPosition } from './audit-search.ts';

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
 * Every event recorded in [from, to), oldest first, as JSON Lines or CSV (with a header),
 * fetched in keyset batches: memory stays flat however many events there are. Each yielded
 * string holds one batch of lines.
 */
export async function* exportEvents(db: Kysely<any>, from: Date, to: Date, format: ExportFormat, batchSize: number): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after: TrailPosition | undefined;
  for (;;) {
    const keyset = after
      ? sql`and ("time", chain_id, seq) > (${after.time.toISOString()}::timestamptz, ${after.chainId}, ${after.seq})`
      : sql``;
    // An ordered walk of the time index is always the right plan here; right after a burst of
    // inserts the statistics may suggest sorting the whole remaining range for every batch.
    // The transaction lasts one batch only: nothing is held while the client downloads.
    const { rows } = await db.transaction().execute(async (trx) => {
      await sql`set local enable_sort = off`.execute(trx);
      await sql`set local enable_bitmapscan = off`.execute(trx);
      return sql<Record<string, unknown>>`
        select * from audit_event
         where "time" >= ${from.toISOString()}::timestamptz and "time" < ${to.toISOString()}::timestamptz ${keyset}
         order by "time", chain_id, seq limit ${batchSize}`.execute(trx);
    });
    if (rows.length === 0) return;
    let chunk = '';
    for (const row of rows) {
      const o = exportObject(recordFromRow(row));
      chunk += format === 'csv' ? `${CSV_COLUMNS.map((c) => csvField(o[c])).join(',')}\r\n` : `${JSON.stringify(o)}\n`;
    }
    const last = recordFromRow(rows[rows.length - 1]);
    after = { time: last.time, chainId: last.chainId, seq: last.seq };
    yield chunk;
    if (rows.length < batchSize) return;
  }
}
