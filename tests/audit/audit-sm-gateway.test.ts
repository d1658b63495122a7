/**
 * `AUDIT_CRYPTO=sm` end to end, as an operator runs it: the embedded gateway starts (creating its
 * SM2 key files), serves and audits an operation, stops; `npm run audit:verify` on its DATA_DIR
 * then finds the trail intact and names SM3 and SM2. The stored trail is also checked with the
 * independent sm-crypto package: each event's SM3 hash and a checkpoint's SM2 signature.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import sm from 'sm-crypto';
import { signToken } from '../../gateway/auth/token-signer.ts';
import { openPglite, pgliteDatabase } from '../../gateway/store/databases.ts';
import { canonicalEncoding } from '../../audit/audit-encoding.ts';
import { checkpointFromRow, recordFromRow } from '../../audit/audit-rows.ts';
import { checkpointPayload } from '../../audit/audit-checkpoint.ts';
import { loadPublicKeys } from '../../audit/audit-keys.ts';
import type { Sm2PublicKey } from '../../audit/sm2-keys.ts';
import { TEST_SECRET } from '../backends.ts';
import { sql } from 'kysely';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('AUDIT_CRYPTO=sm: gateway start, stop, npm run audit:verify', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-sm-gateway-'));
  const env: Record<string, string> = {
    ...process.env,
    DATABASE_URL: '',
    POPULATION_DATABASE_URL: '',
    HOUSING_DATABASE_URL: '',
    SOCIAL_SECURITY_URL: '',
    SOCIAL_SECURITY_DATABASE_URL: '',
    REDIS_URL: '',
    INSTANCE_ID: '',
    WORKERS: '',
    AUDIT_SIGNING_KEY: '',
    AUDIT_SM2_SIGNING_KEY: '',
    AUDIT_SUBJECT_KEY: '',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_PERSONS: '50',
    JWT_SECRET: TEST_SECRET,
    AUDIT_CRYPTO: 'sm',
  } as Record<string, string>;
  let gateway: ChildProcess | undefined;
  // The directory stays (in the OS temp dir): PGlite may still flush into it after close resolves.
  afterAll(() => {
    if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
  });

  it('keeps an SM3 chain with SM2 checkpoints that audit:verify and sm-crypto both accept', { timeout: 300_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway = child;
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`gateway exited before listening:\n${stderr}`)));
    });

    const token = await signToken(TEST_SECRET, { sub: 'officer-sm', org: 'office:security', roles: ['auditor'] }, '1h');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query Integrity { auditIntegrity { intact algorithms chains { hashAlgorithms signatureAlgorithms } } }' }),
    });
    const answer = await res.text();
    expect(res.status, answer).toBe(200);
    expect(JSON.parse(answer).errors, answer).toBeUndefined();
    expect(JSON.parse(answer).data.auditIntegrity.intact).toBe(true);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);

    // The SM2 key files were made in DATA_DIR.
    const smKeyFile = path.join(dataDir, 'audit-sm2-signing-key.pem');
    expect(fs.existsSync(smKeyFile)).toBe(true);
    expect(fs.existsSync(`${smKeyFile}.pub`)).toBe(true);

    const cli = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['gateway/cli/audit-verify.ts'], {
      cwd: ROOT,
      env: { ...env, AUDIT_CRYPTO: 'sm' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    const out = `${cli.stdout}${cli.stderr}`;
    expect(cli.status, out).toBe(0);
    expect(out).toMatch(/algorithms checked: SM3, SM2/);
    expect(out).toMatch(/result: INTACT/);
    // The Ed25519 key was never made; a check run without AUDIT_CRYPTO still finds the SM2 key.
    expect(fs.existsSync(path.join(dataDir, 'audit-signing-key.pem'))).toBe(false);
    const plain = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['gateway/cli/audit-verify.ts'], {
      cwd: ROOT,
      env: { ...env, AUDIT_CRYPTO: '' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(plain.status, `${plain.stdout}${plain.stderr}`).toBe(0);
    expect(plain.stdout).toMatch(/algorithms checked: SM3, SM2/);

    // Independently: sm-crypto recomputes every event's SM3 hash and checks a checkpoint's SM2 signature.
    const trusted = loadPublicKeys(`${smKeyFile}.pub`)[0] as Sm2PublicKey;
    const pointHex = `04${trusted.point.x.toString(16).padStart(64, '0')}${trusted.point.y.toString(16).padStart(64, '0')}`;
    const pglite = await openPglite(dataDir);
    const db = pgliteDatabase(pglite);
    try {
      const events = (await sql<Record<string, unknown>>`select * from audit_event order by chain_id, seq`.execute(db)).rows.map(recordFromRow);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(e.hashAlg).toBe('sm3');
        expect(sm.sm3(canonicalEncoding(e))).toBe(e.hash);
      }
      const cps = (await sql<Record<string, unknown>>`select * from audit_checkpoint order by seq`.execute(db)).rows.map(checkpointFromRow);
      expect(cps.length).toBeGreaterThan(0);
      for (const cp of cps) {
        expect(cp.keyId).toMatch(/^sm2:/);
        const payload = Array.from(Buffer.from(checkpointPayload(cp), 'utf8'));
        const signature = Buffer.from(cp.signature, 'base64').toString('hex');
        expect(sm.sm2.doVerifySignature(payload, signature, pointHex, { der: true, hash: true })).toBe(true);
      }
    } finally {
      await db.destroy().catch(() => {});
      if (!pglite.closed) await pglite.close();
    }
  });
});
