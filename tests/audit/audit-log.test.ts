/**
 * The audit log's write side on every backend: group commit, the hash chain, partitions, the
 * append-only guard, fail-closed behaviour and recovery without restart.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { migrateStore, openPglite } from '../../gateway/store/databases.ts';
import { auditMigration, auditPartitionName, monthStart } from '../../audit/migrations/0002-audit.ts';
import { AuditLog } from '../../audit/audit-writer.ts';
import { GENESIS_HASH, canonicalEncoding, eventHash } from '../../audit/audit-encoding.ts';
import { recordFromRow, type AuditRecord } from '../../audit/audit-rows.ts';
import { canonicalJson, type JsonValue } from '../../core/canonical-json.ts';
import {
  loadPublicKeys,
  loadSigningKey,
  loadSubjectKey,
  publicKeyFileFor,
  subjectHasher,
} from '../../audit/audit-keys.ts';
import { verifyAudit } from '../../audit/audit-verifier.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { isGatewayError } from '../../core/errors.ts';
import { BACKENDS, freshDatabase, type Backend } from '../backends.ts';

interface Store {
  readonly db: Kysely<any>;
  readonly url?: string;
  readonly pglite?: PGlite;
  /** Statements whose SQL matched `counted`, since the last reset. */
  statements: string[];
  close(): Promise<void>;
}

async function openStore(backend: Backend): Promise<Store> {
  const statements: string[] = [];
  const log = (event: LogEvent) => {
    if (event.level === 'query' && /insert into audit_event|select audit_append\(/.test(event.query.sql)) statements.push(event.query.sql);
  };
  if (backend === 'pglite') {
    const pglite = await openPglite(undefined);
    const db = new Kysely<any>({ dialect: new KyselyPGlite(pglite).dialect, log });
    await migrateStore(db);
    return {
      db,
      pglite,
      statements,
      async close() {
        await db.destroy().catch(() => {});
        if (!pglite.closed) await pglite.close();
      },
    };
  }
  const fresh = await freshDatabase('lianqiao_audit_log');
  const pool = new pg.Pool({ connectionString: fresh.url, max: 6 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log });
  await migrateStore(db);
  return {
    db,
    url: fresh.url,
    statements,
    async close() {
      await db.destroy().catch(() => {});
      await fresh.drop();
    },
  };
}

const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-audit-log-'));
const signingKey = loadSigningKey(path.join(keyDir, 'signing.pem'), { create: true });
const subjectKey = loadSubjectKey(path.join(keyDir, 'subject'), { create: true });
const publicKeys = loadPublicKeys(publicKeyFileFor(path.join(keyDir, 'signing.pem')));

function idNumber(i: number): string {
  return `3101011956${String(1000 + (i % 9000)).padStart(4, '0')}${String(i % 1000).padStart(3, '0')}X`;
}

function event(i: number, over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    time: new Date(),
    durationMs: 5,
    actor: { sub: `staff-${i % 5}`, org: 'street:310101002', roles: ['street_staff'] },
    purpose: 'elderly-allowance',
    operationType: 'query',
    operationName: 'Review',
    operationHash: 'a'.repeat(64),
    fields: ['population.name', 'population.birthDate'],
    decision: 'allow',
    reason: 'grants: g-1',
    rows: 1,
    subjects: [idNumber(i)],
    requestId: `req-${i}`,
    ...over,
  };
}

async function chainRows(db: Kysely<any>, chainId: string): Promise<AuditRecord[]> {
  const { rows } = await sql<Record<string, unknown>>`select * from audit_event where chain_id = ${chainId} order by seq`.execute(db);
  return rows.map(recordFromRow);
}

