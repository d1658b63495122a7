/**
 * SIGTERM on the real process (`node --import tsx gateway/main.ts`, exactly what `npm start` runs),
 * embedded mode, so it needs no services: a burst of concurrent requests is in flight when the
 * signal arrives. The
 * gateway stops accepting, finishes what it started, flushes the audit log, closes its pools and
 * exits 0; afterwards `audit-verify` on the same DATA_DIR finds an intact trail with exactly one
 * event per response the clients received.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../../gateway/auth/token-signer.ts';
import { NANJING_EAST, TEST_SECRET } from '../setup.ts';
import { CLEAN_GATEWAY_ENV } from './fault-tools.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** One request on its own connection (no keep-alive reuse): a response, or the connection error. */
function post(url: string, token: string, body: string): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-purpose': 'elderly-allowance' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(body);
  });
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('SIGTERM with requests in flight (embedded, real process)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-sigterm-'));
  const env = {
    ...CLEAN_GATEWAY_ENV,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_PERSONS: '300',
    JWT_SECRET: TEST_SECRET,
  };
  let gateway: ChildProcess | undefined;
  afterAll(() => {
    if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // Two processes start here; on a loaded machine that alone can take half a minute.
  it('finishes in-flight operations, audits each, exits 0, and leaves an intact trail', { timeout: 180_000 }, async () => {
    // Not through the tsx CLI: it relays SIGTERM to its child and SIGKILLs it when the child does
    // not acknowledge within 2 × 30 ms, which a gateway busy with requests does not (exit 143).
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway = child;
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`gateway exited before listening:\n${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toContain(':0/');

    const token = await signToken(TEST_SECRET, { sub: 'clerk-sigterm', org: NANJING_EAST, roles: ['street_staff'] }, '1h');
    const query = JSON.stringify({
      query: `query Burst { people(first: 100) { totalCount edges { node { idNumber name age birthDate residenceAddress hukouAddress socialSecurity { pensionStatus } } } } }`,
    });
    const burst = Array.from({ length: 24 }, () => post(url, token, query));
    // SIGTERM once the first answer is back: the others are in flight.
    await Promise.race(burst);
    child.kill('SIGTERM');
    // The gateway first accepts what already waits in its listen backlog (5 s at most), then
    // stops listening and says so.
    await new Promise<void>((resolve) => {
      const check = () => (/no longer accepting connections/.test(stdout) || child.exitCode !== null ? resolve() : setTimeout(check, 20));
      check();
    });
    const late = await Promise.all(Array.from({ length: 5 }, () => post(url, token, query)));

    const { code, signal } = await exited;
    const results = await Promise.all(burst);
    const context = `stderr:\n${stderr}\nstdout (drain lines):\n${stdout.split('\n').filter((l) => /accepting|without a request|stopp/.test(l)).join('\n')}\nresults: ${results.map((r) => ('status' in r ? r.status : r.error)).join(',')}`;
    expect({ code, signal }, context).toEqual({ code: 0, signal: null });
    // Everything that was in flight was finished, with data.
    for (const r of results) {
      expect('status' in r ? r.status : r.error, context).toBe(200);
      if ('text' in r) expect(JSON.parse(r.text).errors).toBeUndefined();
    }
    // Then no new connection was accepted.
    for (const r of late) expect('error' in r ? r.error : `HTTP ${r.status}`).toBe('ECONNREFUSED');

    const responses = [...results, ...late].filter((r) => 'status' in r).length;
    expect(responses).toBe(24);
    const logs = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(logs.filter((l) => l.msg === 'operation')).toHaveLength(24);
    expect(logs.find((l) => l.msg === 'stopped')).toMatchObject({ auditCommitted: 24, auditFailed: 0 });
    expect(fs.existsSync(path.join(dataDir, 'gateway.pid'))).toBe(false);

    // The stopped gateway's DATA_DIR: one intact chain, one event per response.
    const verify = await run(['gateway/cli/audit-verify.ts'], env);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/result: INTACT/);
    const events = Number(/(\d+) event\(s\)/.exec(verify.stdout)?.[1]);
    expect(events).toBe(responses);
  });
});
