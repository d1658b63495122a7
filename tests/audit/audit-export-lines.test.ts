/**
 * The JSON Lines export is serialised by the database (`audit-export.ts`), the CSV export and the
 * auditors' search by the gateway: both must carry exactly the stored values. Every line is checked
 * against `exportObject` of the stored row, for events with every optional part (a change, a case
 * reference, subjects, an SM3 chain, characters that need escaping), and a search page against the
 * same rows (its subject count included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { AuditLog } from '../../audit/audit-writer.ts';
import { AuditReader } from '../../audit/audit-reader.ts';
import { exportObject } from '../../audit/audit-export.ts';
import { recordFromRow } from '../../audit/audit-rows.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore, type AuditTestStore } from './audit-fixtures.ts';

const ed = auditTestKeys('export-lines');
const sm = auditTestKeys('export-lines-sm', 'sm2');

const event = (i: number): AuditEventInput => ({
  time: new Date(Date.UTC(2026, 2, 10, 8, 0, i)),
  durationMs: i,
  actor: { sub: `clerk-${i}`, org: 'street:310101002', roles: ['street_staff'] },
  purpose: i % 2 ? 'elderly-allowance' : null,
  operationType: 'query',
  operationName: i % 3 ? 'People' : null,
  operationHash: 'ab'.repeat(32),
  fields: ['population.name', `population.f"${i}\\`],
  decision: i % 4 ? 'allow' : 'deny',
  reason: `line\nbreak "quoted" \u0001 南京东路 ${i}`,
  rows: i,
  subjects: Array.from({ length: i % 3 }, (_, k) => `31010119800101${String(i * 10 + k).padStart(3, '0')}X`),
  change: i % 5 === 0 ? { emergency: { session: `es-${i}`, caseRef: 'EM 1' }, nested: [1, 'two', null, { z: true }] } : undefined,
  caseRef: i % 2 ? `CASE-${i}` : undefined,
  requestId: `req-${i}`,
});

describe.each(BACKENDS)('JSON Lines export and search pages on %s', (backend) => {
  let store: AuditTestStore;
  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_test_export_lines');
    for (const [chainId, keys] of [['a', ed], ['b', sm]] as const) {
      const log = await AuditLog.open({ db: store.db, chainId, signingKey: keys.signingKey, subjectKey: ed.subjectKey, batchWindowMs: 1 });
      await Promise.all(Array.from({ length: 12 }, (_, i) => log.append(event(i))));
      await log.close();
    }
  });
  afterAll(() => store?.close());

  it('writes every stored value of every event, as exportObject does, oldest first, across batches', async () => {
    const reader = new AuditReader({ db: store.db, subjectKey: ed.subjectKey, exportBatchSize: 5 });
    let text = '';
    for await (const chunk of reader.exportEvents(new Date('2000-01-01'), new Date('2100-01-01'), 'jsonl')) text += chunk;
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const { rows } = await sql<Record<string, unknown>>`select * from audit_event order by "time", chain_id, seq`.execute(store.db);
    expect(rows.length).toBe(24);
    expect(lines).toEqual(rows.map((r) => JSON.parse(JSON.stringify(exportObject(recordFromRow(r))))));
    expect(lines.map((l) => Object.keys(l))).toEqual(rows.map((r) => Object.keys(exportObject(recordFromRow(r)))));
    expect(new Set(lines.map((l) => l.hashAlg))).toEqual(new Set(['sha256', 'sm3']));
  });

  it('shows on a search page the stored values and the number of subjects, not their hashes', async () => {
    const reader = new AuditReader({ db: store.db, subjectKey: ed.subjectKey });
    const page = await reader.searchEvents({}, 30);
    const { rows } = await sql<Record<string, unknown>>`select * from audit_event order by "time" desc, chain_id desc, seq desc`.execute(store.db);
    expect(page.edges.map((e) => e.node)).toEqual(
      rows.map((r) => {
        const { subjectHashes, ...rest } = recordFromRow(r);
        return { ...rest, subjectCount: subjectHashes.length };
      }),
    );
    expect(page.edges.some((e) => e.node.subjectCount > 0)).toBe(true);
    expect(page.edges.every((e) => !('subjectHashes' in e.node))).toBe(true);
  });
});
