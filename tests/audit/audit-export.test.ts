/**
 * `GET /audit/export`: auditors only, every attempt audited before the answer (fail closed),
 * JSON Lines and CSV, streamed with backpressure and flat memory (200,000 events).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { type Kysely, sql } from 'kysely';
import { AuditLog } from '../../audit/audit-writer.ts';
import { eventHash } from '../../audit/audit-encoding.ts';
import type { AuditRecord } from '../../audit/audit-rows.ts';
import { AuditReader } from '../../audit/audit-reader.ts';
import { CSV_COLUMNS } from '../../audit/audit-export.ts';
import { RateLimiter } from '../../gateway/rate-limit/rate-limiter.ts';
import { MemoryRateLimitStore } from '../../gateway/rate-limit/memory-rate-limit-store.ts';
import { DEFAULT_RATE_LIMITS } from '../../gateway/rate-limit/rate-limit-rules.ts';
import { auditExportHandler } from '../../gateway/http/audit-export-route.ts';
import type { AuditEventInput, AuditSink } from '../../audit/audit-event.ts';
import type { Viewer } from '../../core/identity.ts';
import { GatewayError } from '../../core/errors.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore } from './audit-fixtures.ts';

// Live memory, not garbage waiting for the next major GC, is what must stay flat.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const { signingKey, subjectKey } = auditTestKeys('audit-export');


const VIEWERS: Record<string, Viewer> = {
  auditor: { sub: 'officer-1', org: 'office:security', roles: ['auditor'] },
  staff: { sub: 'staff-1', org: 'street:310101002', roles: ['street_staff'] },
  owner: { sub: 'owner-1', org: 'dept:public-security', roles: ['data_owner'] },
};

async function authenticate(header: string | undefined): Promise<Viewer> {
  const viewer = header?.startsWith('Bearer ') ? VIEWERS[header.slice(7)] : undefined;
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'Missing or invalid token.');
  return viewer;
}

async function serve(handler: express.RequestHandler): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.get('/audit/export', handler);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit/export`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function event(i: number, over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 6,
    actor: { sub: `staff-${i % 9}`, org: 'street:310101013', roles: ['street_staff'] },
    purpose: 'grid-inspection',
    operationType: 'query',
    operationName: 'Inspect',
    operationHash: 'd'.repeat(64),
    fields: ['housing.address', 'housing.usage'],
    decision: 'allow',
    reason: 'grants: g-9',
    rows: 1,
    subjects: [`3101011970${String(10_000_000 + i).slice(-8)}`],
    requestId: `x-${i}`,
    ...over,
  };
}

/** Minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF records). */
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
  return records;
}

