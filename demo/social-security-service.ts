/**
 * The social-security bureau's data service: a small JSON-over-HTTP front of its accounts table,
 * speaking the protocol in `http-protocol.ts`. The gateway reaches it through {@link HttpConnector}
 * when `SOCIAL_SECURITY_URL` is set.
 *
 * Every request is validated against the `social_security` dataset definition before a query is
 * built (unknown fields → 400); reads go through a {@link PostgresConnector}, which applies the row
 * conditions in SQL with bound parameters. Errors never carry SQL, stack traces or connection detail.
 *
 * Every request must carry the service's credential (see `http-protocol.ts`); without it the answer
 * is 401 and nothing is read, so another process on the machine cannot read the city's accounts
 * past the gateway's scoping and audit. Embedded in the gateway, a random credential is created at
 * each start and handed to the connector in the URL it is given ({@link SocialSecurityService.url}).
 *
 * Run directly (`npm run source:social-security`): requires `SOCIAL_SECURITY_SECRET` (at least 32
 * characters; the gateway then uses `SOCIAL_SECURITY_URL=http://gateway:<secret>@host:port`); uses
 * `SOCIAL_SECURITY_DATABASE_URL` (PostgreSQL), or else an embedded PGlite in
 * `${DATA_DIR:-./.data}/social-security-source`; listens on `SOCIAL_SECURITY_PORT` (default 4100)
 * and `HOST` (default 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import { isConnectorError } from '../connectors/connector-error.ts';
import { SOCIAL_SECURITY } from '../core/datasets.ts';
import { SOCIAL_SECURITY_TABLE } from './source-schema.ts';
import { PostgresConnector } from '../connectors/postgres/postgres-connector.ts';
import {
  carriesCredential,
  MAX_BODY_BYTES,
  MIN_CREDENTIAL_LENGTH,
  PROTOCOL_PATHS,
  ProtocolError,
  parseFindBody,
  parseLookupBody,
  withCredential,
} from '../connectors/http/http-protocol.ts';
import type { ErrorResult, FindResult, LookupResult, ProtocolErrorCode } from '../connectors/http/http-protocol.ts';

export interface SocialSecurityServiceOptions {
  db: Kysely<any>;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * What every request must carry (at least {@link MIN_CREDENTIAL_LENGTH} characters). Default: a
   * random one created now, known only to this process and the connector it hands {@link SocialSecurityService.url} to.
   */
  credential?: string;
  /** Where unexpected failures are reported (server side only). Default: one line on stderr. */
  onError?: (error: unknown) => void;
}

export interface SocialSecurityService {
  /**
   * The base URL to configure a connector with: the credential as userinfo, e.g.
   * `http://gateway:<credential>@127.0.0.1:4100`. A secret: never print or log it.
   */
  url: string;
  /** The base URL without the credential, e.g. `http://127.0.0.1:4100` (safe to print). */
  origin: string;
  close(): Promise<void>;
}

