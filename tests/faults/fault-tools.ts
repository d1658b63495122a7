/**
 * Fault injection for the fault tests: a TCP proxy that can be cut and restored, a private
 * redis-server that can be killed and restarted, a switchable HTTP stand-in for a source, and a
 * log capture. Nothing here touches the machine's shared PostgreSQL or Redis.
 */
import net from 'node:net';
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger } from '../../gateway/logger.ts';
import { freePort } from '../fixtures/ports.ts';

export const REDIS_SERVER_AVAILABLE = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** True when the tests may use the real PostgreSQL server (and, for Redis tests, start their own redis-server). */
export const REAL_POSTGRES = !!process.env.TEST_DATABASE_URL;

export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TcpProxy {
  readonly port: number;
  /** Destroys every connection and stops listening: clients get resets, then refusals. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on a free local port in front of `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = async () => {
    const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  };
  return {
    port,
    cut,
    async restore() {
      if (!server.listening) await listen(port);
    },
    close: cut,
  };
}

/** `postgres://user@host:port/db` → the same URL through `port` on 127.0.0.1. */
export function throughPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** host and port of a postgres:// URL. */
export function targetOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: Number(u.port || 5432) };
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server child process of this test on its own port; never the shared one. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(String(d).startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
        stdio: 'ignore',
      });
      child = started;
      // Never outlive the test process, even if it dies before its afterAll.
      process.once('exit', () => started.kill('SIGKILL'));
      await waitFor(ping, 10_000, `redis-server on ${port}`);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    },
  };
}

export type SourceMode = 'forward' | 'error500' | 'silent';

export interface SwitchableHttpSource {
  readonly url: string;
  mode: SourceMode;
  /** Where `forward` sends requests. */
  upstream: string | undefined;
  close(): Promise<void>;
}

/** An HTTP stand-in for a source: forwards to `upstream`, answers 500, or never answers. */
export async function switchableHttpSource(upstream?: string): Promise<SwitchableHttpSource> {
  const hanging = new Set<http.ServerResponse>();
  const state: { mode: SourceMode; upstream: string | undefined } = { mode: 'forward', upstream };
  const server = http.createServer(async (req, res) => {
    if (state.mode === 'error500' || !state.upstream) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL","message":"boom"}}');
      return;
    }
    if (state.mode === 'silent') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    // The upstream's URL may carry its credential (the demo service's does): sent as Basic auth.
    const target = new URL(`${state.upstream}${req.url}`);
    const auth: Record<string, string> = target.password ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}` } : {};
    target.username = target.password = '';
    const answer = await fetch(target, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: 'application/json', ...auth },
      body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: SourceMode) {
      state.mode = mode;
      if (mode !== 'silent') for (const res of hanging) res.destroy();
    },
    get upstream() {
      return state.upstream;
    },
    set upstream(url: string | undefined) {
      state.upstream = url;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Collects pino's JSON lines. */
export function logCapture(level = 'debug') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger(level, stream),
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, any>),
    text: () => lines.join('\n'),
    messages: (pattern: RegExp) => lines.map((l) => JSON.parse(l) as Record<string, any>).filter((r) => pattern.test(String(r.msg))),
  };
}

/**
 * Settings a gateway child process must not inherit from the test runner's own environment (a
 * developer's DATABASE_URL or REDIS_URL would point the child elsewhere); tests add their own.
 */
export const CLEAN_GATEWAY_ENV: Readonly<Record<string, string>> = {
  DATABASE_URL: '',
  POPULATION_DATABASE_URL: '',
  HOUSING_DATABASE_URL: '',
  SOCIAL_SECURITY_URL: '',
  SOCIAL_SECURITY_DATABASE_URL: '',
  REDIS_URL: '',
  INSTANCE_ID: '',
  WORKERS: '',
  LOG_LEVEL: 'info',
};
