/**
 * useDeadline: execution gets an AbortSignal and a deadline; past it the answer is
 * SERVICE_UNAVAILABLE (limit `time`) and no further resolver starts. Source calls in flight end at
 * their own limits (PostgreSQL `statement_timeout`, the HTTP connector's timeout), both wired to
 * the same setting. The signal is also aborted when the client goes away.
 */
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { GatewayError } from '../../core/errors.ts';

export interface DeadlineOptions {
  /** Longest an operation may run, ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** Counts operations cut off (`time`). */
  readonly onLimited?: (kind: string) => void;
}

export function useDeadline(options: DeadlineOptions = {}): Plugin {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(((execArgs: ExecutionArgs & { signal?: AbortSignal }) => {
        // One signal for execution: aborted by the deadline below or when the client goes away.
        // (Forwarded by a listener rather than AbortSignal.any, which costs far more per request.)
        const controller = new AbortController();
        const outer = execArgs.signal ?? (execArgs.contextValue as { request?: Request } | undefined)?.request?.signal;
        const forward = () => controller.abort(outer?.reason);
        if (outer?.aborted) forward();
        else outer?.addEventListener('abort', forward, { once: true });
        // One promise settles the answer: the execution's, or the deadline's, whichever comes first.
        return new Promise<ExecutionResult>((resolve, reject) => {
          const timer = setTimeout(() => {
            const error = new GatewayError('SERVICE_UNAVAILABLE', `the operation did not finish within the time limit of ${timeoutMs} ms; no data was returned`, {
              details: { limit: 'time', max: timeoutMs },
            });
            controller.abort(error);
            options.onLimited?.('time');
            outer?.removeEventListener('abort', forward);
            resolve({ errors: [error] });
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            outer?.removeEventListener('abort', forward);
          };
          let run: unknown;
          try {
            run = executeFn({ ...execArgs, signal: controller.signal } as ExecutionArgs);
          } catch (error) {
            done();
            reject(error);
            return;
          }
          Promise.resolve(run).then(
            (result) => {
              done();
              resolve(result as ExecutionResult);
            },
            (error: unknown) => {
              done();
              reject(error);
            },
          );
        });
      }) as never);
    },
  };
}
