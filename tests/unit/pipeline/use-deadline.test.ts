/** useDeadline on its own: past the time limit the answer is SERVICE_UNAVAILABLE and the signal aborts. */
import { describe, expect, it } from 'vitest';
import { useDeadline } from '../../../gateway/pipeline/use-deadline.ts';
import { oneFieldYoga, post } from './one-field-yoga.ts';

describe('useDeadline', () => {
  it('answers a fast operation, cuts off a slow one and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const limited: string[] = [];
    let slow = false;
    const yoga = oneFieldYoga([useDeadline({ timeoutMs: 100, onLimited: (k) => limited.push(k) })], (context) => {
      signal = context.request.signal;
      return slow ? new Promise(() => {}) : 'world';
    });
    expect((await post(yoga, { query: '{ hello }' })).body).toEqual({ data: { hello: 'world' } });
    slow = true;
    const answer = await post(yoga, { query: '{ hello }' });
    expect(answer.status).toBe(503);
    expect(answer.body.errors[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', limit: 'time', max: 100 });
    expect(limited).toEqual(['time']);
    expect(signal).toBeDefined();
  });
});
