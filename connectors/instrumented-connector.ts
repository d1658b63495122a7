/**
 * A decorator on the Connector port that times `find`, `lookup` and `health` (metrics).
 *
 * Built as a Proxy rather than a wrapper class so that whatever else the connector offers (its
 * `dataset`, `close`, and any optional capability a type guard looks for) stays visible exactly as
 * it is; methods run on the connector itself, so its private fields keep working.
 *
 * @example
 * const population = instrumentConnector(new PostgresConnector({ ... }), metrics.sourceCall);
 */
import type { Connector } from './connector.ts';
import { isConnectorError } from './connector-error.ts';

export type SourceCallObserver = (source: string, method: 'find' | 'lookup' | 'health', outcome: string, seconds: number) => void;

const TIMED = new Set<PropertyKey>(['find', 'lookup', 'health']);

export function instrumentConnector<C extends Connector>(connector: C, observe: SourceCallObserver): C {
  const source = connector.dataset.name;
  // Wrappers are made once per method (and again if the method is replaced on the connector).
  const bound = new Map<PropertyKey, { readonly of: unknown; readonly fn: unknown }>();
  const timed = (method: 'find' | 'lookup' | 'health', fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      const started = performance.now();
      try {
        const result = await fn.apply(connector, args);
        observe(source, method, 'ok', (performance.now() - started) / 1000);
        return result;
      } catch (error) {
        // The connector error kinds are a closed set: a bounded label.
        observe(source, method, isConnectorError(error) ? error.kind : 'error', (performance.now() - started) / 1000);
        throw error;
      }
    };
  return new Proxy(connector, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const cached = bound.get(property);
      if (cached?.of === value) return cached.fn;
      const fn = TIMED.has(property)
        ? timed(property as 'find' | 'lookup' | 'health', value as (...args: unknown[]) => Promise<unknown>)
        : (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, { of: value, fn });
      return fn;
    },
  });
}
