/**
 * `/audit/export` of 1 million events: the gateway's own route (`auditExportHandler`, with an
 * auditor's viewer, a real AuditLog recording the export, the real AuditReader) on an express
 * server in this process, read over HTTP by a client that only counts lines. It reports events
 * per second and the process's resident memory sampled every 100 ms during the stream (server and
 * client together), so that a growing buffer would show.
 *
 * The events are the first million of the 10M bench store (`bench/audit-10m-fill.ts`).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sql } from 'kysely';
import { postgresDatabase } from '../gateway/store/databases.ts';
import { AuditLog } from '../audit/audit-writer.ts';
import { AuditReader } from '../audit/audit-reader.ts';
import { loadSigningKey } from '../audit/audit-keys.ts';
import { auditExportHandler } from '../gateway/http/audit-export-route.ts';
import { AUDIT10M_SUBJECT_KEY } from './audit-10m-fill.ts';

export interface ExportStreamResult {
  readonly format: 'jsonl' | 'csv';
  readonly events: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Resident set size, MB: before the request, highest while streaming, at the end. */
  readonly rssMb: { readonly before: number; readonly max: number; readonly end: number };
  readonly load: number;
}

const mb = (n: number) => Math.round(n / 1048576);

/** Streams the `events` oldest events of the store at `url` through the export route. */
export async function runExportStream(url: string, events = 1_000_000, format: 'jsonl' | 'csv' = 'jsonl'): Promise<ExportStreamResult> {
  const db = postgresDatabase(url, { poolSize: 4 });
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-export-bench-'));
  let server: http.Server | undefined;
  let log: AuditLog | undefined;
  try {
    // The window [from, to) holding exactly the oldest `events` events.
    const { rows } = await sql<{ first: string; after: string }>`
      select (select min("time") from audit_event)::text as first,
             (select "time" from audit_event order by "time" offset ${events} limit 1)::text as after`.execute(db);
    const from = new Date(rows[0]!.first);
    const to = new Date(rows[0]!.after);
    const signingKey = loadSigningKey(path.join(keyDir, 'signing.pem'), { create: true });
    log = await AuditLog.open({ db, chainId: `bench-export-${Date.now().toString(36)}`, signingKey, subjectKey: AUDIT10M_SUBJECT_KEY });
    const reader = new AuditReader({ db, subjectKey: AUDIT10M_SUBJECT_KEY });
    const app = express();
    app.get(
      '/audit/export',
      auditExportHandler({
        authenticate: async () => ({ sub: 'bench-auditor', org: 'office:security', roles: ['auditor'] }),
        reader,
        sink: log,
        instanceId: 'bench',
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;

    global.gc?.();
    const before = process.memoryUsage().rss;
    let max = before;
    const sampler = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), 100);
    const started = performance.now();
    let lines = 0;
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&format=${format}`;
      http
        .get(`http://127.0.0.1:${port}/audit/export?${q}`, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`export answered ${res.statusCode}`));
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          });
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const exported = format === 'csv' ? lines - 1 : lines;
    return {
      format,
      events: exported,
      bytes,
      seconds: Math.round(seconds * 10) / 10,
      eventsPerSecond: Math.round(exported / seconds),
      rssMb: { before: mb(before), max: mb(max), end: mb(process.memoryUsage().rss) },
      load: os.loadavg()[0]!,
    };
  } finally {
    server?.close();
    await log?.close().catch(() => {});
    await db.destroy();
    fs.rmSync(keyDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.BENCH_AUDIT10M_URL ?? 'postgres://postgres@127.0.0.1:5432/lianqiao_bench_audit10m';
  const format = process.env.BENCH_EXPORT_FORMAT === 'csv' ? 'csv' : 'jsonl';
  runExportStream(url, Number(process.env.BENCH_EXPORT_EVENTS ?? 1_000_000), format).then(
    (r) => console.log(JSON.stringify(r)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