/** An error answer: status, code and a message that is safe to send. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function startSocialSecurityService(options: SocialSecurityServiceOptions): Promise<SocialSecurityService> {
  const credential = options.credential ?? randomBytes(32).toString('base64url');
  if (credential.length < MIN_CREDENTIAL_LENGTH) {
    throw new RangeError(`the social-security service's credential must have at least ${MIN_CREDENTIAL_LENGTH} characters`);
  }
  const connector = new PostgresConnector({ dataset: SOCIAL_SECURITY, db: options.db, table: SOCIAL_SECURITY_TABLE });
  const onError =
    options.onError ??
    ((error: unknown) => {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      process.stderr.write(`social-security service: request failed: ${detail}\n`);
    });

  async function route(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    // Before anything else, health included: an unauthenticated caller learns nothing.
    if (!carriesCredential(req.headers.authorization, credential)) throw new HttpFailure(401, 'UNAUTHORIZED', 'credential required');
    const path = new URL(req.url ?? '/', 'http://service').pathname;
    if (path === PROTOCOL_PATHS.health) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpFailure(405, 'METHOD_NOT_ALLOWED', 'use GET');
      await connector.health();
      return { status: 200, body: { status: 'ok' } };
    }
    if (path === PROTOCOL_PATHS.lookup) {
      if (req.method !== 'POST') throw new HttpFailure(405, 'METHOD_NOT_ALLOWED', 'use POST');
      const body = parseLookupBody(SOCIAL_SECURITY, await readJson(req));
      const rows = await connector.lookup({
        scope: { streets: 'all', conditions: body.conditions },
        by: body.by,
        keys: body.keys,
        fields: body.fields,
      });
      return { status: 200, body: { rows } satisfies LookupResult };
    }
    if (path === PROTOCOL_PATHS.find) {
      if (req.method !== 'POST') throw new HttpFailure(405, 'METHOD_NOT_ALLOWED', 'use POST');
      const body = parseFindBody(SOCIAL_SECURITY, await readJson(req));
      const page = await connector.find({
        scope: { streets: 'all', conditions: body.conditions },
        fields: body.fields,
        where: body.where,
        orderBy: body.orderBy,
        first: body.first,
        after: body.after ?? null,
        withTotalCount: body.withTotalCount ?? false,
      });
      const result: FindResult = {
        rows: [...page.rows],
        cursors: [...page.cursors],
        hasNextPage: page.hasNextPage,
        ...(page.totalCount !== undefined ? { totalCount: page.totalCount } : {}),
      };
      return { status: 200, body: result };
    }
    throw new HttpFailure(404, 'NOT_FOUND', 'no such endpoint');
  }

  function toFailure(error: unknown): HttpFailure {
    if (error instanceof HttpFailure) return error;
    if (error instanceof ProtocolError) return new HttpFailure(400, 'BAD_REQUEST', error.message);
    if (isConnectorError(error)) {
      if (error.kind === 'bad-cursor') return new HttpFailure(400, 'BAD_CURSOR', 'invalid cursor for this query');
      onError(error);
      return new HttpFailure(503, 'UNAVAILABLE', 'the social-security database is unavailable');
    }
    onError(error);
    return new HttpFailure(500, 'INTERNAL', 'internal error');
  }

  const server = createServer((req, res) => {
    route(req).then(
      ({ status, body }) => send(res, status, body),
      (error: unknown) => {
        const failure = toFailure(error);
        send(
          res,
          failure.status,
          { error: { code: failure.code, message: failure.message } } satisfies ErrorResult,
          failure.status === 413 || failure.status === 401,
          failure.status === 401 ? { 'www-authenticate': 'Basic realm="social-security", charset="UTF-8"' } : {},
        );
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: in a cluster worker (WORKERS=N) a non-exclusive listen is shared through the
    // primary, and two port-0 listens on one host get the same port: the gateway's own.
    server.listen({ port: options.port ?? 0, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: withCredential(origin, credential),
    origin,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        // Requests in flight get a moment to finish; then every socket goes.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}

/** Reads a JSON body of at most {@link MAX_BODY_BYTES}; malformed or oversized bodies become 4xx. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new HttpFailure(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    throw new HttpFailure(413, 'PAYLOAD_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, 'PAYLOAD_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpFailure(400, 'BAD_REQUEST', 'empty body: send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpFailure(400, 'BAD_REQUEST', 'body is not valid JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown, closeConnection = false, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...(closeConnection ? { connection: 'close' } : {}),
    ...extraHeaders,
  });
  res.end(payload);
}

// ---------------------------------------------------------------------------------------------
// Standalone entry point
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // Checked before any database is opened: this service never runs open.
  const credential = process.env.SOCIAL_SECURITY_SECRET ?? '';
  if (credential.length < MIN_CREDENTIAL_LENGTH) {
    throw new Error(
      `set SOCIAL_SECURITY_SECRET to a secret of at least ${MIN_CREDENTIAL_LENGTH} characters (e.g. \`openssl rand -base64 32\`); ` +
        'the gateway then reaches this service with SOCIAL_SECURITY_URL=http://gateway:<secret>@<host>:<port>',
    );
  }
  const { Kysely: KyselyClass, PostgresDialect } = await import('kysely');
  const { createSocialSecuritySchema } = await import('./source-schema.ts');
  const databaseUrl = process.env.SOCIAL_SECURITY_DATABASE_URL;
  let db: Kysely<any>;
  if (databaseUrl) {
    const { default: pg } = await import('pg');
    db = new KyselyClass<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 10 }) }) });
  } else {
    const { mkdir } = await import('node:fs/promises');
    const { join, resolve } = await import('node:path');
    const { PGlite } = await import('@electric-sql/pglite');
    const { KyselyPGlite } = await import('kysely-pglite');
    const dir = resolve(join(process.env.DATA_DIR || './.data', 'social-security-source'));
    await mkdir(dir, { recursive: true });
    const pglite = new PGlite(dir);
    db = new KyselyClass<any>({ dialect: new KyselyPGlite(pglite).dialect });
    process.stdout.write(`social-security service: embedded database in ${dir}\n`);
  }
  const rawPort = process.env.SOCIAL_SECURITY_PORT ?? '4100';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SOCIAL_SECURITY_PORT must be a port number, got ${JSON.stringify(rawPort)}`);
  await createSocialSecuritySchema(db);
  const service = await startSocialSecurityService({ db, port, host: process.env.HOST || '127.0.0.1', credential });
  process.stdout.write(`social-security service listening on ${service.origin} (requests must carry SOCIAL_SECURITY_SECRET)\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`social-security service: ${signal}, closing\n`);
    try {
      await service.close();
      await db.destroy(); // closes the pool, or the embedded PGlite
      process.exit(0);
    } catch (error) {
      process.stderr.write(`social-security service: error while closing: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`social-security service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
