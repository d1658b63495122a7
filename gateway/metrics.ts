/**
 * The gateway's Prometheus metrics (prom-client), served at `/metrics`.
 *
 * One {@link GatewayMetrics} per runtime, each with its own Registry, so that several gateways in
 * one process (tests) never share or collide. Only aggregate numbers are exposed: counts and
 * durations labelled by decision, error code, operation name, source and limit kind; never an id,
 * a user, an organisation or a purpose. That is why the endpoint needs no token (see README).
 *
 * The hot path only increments prom-client counters and observes histograms with a few labels;
 * everything derived from other components (the audit writer's queue, the store) is read when
 * Prometheus scrapes.
 *
 * Label cardinality is bounded: operation names are client-chosen, so only the first
 * `maxOperationNames` distinct names get their own series, later ones are counted as `other`;
 * limit kinds likewise (first 20); error codes are the closed error model's.
 *
 * @example
 * const metrics = new GatewayMetrics();
 * metrics.operation('Elderly', 'allow', 'OK', 0.012);
 * metrics.limitHit('user'); // from the rate limiter's onLimited callback
 * const text = await metrics.render();
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditLogStats } from '../audit/audit-writer-options.ts';

export type OperationDecision = 'allow' | 'deny' | 'error';
export type SourceMethod = 'find' | 'lookup' | 'health';

export interface GatewayMetricsOptions {
  /** Distinct operation names kept as label values; later names count as `other`. Default 100. */
  readonly maxOperationNames?: number;
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
}

/** Label of operations without a name. */
export const ANONYMOUS_OPERATION = 'anonymous';
/** Label of operation names beyond the cap, and of limit kinds beyond theirs. */
export const OTHER = 'other';
const MAX_LIMIT_KINDS = 20;
const MAX_NAME_LENGTH = 64;

