/**
 * `WORKERS=N`: N gateway processes on one machine (node:cluster), sharing the listening port,
 * PostgreSQL and Redis.
 *
 * - The primary only supervises: it forks the workers, each with its own audit chain
 *   (`INSTANCE_ID=${instanceId}-w${n}`), the first one alone (it migrates the store and loads the
 *   policy files, which must not run twice at once), the others once it listens. It prints the URL
 *   once all of them listen, forwards SIGTERM
 *   and SIGINT to them and exits 0 when every worker exited 0 (1 otherwise). A worker that dies
 *   after it was serving is started again with the same instance id (it takes its chain over); one
 *   that dies before it ever listened stops the whole cluster (a configuration or start-up
 *   problem would only crash-loop).
 * - `/metrics` on any worker answers for the whole cluster: the worker asks the primary, which
 *   gathers every worker's registry (prom-client's AggregatorRegistry) and sums them.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { GatewayMetrics } from './metrics.ts';

/** Set in every worker's environment: its number, 1..N. */
export const WORKER_ENV = 'LIANQIAO_WORKER';
const METRICS_REQUEST = 'lianqiao:metrics-request';
const METRICS_RESPONSE = 'lianqiao:metrics-response';
/** Grace period of the whole cluster after SIGTERM before workers are killed. */
const STOP_TIMEOUT_MS = 30_000;

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}
interface MetricsResponse {
  readonly type: typeof METRICS_RESPONSE;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** True in a process forked by {@link runPrimary}. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker && !!process.env[WORKER_ENV];
}

/** Runs the cluster primary; resolves never (the process exits when the workers are done). */
export function runPrimary(config: Config, logger: Logger, print: (line: string) => void): void {
  const aggregator = new AggregatorRegistry();
  const numbers = new Map<Worker, number>();
  const listening = new Set<number>();
  const everListened = new Set<number>();
  const exitCodes = new Map<number, number>();
  let stopping = false;
  let announced = false;
  let othersForked = false;

  const fork = (n: number) => {
    const worker = cluster.fork({ INSTANCE_ID: `${config.instanceId}-w${n}`, [WORKER_ENV]: String(n) });
    numbers.set(worker, n);
  };

  const stop = (signal: string, code?: number) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping ${numbers.size} worker(s)`);
    for (const worker of numbers.keys()) worker.process.kill('SIGTERM');
    if (code !== undefined) for (let n = 1; n <= config.workers; n++) if (!exitCodes.has(n)) exitCodes.set(n, code);
    const force = setTimeout(() => {
      logger.error(`workers did not stop within ${STOP_TIMEOUT_MS} ms; killing them`);
      for (const worker of numbers.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    if (numbers.size === 0) finish();
  };

  const finish = () => {
    const failed = [...exitCodes.values()].some((c) => c !== 0);
    process.exit(failed ? 1 : 0);
  };

  cluster.on('listening', (worker, address) => {
    const n = numbers.get(worker);
    if (n === undefined) return;
    listening.add(n);
    everListened.add(n);
    if (!othersForked && !stopping) {
      othersForked = true;
      for (let other = 2; other <= config.workers; other++) fork(other);
    }
    if (!announced && listening.size === config.workers) {
      announced = true;
      const host = address.address ?? config.host;
      print(`Lianqiao gateway listening on http://${host}:${address.port}/graphql (${config.workers} workers)\n`);
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const n = numbers.get(worker);
    numbers.delete(worker);
    if (n === undefined) return;
    listening.delete(n);
    const exitCode = code ?? (signal ? 1 : 0);
    if (stopping) {
      exitCodes.set(n, Math.max(exitCodes.get(n) ?? 0, exitCode));
      if (numbers.size === 0) finish();
      return;
    }
    if (!everListened.has(n)) {
      logger.error({ worker: n, code, signal }, 'a worker failed to start; stopping the cluster');
      stop('start-up failure', 1);
      return;
    }
    logger.error({ worker: n, code, signal }, 'a worker died; starting it again');
    setTimeout(() => {
      if (!stopping) fork(n);
    }, 1000).unref();
  });

  cluster.on('message', (worker, message: MetricsRequest) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text } satisfies MetricsResponse),
      (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message } satisfies MetricsResponse),
    );
  });

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  fork(1);
}

/**
 * In a worker: answer the primary's metric requests with this runtime's registry, and serve the
 * cluster-wide aggregate at /metrics.
 */
export function useClusterMetrics(metrics: GatewayMetrics): void {
  new AggregatorRegistry(); // installs the worker side of prom-client's protocol
  AggregatorRegistry.setRegistries([metrics.registry]);
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: MetricsResponse) => {
    if (message?.type !== METRICS_RESPONSE) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.text ?? '');
  });
  metrics.setRenderer(
    () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the cluster primary did not answer the metrics request'));
        }, 5000);
        pending.set(id, {
          resolve: (text) => (clearTimeout(timer), resolve(text)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
      }),
  );
}
