/**
 * The HTTP scenarios S1–S5 and the load runner: autocannon as a library in the bench process (a
 * separate process from the gateway), a warm-up that is thrown away, then the measured run. Every
 * response's latency is kept (autocannon reports no p95) and every body is checked, so a 200 that
 * carries a GraphQL error counts as an error, not as throughput.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { signToken } from '../gateway/auth/token-signer.ts';
import type { Role } from '../core/identity.ts';
import { cpuBetween, cpuSnapshot, type GatewayProcess } from './gateway-process.ts';

export const CLERK_STREET = '310101002';
export const CLERK_ORG = `street:${CLERK_STREET}`;

export const S1_QUERY = '{ people(first: 20) { edges { node { name idNumber birthDate residenceAddress hukouAddress } } } }';

/**
 * S1 in the request shape of the reference servers (`../shared/peers`): 20 persons of one street,
 * the same 5 fields they return (idNumber name gender birthDate streetCode), under a duty whose
 * grant reads all five in full with no row condition, so nothing is masked and only the street
 * scopes the rows, as with PostGraphile + RLS. S1 itself adds a row condition (aged 65+) and a
 * masked field.
 */
export const S1P_QUERY = '{ people(first: 20) { edges { node { idNumber name gender birthDate streetCode } } } }';

const S2_QUERY = `query PersonFile($id: ID!) {
  person(idNumber: $id) {
    idNumber name gender age residenceAddress
    household { id address tenure buildingArea ownerName }
    socialSecurity { idNumber monthlyPension employer minimumLivingAssistance }
  }
}`;

const S3_QUERY = `query HouseResidents($id: ID!) {
  house(id: $id) { id address tenure ownerName residents { name idNumber phone } }
}`;

const S4_QUERY = '{ people(first: 20) { edges { node { name phone } } } }';