/** Where this runtime's `/metrics` text comes from (replaced in cluster workers by the primary's aggregate). */
export type MetricsRenderer = () => Promise<string>;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #operations: Counter<'decision' | 'code'>;
  readonly #operationSeconds: Histogram<'operation'>;
  readonly #sourceSeconds: Histogram<'source' | 'method' | 'outcome'>;
  readonly #policyReloads: Counter<'outcome'>;
  readonly #policyReloadSeconds: Histogram;
  readonly #policyVersion: Gauge;
  readonly #policyUp: Gauge;
  readonly #limitHits: Counter<'kind'>;
  readonly #dependencyUp: Gauge<'dependency'>;
  readonly #names = new Map<string, string>();
  readonly #kinds = new Map<string, string>();
  readonly #maxNames: number;
  #audit: (() => AuditLogStats) | undefined;
  #renderer: MetricsRenderer;

  constructor(options: GatewayMetricsOptions = {}) {
    this.#maxNames = options.maxOperationNames ?? 100;
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.#operations = new Counter({
      name: 'lianqiao_operations_total',
      help: 'GraphQL operations answered, by audit decision (allow, deny, error) and code (OK or the error code).',
      labelNames: ['decision', 'code'],
      registers,
    });
    this.#operationSeconds = new Histogram({
      name: 'lianqiao_operation_duration_seconds',
      help: `Time from request arrival to answer (audit commit included), per operation name (first ${this.#maxNames} names; then "${OTHER}").`,
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#sourceSeconds = new Histogram({
      name: 'lianqiao_source_request_duration_seconds',
      help: 'Duration of connector calls per source and method; outcome is ok or the connector error kind.',
      labelNames: ['source', 'method', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#policyReloads = new Counter({
      name: 'lianqiao_policy_reloads_total',
      help: 'Policy reloads from the store, by outcome (ok, error).',
      labelNames: ['outcome'],
      registers,
    });
    this.#policyReloadSeconds = new Histogram({
      name: 'lianqiao_policy_reload_duration_seconds',
      help: 'Duration of successful policy reloads.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#policyVersion = new Gauge({
      name: 'lianqiao_policy_version',
      help: 'Policy version this instance decides with.',
      aggregator: 'min',
      registers,
    });
    this.#policyUp = new Gauge({
      name: 'lianqiao_policy_up',
      help: '1 while the policies are loaded and current; 0 while a reload fails (shared-data reads are refused).',
      aggregator: 'min',
      registers,
    });
    this.#limitHits = new Counter({
      name: 'lianqiao_rate_limit_hits_total',
      help: `Requests refused by a limit, by kind (first ${MAX_LIMIT_KINDS} kinds; then "${OTHER}").`,
      labelNames: ['kind'],
      registers,
    });
    this.#dependencyUp = new Gauge({
      name: 'lianqiao_dependency_up',
      help: '1 when the dependency answered its last check (store and sources: at each /readyz; redis: on connection changes).',
      labelNames: ['dependency'],
      aggregator: 'min',
      registers,
    });

    const audit = () => this.#audit?.();
    new Gauge({
      name: 'lianqiao_audit_queue_depth',
      help: 'Audit events waiting for the next batch.',
      registers,
      collect() {
        this.set(audit()?.queueDepth ?? 0);
      },
    });
    new Gauge({
      name: 'lianqiao_audit_in_flight_events',
      help: 'Audit events in batches being committed.',
      registers,
      collect() {
        this.set(audit()?.inFlight ?? 0);
      },
    });
    new Gauge({
      name: 'lianqiao_audit_last_commit_seconds',
      help: 'Duration of the last successful audit batch commit.',
      aggregator: 'max',
      registers,
      collect() {
        this.set((audit()?.lastCommitMs ?? 0) / 1000);
      },
    });
    const total = (name: string, help: string, read: (s: AuditLogStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          // The audit writer keeps the running total; mirror it at scrape time.
          this.reset();
          this.inc(read(audit() ?? ({} as AuditLogStats)) || 0);
        },
      });
    total('lianqiao_audit_events_committed_total', 'Audit events durably stored.', (s) => s.committed);
    total('lianqiao_audit_events_failed_total', 'Audit events that could not be stored (their operations got SERVICE_UNAVAILABLE).', (s) => s.failed);
    total('lianqiao_audit_batches_total', 'Audit insert statements committed.', (s) => s.batches);

    this.#renderer = () => this.registry.metrics();
  }

  /** One answered operation. `code` is `OK` or the error code of the first error. */
  operation(name: string | null | undefined, decision: OperationDecision, code: string, seconds: number): void {
    this.#operations.inc({ decision, code });
    this.#operationSeconds.observe({ operation: this.#operationLabel(name) }, seconds);
  }

  /** One connector call (see `connectors/instrumented-connector.ts`). */
  readonly sourceCall = (source: string, method: SourceMethod, outcome: string, seconds: number): void => {
    this.#sourceSeconds.observe({ source, method, outcome }, seconds);
  };

  /** A successful policy reload (the authorizer's `onReload`). */
  policyReloaded(version: number, ms: number): void {
    this.#policyReloads.inc({ outcome: 'ok' });
    this.#policyReloadSeconds.observe(ms / 1000);
    this.#policyVersion.set(version);
    this.#policyUp.set(1);
  }

  /** A failed policy reload (the authorizer's `onError`): it now refuses to decide. */
  policyReloadFailed(): void {
    this.#policyReloads.inc({ outcome: 'error' });
    this.#policyUp.set(0);
  }

  /**
   * A request refused by a limit (rate limit, quota, ...). Safe to pass around detached:
   * `useRateLimit({ onLimited: (kind) => runtime.metrics.limitHit(kind) })` or `onLimited: runtime.metrics.limitHit`.
   */
  readonly limitHit = (kind: string): void => {
    let label = this.#kinds.get(kind);
    if (label === undefined) {
      label = this.#kinds.size < MAX_LIMIT_KINDS ? kind.slice(0, MAX_NAME_LENGTH) : OTHER;
      if (label !== OTHER) this.#kinds.set(kind, label);
    }
    this.#limitHits.inc({ kind: label });
  };

  /** Up/down of a dependency: `store`, a source name, or `redis`. */
  dependency(name: string, up: boolean): void {
    this.#dependencyUp.set({ dependency: name }, up ? 1 : 0);
  }

  /** Reads the audit writer's statistics at every scrape. */
  trackAudit(stats: () => AuditLogStats): void {
    this.#audit = stats;
  }

  /** The text `/metrics` serves (Prometheus exposition format). */
  render(): Promise<string> {
    return this.#renderer();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Serve another text at `/metrics`, e.g. the cluster primary's aggregate of all workers. */
  setRenderer(renderer: MetricsRenderer): void {
    this.#renderer = renderer;
  }

  #operationLabel(name: string | null | undefined): string {
    if (!name) return ANONYMOUS_OPERATION;
    const known = this.#names.get(name);
    if (known !== undefined) return known;
    if (this.#names.size >= this.#maxNames) return OTHER;
    const label = name.slice(0, MAX_NAME_LENGTH);
    this.#names.set(name, label);
    return label;
  }
}
