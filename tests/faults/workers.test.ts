/**
 * WORKERS=N: the real process (`node --import tsx gateway/main.ts`) as a node:cluster primary with
 * two workers on real PostgreSQL: both answer on the one port, each writes its own audit chain,
 * /metrics on either worker counts the whole cluster, SIGTERM stops all with exit 0, and the trail
 * verifies. Without PostgreSQL, WORKERS=2 is refused with a clear message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config.ts';
import { loadAuditKeys } from '../../audit/audit-keys.ts';
import { signToken } from '../../gateway/auth/token-signer.ts';
import { postgresDatabase } from '../../gateway/store/databases.ts';
import { seedSources } from '../../demo/seed-sources.ts';
import { freshDatabase, NANJING_EAST, TEST_SECRET } from '../setup.ts';
import { CLEAN_GATEWAY_ENV, REAL_POSTGRES } from './fault-tools.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLEAN_ENV = CLEAN_GATEWAY_ENV;

function start(env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...CLEAN_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => stdout, err: () => stderr, exited };
}

function get(url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: body ? 'POST' : 'GET', agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('WORKERS=2 without PostgreSQL', () => {
  it('is refused at start with a clear configuration error', { timeout: 120_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-workers-'));
    try {
      const gw = start({ DATA_DIR: dataDir, WORKERS: '2', PORT: '0' });
      expect(await gw.exited).toBe(2);
      expect(gw.err()).toMatch(/WORKERS=2 needs PostgreSQL for the store and every source/);
      expect(gw.err()).toMatch(/embedded PGlite directory can be open in one process only/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.runIf(REAL_POSTGRES)('WORKERS=2 on real PostgreSQL', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-workers-'));
  let drop: (() => Promise<void>) | undefined;
  let gateway: ChildProcess | undefined;
  afterAll(async () => {
    if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
    await drop?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs two workers on one port, one audit chain each, and stops both on SIGTERM', { timeout: 180_000 }, async () => {
    const db = await freshDatabase();
    drop = db.drop;
    const source = postgresDatabase(db.url);
    await seedSources({ population: source, housing: source, socialSecurity: source }, { persons: 300 });
    await source.destroy();
    const instanceId = `cluster-${Math.random().toString(36).slice(2, 8)}`;
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      WORKERS: '2',
      INSTANCE_ID: instanceId,
      JWT_SECRET: TEST_SECRET,
      DATABASE_URL: db.url,
      POPULATION_DATABASE_URL: db.url,
      HOUSING_DATABASE_URL: db.url,
      SOCIAL_SECURITY_DATABASE_URL: db.url,
    };
    loadAuditKeys(loadConfig({ ...CLEAN_ENV, ...env }), { create: true });

    const gw = start(env);
    gateway = gw.child;
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /listening on (http:\/\/\S+) \(2 workers\)/.exec(gw.out());
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 50);
      void gw.exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`exited ${code} before listening:\n${gw.err()}\n${gw.out()}`));
      });
    });
    expect(url).not.toContain(':0/');

    const token = await signToken(TEST_SECRET, { sub: 'clerk-cluster', org: NANJING_EAST, roles: ['street_staff'] }, '1h');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'elderly-allowance' };
    const body = JSON.stringify({ query: `{ people(first: 5) { totalCount edges { node { name socialSecurity { pensionStatus } } } } }` });
    // 30 requests, 5 at a time (the shared PostgreSQL server's connections are limited); each on
    // its own connection, so the primary's round robin spreads them over both workers.
    const answers: { status: number; text: string }[] = [];
    for (let batch = 0; batch < 6; batch++) answers.push(...(await Promise.all(Array.from({ length: 5 }, () => get(url, headers, body)))));
    for (const a of answers) {
      expect(`${a.status} ${a.text.slice(0, 200)} ${url}`).toMatch(/^200 /);
      expect(JSON.parse(a.text).errors).toBeUndefined();
    }

    // Both workers answered: each has its own chain with events in it.
    const store = postgresDatabase(db.url, { poolSize: 1 });
    try {
      const { rows } = await sql<{ chain_id: string; n: string }>`
        select chain_id, count(*) as n from audit_event group by chain_id order by chain_id`.execute(store);
      expect(rows.map((r) => r.chain_id)).toEqual([`${instanceId}-w1`, `${instanceId}-w2`]);
      for (const r of rows) expect(Number(r.n)).toBeGreaterThan(0);
      expect(rows.reduce((sum, r) => sum + Number(r.n), 0)).toBe(30);
    } finally {
      await store.destroy();
    }

    // /metrics on whichever worker answers counts the whole cluster.
    const metricsUrl = url.replace(/\/graphql$/, '/metrics');
    for (let i = 0; i < 2; i++) {
      const metrics = await get(metricsUrl);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/lianqiao_operations_total\{decision="allow",code="OK"\} 30\b/);
    }

    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    const lines = gw
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(2);

    const verify = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['gateway/cli/audit-verify.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...CLEAN_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let report = '';
    verify.stdout!.on('data', (d) => (report += d));
    const code = await new Promise((resolve) => verify.on('exit', resolve));
    expect(report).toMatch(/2 chain\(s\), 30 event\(s\)/);
    expect(code).toBe(0);
  });
});