function expectUnavailable(error: unknown): void {
  expect(isGatewayError(error)).toBe(true);
  expect((error as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
}

describe('canonical encoding', () => {
  it('is exactly the sorted-key canonical JSON of the stored fields', () => {
    const record: Omit<AuditRecord, 'hash'> = {
      chainId: 'gw-"1',
      seq: 42,
      prevHash: GENESIS_HASH,
      time: new Date('2026-03-01T12:00:00.123Z'),
      startedAt: new Date('2026-03-01T11:59:59.001Z'),
      durationMs: 12,
      actorSub: 'u\n1',
      actorOrg: null,
      actorRoles: ['auditor', 'street_staff'],
      purpose: null,
      operationType: 'mutation',
      operationName: '名字',
      operationHash: null,
      fields: [],
      decision: 'deny',
      reason: 'FORBIDDEN: "x"',
      rows: 0,
      subjectHashes: ['ab', 'cd'],
      change: { z: [1, { b: null, a: 'é' }], a: 1.5 },
      requestId: 'r',
      instance: 'gw-"1',
      hashAlg: 'sha256',
    };
    const generic = (r: Omit<AuditRecord, 'hash'>): { [key: string]: JsonValue } => {
      const { hashAlg, ...rest } = r;
      return {
        ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : (v as JsonValue)])),
        // SHA-256 events never carried the member; SM3 events carry it, inside what is hashed.
        ...(hashAlg === 'sha256' ? {} : { hashAlg }),
        v: 1,
      };
    };
    expect(canonicalEncoding(record)).toBe(canonicalJson(generic(record)));
    expect(canonicalEncoding(record)).not.toContain('hashAlg');
    expect(eventHash(record)).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash(record)).toBe(crypto.createHash('sha256').update(canonicalEncoding(record), 'utf8').digest('hex'));
    const sm = { ...record, hashAlg: 'sm3' as const };
    expect(canonicalEncoding(sm)).toBe(canonicalJson(generic(sm)));
    expect(canonicalEncoding(sm)).toContain('"fields":[],"hashAlg":"sm3","instance"');
    expect(eventHash(sm)).toBe(crypto.createHash('sm3').update(canonicalEncoding(sm), 'utf8').digest('hex'));
  });
});