describe.each(BACKENDS)('audit export on %s', (backend) => {
  let store: { db: Kysely<any>; close(): Promise<void> };
  let log: AuditLog;
  let reader: AuditReader;
  let server: { url: string; close(): Promise<void> };
  // A small, fixed trail in January 2026.
  const jan = new Date('2026-01-15T08:00:00Z');
  let clock = jan;

  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_audit_export', { poolSize: 6 });
    const small = await AuditLog.open({ db: store.db, chainId: 'export-small', signingKey, subjectKey, now: () => clock });
    for (let i = 0; i < 30; i++) {
      clock = new Date(jan.getTime() + i * 60_000);
      await small.append(event(i, i === 7 ? { reason: 'FORBIDDEN: "phone", "name"\nnot granted', decision: 'deny', rows: 0, subjects: [] } : {}));
    }
    await small.close();
    log = await AuditLog.open({ db: store.db, chainId: `export-${backend}`, signingKey, subjectKey });
    reader = new AuditReader({ db: store.db, subjectKey });
    server = await serve(auditExportHandler({ authenticate, reader, sink: log, instanceId: `export-${backend}` }));
  });
  afterAll(async () => {
    await server?.close();
    await log?.close();
    await store?.close();
  });

  const exports = async (decision: string) => {
    const { rows } = await sql<{ n: unknown }>`
      select count(*) as n from audit_event where operation_name = 'auditExport' and decision = ${decision}`.execute(store.db);
    return Number(rows[0].n);
  };

  it('refuses everyone but auditors, and bad parameters, with JSON errors, each refusal audited', async () => {
    const before = await exports('deny');
    const cases: Array<[string | undefined, string, number, string]> = [
      [undefined, '?from=2026-01-01&to=2026-02-01', 401, 'UNAUTHENTICATED'],
      ['Bearer forged', '?from=2026-01-01&to=2026-02-01', 401, 'UNAUTHENTICATED'],
      ['Bearer staff', '?from=2026-01-01&to=2026-02-01', 403, 'FORBIDDEN'],
      ['Bearer owner', '?from=2026-01-01&to=2026-02-01', 403, 'FORBIDDEN'],
      ['Bearer auditor', '?to=2026-02-01', 400, 'BAD_USER_INPUT'],
      ['Bearer auditor', '?from=2026-01-01&to=2026-02-01&format=xml', 400, 'BAD_USER_INPUT'],
      ['Bearer auditor', '?from=2026-02-01&to=2026-01-01', 400, 'BAD_USER_INPUT'],
      ['Bearer auditor', '?from=soon&to=2026-01-01', 400, 'BAD_USER_INPUT'],
      ['Bearer auditor', '?from=2026-01-01&from=2026-01-02&to=2026-02-01', 400, 'BAD_USER_INPUT'],
    ];
    for (const [auth, query, status, code] of cases) {
      const res = await fetch(`${server.url}${query}`, { headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = await res.json();
      expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code } }] });
    }
    expect(await exports('deny')).toBe(before + cases.length);
  });

  it('answers 503 and exports nothing when the export cannot be audited', async () => {
    const failing: AuditSink = { append: () => Promise.reject(new GatewayError('SERVICE_UNAVAILABLE', 'down')) };
    const down = await serve(auditExportHandler({ authenticate, reader, sink: failing, instanceId: 'x' }));
    try {
      const res = await fetch(`${down.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toContain('export-small');
    } finally {
      await down.close();
    }
  });

  it('counts exports against the rate limits and refuses one export too many at once, each refusal audited', async () => {
    const limiter = new RateLimiter({
      rules: { ...DEFAULT_RATE_LIMITS, auditor: { limit: 1, windowMs: 60_000 } },
      store: new MemoryRateLimitStore(),
    });
    const limited = await serve(auditExportHandler({ authenticate, reader, sink: log, instanceId: 'x', rateLimit: (v) => limiter.check(v) }));
    const deniedBefore = await exports('deny');
    try {
      const first = await fetch(`${limited.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(first.status).toBe(200);
      await first.text();
      const second = await fetch(`${limited.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await second.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
    // At most one export at a time here: a second one while the first is still streaming is refused.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stalled: Pick<AuditReader, 'exportEvents'> = {
      async *exportEvents() {
        yield 'first line\n';
        await gate;
      },
    };
    const single = await serve(auditExportHandler({ authenticate, reader: stalled, sink: log, instanceId: 'x', maxConcurrent: 1 }));
    try {
      const running = await fetch(`${single.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(running.status).toBe(200);
      const refused = await fetch(`${single.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(refused.status).toBe(429);
      await refused.text();
      release();
      await running.text();
      const again = await fetch(`${single.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      expect(again.status).toBe(200);
      release();
      await again.text();
    } finally {
      release();
      await single.close();
    }
    expect(await exports('deny')).toBe(deniedBefore + 2);
  });

  it('streams JSON Lines oldest first, re-verifiable, and audits the export before it starts', async () => {
    const before = await exports('allow');
    const res = await fetch(`${server.url}?from=2026-01-15T08:00:00Z&to=2026-01-15T08:10:00Z&format=jsonl`, {
      headers: { authorization: 'Bearer auditor' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="audit-2026-01-15-2026-01-15.jsonl"/);
    const lines = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    for (const l of lines) {
      const record = { ...l, time: new Date(l.time), startedAt: new Date(l.startedAt) } as AuditRecord;
      expect(eventHash(record)).toBe(l.hash); // an export can be re-verified offline
    }
    expect(lines[7].reason).toBe('FORBIDDEN: "phone", "name"\nnot granted');
    expect(await exports('allow')).toBe(before + 1);

    // The export's own event is durable before the first byte: an export up to now contains it.
    const all = await fetch(`${server.url}?from=2026-01-01&to=2100-01-01`, { headers: { authorization: 'Bearer auditor' } });
    const last = JSON.parse((await all.text()).trimEnd().split('\n').at(-1)!);
    expect(last).toMatchObject({ operationType: 'export', operationName: 'auditExport', decision: 'allow', actorSub: 'officer-1' });
  });

  it('streams CSV with a header and proper quoting', async () => {
    const res = await fetch(`${server.url}?from=2026-01-15&to=2026-01-16&format=csv`, { headers: { authorization: 'Bearer auditor' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const records = parseCsv(await res.text());
    expect(records[0]).toEqual(CSV_COLUMNS);
    expect(records).toHaveLength(31);
    const row = (seq: number) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, records[seq][i]]));
    expect(row(8)).toMatchObject({ seq: '8', decision: 'deny', reason: 'FORBIDDEN: "phone", "name"\nnot granted', actorSub: 'staff-7' });
    expect(JSON.parse(row(1).actorRoles)).toEqual(['street_staff']);
    expect(row(1).change).toBe('');
  });

  it('stops reading when the client does not read (backpressure) and when it goes away', async () => {
    let produced = 0;
    let finished = false;
    const chunk = `${'x'.repeat(65_535)}\n`;
    const endless = {
      async *exportEvents() {
        try {
          for (;;) {
            produced += 1;
            yield chunk;
          }
        } finally {
          finished = true;
        }
      },
    };
    const slow = await serve(auditExportHandler({ authenticate, reader: endless, sink: log, instanceId: 'x' }));
    try {
      const req = http.get(`${slow.url}?from=2026-01-01&to=2026-02-01`, { headers: { authorization: 'Bearer auditor' } });
      const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
      expect(res.statusCode).toBe(200);
      res.pause();
      await new Promise((r) => setTimeout(r, 500));
      const stalled = produced;
      await new Promise((r) => setTimeout(r, 500));
      expect(produced).toBe(stalled); // nothing more is read while the client does not read
      expect(produced * chunk.length).toBeLessThan(32 * 1024 * 1024);
      req.destroy();
      await new Promise((r) => setTimeout(r, 300));
      expect(finished).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it(
    'exports 200,000 events as JSON Lines with flat memory',
    async () => {
      const chainId = `bulk-${backend}`;
      const from = new Date();
      const bulk = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey, maxBatch: 5000, checkpointEveryMs: 0 });
      for (let wave = 0; wave < 20; wave++) {
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => bulk.append(event(wave * 10_000 + i))));
      }
      await bulk.close();
      const to = new Date(Date.now() + 1);
      const { rows } = await sql<{ n: unknown }>`select count(*) as n from audit_event where chain_id = ${chainId}`.execute(store.db);
      expect(Number(rows[0].n)).toBe(200_000);

      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peak = baseline; // heap in use at any moment (garbage included)
      let livePeak = baseline; // heap still in use after a full collection
      let nextCheck = 0;
      const sample = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }, 20);
      let lines = 0;
      let bytes = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          const req = http.get(
            `${server.url}?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&format=jsonl`,
            { headers: { authorization: 'Bearer auditor' } },
            (res) => {
              expect(res.statusCode).toBe(200);
              res.on('data', (chunk: Buffer) => {
                bytes += chunk.length;
                for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
                peak = Math.max(peak, process.memoryUsage().heapUsed);
                if (bytes >= nextCheck) {
                  nextCheck += 8 * 1024 * 1024;
                  gc();
                  livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
                }
              });
              res.on('end', resolve);
              res.on('error', reject);
            },
          );
          req.on('error', reject);
        });
      } finally {
        clearInterval(sample);
      }
      const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
      console.log(
        `export of ${lines} events (${mb(bytes)} MB): live heap growth ${mb(livePeak - baseline)} MB, ` +
          `heap growth including uncollected garbage ${mb(peak - baseline)} MB`,
      );
      expect(lines).toBe(200_000);
      expect(bytes).toBeGreaterThan(100 * 1024 * 1024); // far more than the heap may grow by
      expect((livePeak - baseline) / 1024 / 1024).toBeLessThan(60);
    },
    600_000,
  );
});