const S5_QUERY = `{
  auditEvents(first: 50) {
    edges { cursor node { chainId seq time actor { sub org roles } purpose operationName fields decision reason rows subjectCount } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export type ScenarioId = 'S1' | 'S1P' | 'S2' | 'S3' | 'S4' | 'S5';

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** Request bodies, rotated across requests. */
  readonly bodies: readonly string[];
  /** Bearer tokens, rotated across requests (one per simulated user). */
  readonly tokens: readonly string[];
  readonly purpose?: string;
  /** Whether one answer is what the scenario expects (checked on every response). */
  readonly expect: (status: number, body: any) => boolean;
  /** The expectation in words, for the report. */
  readonly expectation: string;
}

export interface ScenarioInputs {
  readonly secret: string;
  readonly personIds: readonly string[];
  readonly houseIds: readonly string[];
  /** Simulated users per scenario (distinct `sub`s of the same street / office). */
  readonly users?: number;
}

async function tokens(secret: string, users: number, org: string, roles: Role[], prefix: string): Promise<string[]> {
  return Promise.all(Array.from({ length: users }, (_, i) => signToken(secret, { sub: `${prefix}-${i + 1}`, org, roles }, '2h')));
}

const isMasked = (value: unknown) => typeof value === 'string' && value.includes('*');

/** The five scenarios of the issue, with their expected answers. */
export async function buildScenarios(inputs: ScenarioInputs): Promise<Record<ScenarioId, Scenario>> {
  const users = inputs.users ?? 32;
  const clerks = await tokens(inputs.secret, users, CLERK_ORG, ['street_staff'], 'bench-clerk');
  const auditors = await tokens(inputs.secret, users, 'office:security', ['auditor'], 'bench-auditor');
  const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify(variables ? { query, variables } : { query });
  if (inputs.personIds.length === 0 || inputs.houseIds.length === 0) throw new Error('no in-scope persons or houses found for S2/S3');
  return {
    S1: {
      id: 'S1',
      title: 'street clerk lists 20 people (row condition, masked field)',
      bodies: [body(S1_QUERY)],
      tokens: clerks,
      purpose: 'elderly-allowance',
      expectation: '20 persons aged 65+, hukouAddress masked',
      expect: (status, b) => {
        const edges = b?.data?.people?.edges;
        return status === 200 && !b.errors && Array.isArray(edges) && edges.length === 20 && isMasked(edges[0].node.hukouAddress);
      },
    },
    S1P: {
      id: 'S1P',
      title: "S1 in the peers' shape: 20 persons of one street, their 5 fields (no row condition, nothing masked)",
      bodies: [body(S1P_QUERY)],
      tokens: clerks,
      purpose: 'minimum-living-assistance',
      expectation: '20 persons of street 310101002, the 5 fields, none masked',
      expect: (status, b) => {
        const edges = b?.data?.people?.edges;
        return (
          status === 200 &&
          !b.errors &&
          Array.isArray(edges) &&
          edges.length === 20 &&
          edges.every((e: any) => e.node.streetCode === CLERK_STREET && !isMasked(e.node.idNumber) && typeof e.node.gender === 'string')
        );
      },
    },
    S2: {
      id: 'S2',
      title: 'person by idNumber + household + social-security account (3 sources)',
      bodies: inputs.personIds.map((id) => body(S2_QUERY, { id })),
      tokens: clerks,
      purpose: 'minimum-living-assistance',
      expectation: 'person, household and account all present',
      expect: (status, b) => {
        const p = b?.data?.person;
        return status === 200 && !b.errors && !!p && !!p.household && !!p.socialSecurity;
      },
    },
    S3: {
      id: 'S3',
      title: 'house with its residents (rental-registration)',
      bodies: inputs.houseIds.map((id) => body(S3_QUERY, { id })),
      tokens: clerks,
      purpose: 'rental-registration',
      expectation: 'house present with >= 1 resident, resident idNumber masked',
      expect: (status, b) => {
        const h = b?.data?.house;
        return status === 200 && !b.errors && !!h && Array.isArray(h.residents) && h.residents.length > 0 && isMasked(h.residents[0].idNumber);
      },
    },
    S4: {
      id: 'S4',
      title: 'forbidden operation (phone under elderly-allowance)',
      bodies: [body(S4_QUERY)],
      tokens: clerks,
      purpose: 'elderly-allowance',
      expectation: 'FORBIDDEN naming population.phone, no data',
      expect: (_status, b) =>
        !b?.data?.people &&
        Array.isArray(b?.errors) &&
        b.errors[0]?.extensions?.code === 'FORBIDDEN' &&
        JSON.stringify(b.errors[0]).includes('population.phone'),
    },
    S5: {
      id: 'S5',
      title: "auditor's auditEvents(first: 50) over >= 1M events",
      bodies: [body(S5_QUERY)],
      tokens: auditors,
      expectation: '50 events and a next page',
      expect: (status, b) => {
        const page = b?.data?.auditEvents;
        return status === 200 && !b.errors && page?.edges?.length === 50 && page.pageInfo.hasNextPage === true;
      },
    },
  };
}

/** The same scenario as seen by the unsafe baseline (no grants: it only answers, so only shape is checked). */
export function baselineExpectation(scenario: Scenario): Scenario {
  const base: Record<string, (status: number, b: any) => boolean> = {
    S1: (status, b) => status === 200 && !b.errors && b?.data?.people?.edges?.length === 20,
    S1P: (status, b) => status === 200 && !b.errors && b?.data?.people?.edges?.length === 20,
    S2: (status, b) => status === 200 && !b.errors && !!b?.data?.person?.household && !!b.data.person.socialSecurity,
    S3: (status, b) => status === 200 && !b.errors && (b?.data?.house?.residents?.length ?? 0) > 0,
  };
  const expect = base[scenario.id];
  if (!expect) throw new Error(`no baseline for ${scenario.id}`);
  return { ...scenario, expect, expectation: 'same shape, nothing masked, no row condition, no audit' };
}

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /**
   * Open loop: autocannon's `overallRate`, requests per second over all connections (each
   * connection sends at its share of the rate instead of as soon as it is answered). Unset: closed
   * loop, every connection as fast as it is answered.
   */
  readonly overallRate?: number;
  /**
   * With `overallRate`: send at evenly spaced instants (request i at start + i / rate) from this
   * process, on keep-alive connections, instead of autocannon. autocannon's `overallRate` gives each
   * connection a budget per second (lib/httpClient.js resets `reqsMadeThisSecond` once a second):
   * every connection sends its share back to back at each second's start, so the load arrives as
   * one burst a second. Latency here is from the planned instant to the answer's end, so a late
   * send counts against the gateway (no coordinated omission).
   */
  readonly paced?: boolean;
}

export interface LoadResult {
  readonly scenario: ScenarioId;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  /** Latency, ms. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Socket errors and timeouts. */
  readonly transportErrors: number;
  readonly non2xx: number;
  /** Answers that are not what the scenario expects (a GraphQL error in a 200, a wrong shape). */
  readonly unexpected: number;
  /** First unexpected answer, shortened, for the report. */
  readonly firstUnexpected?: string;
  /** Peak RSS of the gateway process tree during warm-up and run, bytes. */
  readonly peakRss: number;
  /**
   * Average CPU cores used during the measured run by the gateway tree, PostgreSQL (all its
   * processes), Redis, the bench process (load generator) and everything else on the machine.
   */
  readonly cpu: { readonly gateway: number; readonly postgres: number; readonly redis: number; readonly bench: number; readonly other: number };
  /** The measured run, µs of CLOCK_MONOTONIC (to cut a CPU profile to it). */
  readonly window: { readonly fromUs: number; readonly toUs: number };
  readonly workers: number;
}

/** One request outside the load, to check the scenario really does what it says. */
export async function probe(gateway: GatewayProcess, scenario: Scenario): Promise<{ ok: boolean; status: number; body: string }> {
  const response = await fetch(`${gateway.baseUrl}/graphql`, {
    method: 'POST',
    headers: headersFor(scenario, scenario.tokens[0]!),
    body: scenario.bodies[0],
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { ok: scenario.expect(response.status, parsed), status: response.status, body: text.slice(0, 600) };
}

function headersFor(scenario: Scenario, token: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    authorization: `Bearer ${token}`,
  };
  if (scenario.purpose) headers['x-purpose'] = scenario.purpose;
  return headers;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

interface RunStats {
  latencies: number[];
  /** CPU cores × seconds by group. */
  cpu: { gateway: number; postgres: number; redis: number; bench: number; other: number };
  unexpected: number;
  firstUnexpected?: string;
  requests: number;
  non2xx: number;
  transportErrors: number;
  seconds: number;
}

/** An answer that is not what the scenario expects, in a line (a body that is not JSON counts too); undefined when it is. */
export function unexpectedAnswer(scenario: Scenario, status: number, body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  return scenario.expect(status, parsed) ? undefined : `${status} ${String(body).slice(0, 300)}`;
}

/** Counts an answer that is not what the scenario expects. */
function checkAnswer(stats: RunStats, scenario: Scenario, status: number, body: string): void {
  const unexpected = unexpectedAnswer(scenario, status, body);
  if (unexpected === undefined) return;
  stats.unexpected += 1;
  stats.firstUnexpected ??= unexpected;
}

/** CPU cores × seconds used by each group since `before`. */
function cpuSince(before: ReturnType<typeof cpuSnapshot>, pids: ReturnType<GatewayProcess['pids']>): RunStats['cpu'] {
  const after = cpuSnapshot(pids);
  const used = cpuBetween(before, after);
  const span = (after.at - before.at) / 1000;
  return { gateway: used.gateway * span, postgres: used.postgres * span, redis: used.redis * span, bench: used.bench * span, other: used.other * span };
}

function runPacedOnce(gateway: GatewayProcess, scenario: Scenario, connections: number, seconds: number, rate: number): Promise<RunStats> {
  const stats: RunStats = { latencies: [], cpu: { gateway: 0, postgres: 0, redis: 0, bench: 0, other: 0 }, unexpected: 0, requests: 0, non2xx: 0, transportErrors: 0, seconds };
  const pids = gateway.pids();
  const before = cpuSnapshot(pids);
  const url = new URL(`${gateway.baseUrl}/graphql`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const headerSets = scenario.tokens.map((t) => headersFor(scenario, t));
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  let settled = 0;
  return new Promise((resolve) => {
    const finish = () => {
      stats.cpu = cpuSince(before, pids);
      stats.seconds = (performance.now() - started) / 1000;
      agent.destroy();
      resolve(stats);
    };
    const one = (i: number, planned: number) => {
      const body = scenario.bodies[i % scenario.bodies.length]!;
      const request = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headerSets[i % headerSets.length], 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            stats.latencies.push(performance.now() - planned);
            stats.requests += 1;
            const status = response.statusCode ?? 0;
            if (status < 200 || status > 299) stats.non2xx += 1;
            checkAnswer(stats, scenario, status, Buffer.concat(chunks).toString('utf8'));
            if (++settled === total) finish();
          });
        },
      );
      request.setTimeout(30_000, () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        stats.transportErrors += 1;
        if (++settled === total) finish();
      });
      request.end(body);
    };
    // A 1 ms tick sends every request whose planned instant has come (timers alone drift and bunch).
    const tick = setInterval(() => {
      const now = performance.now();
      while (sent < total && started + (sent * 1000) / rate <= now) {
        one(sent, started + (sent * 1000) / rate);
        sent += 1;
      }
      if (sent >= total) clearInterval(tick);
    }, 1);
  });
}

function runOnce(gateway: GatewayProcess, scenario: Scenario, connections: number, seconds: number, overallRate?: number, paced = false): Promise<RunStats> {
  if (paced && overallRate) return runPacedOnce(gateway, scenario, connections, seconds, overallRate);
  const stats: RunStats = { latencies: [], cpu: { gateway: 0, postgres: 0, redis: 0, bench: 0, other: 0 }, unexpected: 0, requests: 0, non2xx: 0, transportErrors: 0, seconds };
  const pids = gateway.pids();
  const before = cpuSnapshot(pids);
  // Rotated over all connections: body i and token j change independently.
  let nextBody = 0;
  let nextToken = 0;
  const headerSets = scenario.tokens.map((t) => headersFor(scenario, t));
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${gateway.baseUrl}/graphql`,
        connections,
        duration: seconds,
        ...(overallRate ? { overallRate } : {}),
        timeout: 30,
        method: 'POST',
        headers: headerSets[0],
        body: scenario.bodies[0],
        requests: [
          {
            setupRequest: (request: any) => {
              request.headers = headerSets[nextToken++ % headerSets.length];
              request.body = scenario.bodies[nextBody++ % scenario.bodies.length];
              return request;
            },
            onResponse: (status: number, body: string) => checkAnswer(stats, scenario, status, String(body)),
          },
        ],
      },
      (error: Error | null, result: autocannon.Result) => {
        if (error) return reject(error);
        stats.requests = result.requests.total;
        stats.non2xx = result.non2xx;
        stats.transportErrors = result.errors + result.timeouts;
        stats.seconds = result.duration;
        stats.cpu = cpuSince(before, pids);
        resolve(stats);
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      stats.latencies.push(responseTime);
    });
  });
}

