/** useBodyLimit on its own: 413 before parsing, declared or streamed, audited. */
import { describe, expect, it } from 'vitest';
import { useBodyLimit } from '../../../gateway/pipeline/use-body-limit.ts';
import { memorySink, oneFieldYoga, post } from './one-field-yoga.ts';

describe('useBodyLimit', () => {
  const setup = () => {
    const sink = memorySink();
    const limited: string[] = [];
    const yoga = oneFieldYoga([useBodyLimit({ maxBytes: 1024, audit: sink, onLimited: (k) => limited.push(k) })]);
    return { sink, yoga, limited };
  };
  const padded = (bytes: number) => JSON.stringify({ query: `{ hello }${' '.repeat(bytes)}` });

  it('reads a body under the limit', async () => {
    const { yoga } = setup();
    expect((await post(yoga, padded(900))).body).toEqual({ data: { hello: 'world' } });
  });

  it('refuses a declared Content-Length over the limit with 413, audited', async () => {
    const { yoga, sink, limited } = setup();
    const body = padded(5000);
    const answer = await post(yoga, body, { 'content-length': String(Buffer.byteLength(body)) });
    expect(answer.status).toBe(413);
    expect(answer.body.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'bodySize', max: 1024 });
    expect(limited).toEqual(['body_size']);
    expect(sink.events.map((e) => e.decision)).toEqual(['deny']);
  });

  it('refuses a streamed body once it passes the limit', async () => {
    const { yoga, sink } = setup();
    const chunk = new TextEncoder().encode(padded(5000));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const answer = await post(yoga, undefined, {}, { body: stream, duplex: 'half' } as RequestInit);
    expect(answer.status).toBe(413);
    expect(sink.events).toHaveLength(1);
  });

  it('answers 503 when the refusal cannot be recorded', async () => {
    const { yoga, sink } = setup();
    sink.failing = true;
    const body = padded(5000);
    expect((await post(yoga, body, { 'content-length': String(Buffer.byteLength(body)) })).status).toBe(503);
  });
});
