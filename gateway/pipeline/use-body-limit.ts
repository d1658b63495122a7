/**
 * useBodyLimit: a request body larger than `maxBytes` gets 413 QUERY_TOO_COMPLEX (limit
 * `bodySize`) before it is parsed; the refusal is audited.
 *
 * A declared Content-Length says it at once (Node's HTTP parser holds the body to it). A body
 * without one (chunked, or an in-process Request) is read up to the limit and no further; yoga's
 * request parser then parses a copy holding those bytes.
 */
import type { Plugin } from 'graphql-yoga';
import type { AuditSink } from '../../audit/audit-event.ts';
import { GatewayError } from '../../core/errors.ts';
import { auditRefusal, auditUnavailable } from './refusal.ts';

export interface BodyLimitOptions {
  /** Largest request body, bytes. */
  readonly maxBytes: number;
  readonly audit: AuditSink;
  /** Counts refusals (`body_size`). */
  readonly onLimited?: (kind: string) => void;
}

/** The body's bytes, or undefined as soon as it grows past `maxBytes`. */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export function useBodyLimit(options: BodyLimitOptions): Plugin {
  /** The audited refusal (413), or SERVICE_UNAVAILABLE when its event could not be stored. */
  const refusal = async (request: Request): Promise<GatewayError> => {
    options.onLimited?.('body_size');
    const error = new GatewayError('QUERY_TOO_COMPLEX', `request body exceeds the limit of ${options.maxBytes} bytes`, {
      details: { limit: 'bodySize', max: options.maxBytes },
      http: { status: 413 },
    });
    return (await auditRefusal(options.audit, request, error)) ? error : auditUnavailable();
  };

  return {
    // Synchronous for a declared length within the limit (nearly every request): nothing to await.
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser || !request.body || request.method === 'GET' || request.method === 'HEAD') return;
      const declared = request.headers.get('content-length');
      if (declared !== null && /^\d+$/.test(declared.trim())) {
        if (Number(declared) <= options.maxBytes) return;
        return refusal(request).then((error) => {
          throw error;
        });
      }
      // No declared length: read at most the limit. The parser gets a copy holding those bytes; the
      // request itself stays the one every plugin knows (they key their state by it).
      setRequestParser(async (original) => {
        const bytes = await readAtMost(original.body!, options.maxBytes);
        if (!bytes) throw await refusal(request);
        return requestParser(new Request(original.url, { method: original.method, headers: original.headers, body: bytes, signal: original.signal }));
      });
    },
  };
}