function summarize(
  scenario: Scenario,
  connections: number,
  stats: RunStats,
  peakRss: number,
  window: { fromUs: number; toUs: number },
  workers: number,
): LoadResult {
  const sorted = Float64Array.from(stats.latencies).sort();
  const per = (x: number) => (stats.seconds > 0 ? x / stats.seconds : 0);
  return {
    cpu: { gateway: per(stats.cpu.gateway), postgres: per(stats.cpu.postgres), redis: per(stats.cpu.redis), bench: per(stats.cpu.bench), other: per(stats.cpu.other) },
    scenario: scenario.id,
    connections,
    seconds: stats.seconds,
    requests: stats.requests,
    rps: stats.requests / stats.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    transportErrors: stats.transportErrors,
    non2xx: stats.non2xx,
    unexpected: stats.unexpected,
    firstUnexpected: stats.firstUnexpected,
    peakRss,
    window,
    workers,
  };
}

/** Warm-up (discarded), then the measured run; peak RSS covers both. */
export async function runScenario(
  gateway: GatewayProcess,
  scenario: Scenario,
  options: LoadOptions,
  workers: number,
): Promise<LoadResult> {
  gateway.resetPeakRss();
  if (options.warmupSeconds > 0) await runOnce(gateway, scenario, options.connections, options.warmupSeconds, options.overallRate, options.paced);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const stats = await runOnce(gateway, scenario, options.connections, options.durationSeconds, options.overallRate, options.paced);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  return summarize(scenario, options.connections, stats, gateway.peakRss(), { fromUs, toUs }, workers);
}

