/**
 * `GET /audit/export?from=&to=&format=jsonl|csv`: streams the audit events recorded in [from, to).
 *
 * - Auditors only: 401 for a missing or bad token, 403 for any other role, 400 for bad parameters,
 *   each with the gateway's JSON error body `{errors: [{message, extensions: {code}}]}`.
 * - Every attempt, allowed or refused, is itself audited BEFORE the answer (one event). If that
 *   event cannot be stored the caller gets 503 and no data (fail closed).
 * - The body is streamed from keyset batches through `stream.pipeline`, which honours backpressure
 *   (a slow client slows the reads down instead of filling memory) and stops the reads when the
 *   client goes away. A failure after the first byte can no longer change the status: the
 *   connection is cut, so the client sees a truncated transfer, never a silently short file.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, RequestHandler, Response } from 'express';
import { hasRole, isDutyId, type Viewer } from '../../core/identity.ts';
import { GatewayError, HTTP_STATUS, isGatewayError, type ErrorCode } from '../../core/errors.ts';
import { auditEvent, type AuditDecision, type AuditSink } from '../../audit/audit-event.ts';
import type { AuditReader } from '../../audit/audit-reader.ts';
import { parseInstant } from '../../audit/audit-search.ts';
import type { ExportFormat } from '../../audit/audit-export.ts';
import type { RateLimitDecision } from '../rate-limit/rate-limiter.ts';

export interface AuditExportOptions {
  /** Turns the Authorization header into a viewer; throws GatewayError('UNAUTHENTICATED') for a bad token. */
  readonly authenticate: (authorizationHeader: string | undefined) => Promise<Viewer>;
  readonly reader: Pick<AuditReader, 'exportEvents'>;
  readonly sink: AuditSink;
  /** Sent back in `X-Audit-Instance`: the instance whose chain recorded the export. */
  readonly instanceId: string;
  /** Counts the request against the caller's user and organisation limits, as for /graphql. */
  readonly rateLimit?: (viewer: Viewer) => Promise<RateLimitDecision>;
  /** Exports this instance streams at once; one more is refused with 429. Default 2. */
  readonly maxConcurrent?: number;
}

const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

function sendError(res: Response, code: ErrorCode, message: string): void {
  res
    .status(HTTP_STATUS[code])
    .set('Cache-Control', 'no-store')
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

interface ExportRequest {
  readonly from: Date;
  readonly to: Date;
  readonly format: ExportFormat;
}

function parseRequest(req: Request): ExportRequest {
  const query = (req.query ?? {}) as Record<string, unknown>;
  const rawFrom = single(query.from);
  const rawTo = single(query.to);
  const rawFormat = query.format === undefined ? 'jsonl' : single(query.format);
  if (!rawFrom || !rawTo) throw new GatewayError('BAD_USER_INPUT', 'from and to are required (ISO 8601)');
  const from = parseInstant(rawFrom, 'from');
  const to = parseInstant(rawTo, 'to');
  if (from.getTime() >= to.getTime()) throw new GatewayError('BAD_USER_INPUT', 'from must be before to');
  if (rawFormat !== 'jsonl' && rawFormat !== 'csv') throw new GatewayError('BAD_USER_INPUT', 'format must be jsonl or csv');
  return { from, to, format: rawFormat };
}

/** The express handler for `GET /audit/export`. */
export function auditExportHandler(options: AuditExportOptions): RequestHandler {
  const maxConcurrent = options.maxConcurrent ?? 2;
  let running = 0;
  return async (req, res) => {
    const started = Date.now();
    // Server-made, like every request id of the gateway: a client's x-request-id is never trusted.
    const requestId = crypto.randomUUID();
    res.setHeader('x-request-id', requestId);
    let viewer: Viewer | undefined;

    /** Records this request; false when the store could not take it (the caller then gets 503). */
    const audit = async (decision: AuditDecision, reason: string): Promise<boolean> => {
      try {
        await options.sink.append(
          auditEvent({ requestId, started, viewer, caseRef: req.get('x-case-ref') }, { operationType: 'export', operationName: 'auditExport', decision, reason }),
        );
        return true;
      } catch {
        sendError(res, 'SERVICE_UNAVAILABLE', 'The audit trail could not record this request; nothing was exported.');
        return false;
      }
    };
    const refuse = async (code: ErrorCode, message: string): Promise<void> => {
      if (await audit(code === 'INTERNAL_SERVER_ERROR' ? 'error' : 'deny', `${code}: ${message}`)) sendError(res, code, message);
    };

    try {
      viewer = await options.authenticate(single(req.headers.authorization));
    } catch (error) {
      if (isGatewayError(error)) return refuse(error.code, error.message);
      return refuse('INTERNAL_SERVER_ERROR', 'Unexpected error.');
    }
    // A declared purpose is a duty id, here as on /graphql (never recorded or echoed otherwise).
    const purpose = single(req.headers['x-purpose'])?.trim();
    if (purpose && !isDutyId(purpose)) return refuse('BAD_USER_INPUT', 'X-Purpose must be the id of a duty.');
    if (!hasRole(viewer, 'auditor')) return refuse('FORBIDDEN', 'Only auditors may export the audit trail.');
    // The same limits as /graphql: an export is not a way around them.
    if (options.rateLimit) {
      let decision: RateLimitDecision;
      try {
        decision = await options.rateLimit(viewer);
      } catch {
        return refuse('SERVICE_UNAVAILABLE', 'The rate limiter could not answer; nothing was exported.');
      }
      if (!decision.allowed) {
        res.set('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
        return refuse('RATE_LIMITED', `Too many requests for this ${decision.scope === 'org' ? 'organisation' : 'user'}; retry later.`);
      }
    }
    if (running >= maxConcurrent) {
      res.set('Retry-After', '5');
      return refuse('RATE_LIMITED', `${maxConcurrent} exports are already running on this instance; retry later.`);
    }

    let request: ExportRequest;
    try {
      request = parseRequest(req);
    } catch (error) {
      return refuse('BAD_USER_INPUT', isGatewayError(error) ? error.message : 'Bad request.');
    }
    const { from, to, format } = request;
    running += 1;
    try {
      if (!(await audit('allow', `auditor export of [${from.toISOString()}, ${to.toISOString()}) as ${format}`))) return;

      const name = `audit-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.${format}`;
      res.status(200).set({
        'Content-Type': CONTENT_TYPES[format],
        'Content-Disposition': `attachment; filename="${name}"`,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'X-Audit-Instance': options.instanceId,
      });
      try {
        // Byte mode with a small high-water mark: at most about one batch is read ahead.
        await pipeline(Readable.from(options.reader.exportEvents(from, to, format), { objectMode: false, highWaterMark: 1 << 16 }), res);
      } catch {
        // Client gone, or the store failed mid-stream: pipeline has destroyed the response already.
        if (!res.destroyed) res.destroy();
      }
    } finally {
      running -= 1;
    }
  };
}