describe.each(BACKENDS)('audit log on %s', (backend) => {
  let store: Store;

  beforeAll(async () => {
    store = await openStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('migrates idempotently', async () => {
    await migrateStore(store.db);
    await auditMigration.up(store.db);
    const { rows } = await sql<{ relname: string }>`
      select relname from pg_class where relname like 'audit_event_p%' and relkind = 'r' order by relname`.execute(store.db);
    const now = new Date();
    expect(rows.map((r) => r.relname)).toEqual(expect.arrayContaining([0, 1, 2, 3].map((i) => auditPartitionName(monthStart(now, i)))));
  });

  it('group-commits 2,000 concurrent appends in far fewer insert statements, as one intact chain', async () => {
    const log = await AuditLog.open({ db: store.db, chainId: `${backend}-group`, signingKey, subjectKey, checkpointEveryMs: 0 });
    store.statements.length = 0;
    await Promise.all(Array.from({ length: 2000 }, (_, i) => log.append(event(i))));
    const inserts = store.statements.length;
    expect(inserts).toBeGreaterThanOrEqual(2);
    expect(inserts).toBeLessThanOrEqual(20);
    expect(log.stats()).toMatchObject({ committed: 2000, failed: 0, queueDepth: 0, headSeq: 2000 });
    await log.close();

    const rows = await chainRows(store.db, `${backend}-group`);
    expect(rows).toHaveLength(2000);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(rows[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i].prevHash).toBe(rows[i - 1].hash);
    for (const r of rows) expect(eventHash(r)).toBe(r.hash);

    const report = await verifyAudit(store.db, publicKeys);
    const chain = report.chains.find((c) => c.chainId === `${backend}-group`)!;
    expect(chain).toMatchObject({ intact: true, events: 2000, lastCheckpointSeq: 2000, unsignedTail: 0 });
  });

  it('stores subjects only as keyed hashes', async () => {
    const log = await AuditLog.open({ db: store.db, chainId: `${backend}-subjects`, signingKey, subjectKey });
    const person = '310101195601011234';
    await log.append(event(1, { subjects: [person, person, '31010119560101123x'] }));
    await log.close();
    const { rows } = await sql<Record<string, unknown>>`select * from audit_event where chain_id = ${`${backend}-subjects`}`.execute(store.db);
    expect(JSON.stringify(rows)).not.toContain('3101011956010112');
    const hash = subjectHasher(subjectKey);
    expect([...(rows[0].subject_hashes as string[])].sort()).toEqual([hash(person), hash('31010119560101123X')].sort());
  });

  it('remembers subject hashes without changing them, and forgets the oldest when full', () => {
    const uncached = subjectHasher(subjectKey, 0);
    const cached = subjectHasher(subjectKey, 2);
    const ids = ['310101195601011234', '31010119560101123x', '310101195601015678'];
    // Three distinct ids through a cache of two, twice, in an order that evicts each of them once.
    for (const id of [...ids, ...ids.reverse(), ids[1]]) expect(cached(id)).toBe(uncached(id));
    expect(cached('31010119560101123x')).toBe(uncached('31010119560101123X'));
    expect(cached(ids[0])).toMatch(/^[0-9a-f]{64}$/);
    expect(cached(ids[0])).not.toBe(subjectHasher(Buffer.alloc(32, 7), 2)(ids[0]));
  });

  it('keeps odd input verifiable (NUL, lone surrogates, exotic change values)', async () => {
    const log = await AuditLog.open({ db: store.db, chainId: `${backend}-odd`, signingKey, subjectKey });
    await log.append(
      event(1, {
        actor: { sub: 'a\u0000b\ud800', org: null, roles: [] },
        reason: 'line\nbreak, "quoted"',
        change: { big: 10n, when: new Date(0), nested: [1e21, -0, 0.1, 'x\u0000'], skip: undefined },
      }),
    );
    await log.close();
    const report = await verifyAudit(store.db, publicKeys);
    expect(report.chains.find((c) => c.chainId === `${backend}-odd`)).toMatchObject({ intact: true, events: 1 });
  });

  it('rejects UPDATE, DELETE and TRUNCATE on audit records', async () => {
    const log = await AuditLog.open({ db: store.db, chainId: `${backend}-immutable`, signingKey, subjectKey });
    await log.append(event(1));
    await log.close();
    const partition = auditPartitionName(new Date());
    for (const statement of [
      sql`update audit_event set actor_sub = 'x' where chain_id = ${`${backend}-immutable`}`,
      sql`delete from audit_event where chain_id = ${`${backend}-immutable`}`,
      sql`truncate audit_event`,
      sql`truncate ${sql.table(partition)}`,
      sql`truncate audit_event_default`,
      sql`delete from audit_checkpoint`,
      sql`truncate audit_checkpoint`,
    ]) {
      await expect(statement.execute(store.db)).rejects.toThrow(/append-only/);
    }
    expect(await chainRows(store.db, `${backend}-immutable`)).toHaveLength(1);
  });

  it('fails closed while the store refuses writes, and recovers without restart', async () => {
    const chainId = `${backend}-outage`;
    const log = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey });
    await log.append(event(1));
    await sql`alter table audit_event rename to audit_event_away`.execute(store.db);
    try {
      const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(event(i))));
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expectUnavailable((r as PromiseRejectedResult).reason);
      }
      expect(log.stats().headSeq).toBe(1);
    } finally {
      await sql`alter table audit_event_away rename to audit_event`.execute(store.db);
    }
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(event(i))));
    await log.close();
    const rows = await chainRows(store.db, chainId);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const report = await verifyAudit(store.db, publicKeys);
    expect(report.chains.find((c) => c.chainId === chainId)).toMatchObject({ intact: true, events: 6 });
  });

  it('continues a chain across restarts, and a second writer of the same chain makes the first fail closed', async () => {
    const chainId = `${backend}-restart`;
    const first = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey });
    await first.append(event(1));
    await first.close();
    const second = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey });
    await second.append(event(2));
    const third = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey }); // takes the chain over
    await third.append(event(3));
    await expect(second.append(event(4))).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'SERVICE_UNAVAILABLE');
    await expect(second.append(event(5))).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'SERVICE_UNAVAILABLE');
    await third.append(event(6));
    await second.close();
    await third.close();
    expect((await chainRows(store.db, chainId)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const report = await verifyAudit(store.db, publicKeys);
    expect(report.chains.find((c) => c.chainId === chainId)).toMatchObject({ intact: true, events: 4 });
  });

  it('puts each month in its partition and signs the last event of a month', async () => {
    const chainId = `${backend}-months`;
    const m1 = monthStart(new Date(), 1);
    let clock = new Date(m1.getTime() + 27 * 86_400_000);
    const log = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey, now: () => clock, checkpointEveryMs: 0 });
    await log.append(event(1));
    await log.append(event(2));
    clock = new Date(monthStart(m1, 1).getTime() + 1000);
    await log.append(event(3));
    // The clock going back never makes record times go backwards along the chain.
    clock = new Date(m1.getTime() + 1000);
    await log.append(event(4));
    await log.close();
    const { rows } = await sql<{ seq: unknown; part: string; time: Date }>`
      select seq, tableoid::regclass::text as part, "time" from audit_event where chain_id = ${chainId} order by seq`.execute(store.db);
    expect(rows.map((r) => r.part)).toEqual([
      auditPartitionName(m1),
      auditPartitionName(m1),
      auditPartitionName(monthStart(m1, 1)),
      auditPartitionName(monthStart(m1, 1)),
    ]);
    expect(rows[3].time.getTime()).toBeGreaterThanOrEqual(rows[2].time.getTime());
    const cps = await sql<{ seq: unknown; kind: string }>`
      select seq, kind from audit_checkpoint where chain_id = ${chainId} order by seq`.execute(store.db);
    expect(cps.rows.map((c) => [Number(c.seq), c.kind])).toEqual([
      [2, 'month-end'],
      [4, 'close'],
    ]);
  });

  it('writes a signed checkpoint at least every checkpointEveryMs while the head moves', async () => {
    const chainId = `${backend}-ticks`;
    const log = await AuditLog.open({ db: store.db, chainId, signingKey, subjectKey, checkpointEveryMs: 50 });
    await log.append(event(1));
    await new Promise((r) => setTimeout(r, 200));
    await log.append(event(2));
    await new Promise((r) => setTimeout(r, 200));
    expect(log.stats().lastCheckpointSeq).toBe(2);
    const before = await sql<{ n: unknown }>`select count(*) as n from audit_checkpoint where chain_id = ${chainId}`.execute(store.db);
    await new Promise((r) => setTimeout(r, 200)); // idle: nothing new to sign
    const after = await sql<{ n: unknown }>`select count(*) as n from audit_checkpoint where chain_id = ${chainId}`.execute(store.db);
    expect(Number(after.rows[0].n)).toBe(Number(before.rows[0].n));
    await log.close();
  });

  it.runIf(backend === 'postgres')(
    'rejects appends while the connection to PostgreSQL is cut, then works again and the chain verifies',
    async () => {
      const target = new URL(store.url!);
      const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      const port = await proxy.start();
      const viaProxy = new URL(store.url!);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(port);
      const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 4, connectionTimeoutMillis: 2000 });
      pool.on('error', () => {});
      // A client checked out by Kysely has no 'error' listener (pg-pool removes its own while the
      // client is in use): a cut mid-query would otherwise be an uncaught exception.
      pool.on('connect', (client) => client.on('error', () => {}));
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
      const chainId = 'postgres-proxy';
      const log = await AuditLog.open({ db, chainId, signingKey, subjectKey, commitTimeoutMs: 3000 });
      try {
        await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(event(i))));

        // Cut while a burst is in flight: some of it may land, none may be acknowledged falsely.
        const burst = Array.from({ length: 200 }, (_, i) => log.append(event(100 + i)));
        await proxy.stop();
        const outcomes = await Promise.allSettled(burst);
        const down = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => log.append(event(300 + i))));
        for (const r of down) {
          expect(r.status).toBe('rejected');
          expectUnavailable((r as PromiseRejectedResult).reason);
        }

        await proxy.start(port);
        await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(event(400 + i))));
        await log.close();

        const acknowledged = 50 + outcomes.filter((o) => o.status === 'fulfilled').length + 50;
        const rows = await chainRows(store.db, chainId);
        expect(rows.length).toBeGreaterThanOrEqual(acknowledged);
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
        const report = await verifyAudit(store.db, publicKeys);
        expect(report.chains.find((c) => c.chainId === chainId)).toMatchObject({ intact: true, events: rows.length });
      } finally {
        await log.close();
        await db.destroy().catch(() => {});
        await proxy.stop();
      }
    },
  );
});

/** A TCP relay the test can cut and restore, standing for a network failure between gateway and store. */
class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.port, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