export interface PairedEntry {
  readonly gateway: GatewayProcess;
  readonly scenario: Scenario;
  readonly workers: number;
}

/**
 * Two (or more) configurations measured side by side: each warmed up, then the measured time
 * split into slices run in A B B A order, so that other work on the machine — and its drift —
 * weighs on each configuration alike and their ratio stays fair. Each result adds up its slices.
 */
export async function runPaired(entries: readonly PairedEntry[], options: LoadOptions, rounds = 2): Promise<LoadResult[]> {
  for (const e of entries) e.gateway.resetPeakRss();
  // Every worker process needs its own warm-up (JIT, pools): N workers get N times as long.
  if (options.warmupSeconds > 0) {
    for (const e of entries) await runOnce(e.gateway, e.scenario, options.connections, options.warmupSeconds * Math.max(1, e.workers));
  }
  const slice = Math.max(1, Math.round(options.durationSeconds / rounds));
  const totals: RunStats[] = entries.map(() => ({
    latencies: [],
    cpu: { gateway: 0, postgres: 0, redis: 0, bench: 0, other: 0 },
    unexpected: 0,
    requests: 0,
    non2xx: 0,
    transportErrors: 0,
    seconds: 0,
  }));
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  for (let round = 0; round < rounds; round++) {
    const order = entries.map((_, i) => (round % 2 === 0 ? i : entries.length - 1 - i));
    for (const i of order) {
      const stats = await runOnce(entries[i]!.gateway, entries[i]!.scenario, options.connections, slice);
      const total = totals[i]!;
      for (const l of stats.latencies) total.latencies.push(l);
      total.unexpected += stats.unexpected;
      total.firstUnexpected ??= stats.firstUnexpected;
      total.requests += stats.requests;
      total.non2xx += stats.non2xx;
      total.transportErrors += stats.transportErrors;
      total.seconds += stats.seconds;
      for (const k of ['gateway', 'postgres', 'redis', 'bench', 'other'] as const) total.cpu[k] += stats.cpu[k];
    }
  }
  const toUs = Number(process.hrtime.bigint() / 1000n);
  return entries.map((e, i) => summarize(e.scenario, options.connections, totals[i]!, e.gateway.peakRss(), { fromUs, toUs }, e.workers));
}
