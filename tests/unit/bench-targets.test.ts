/**
 * The bench's verdicts for the performance targets: a ratio against the peers is taken against the
 * faster PostGraphile row of the same run, an open-loop run that did not hold its rate cannot meet
 * the latency target, and one read served after a withdrawal fails the two-instance target.
 */
import { describe, expect, it } from 'vitest';
import { targets } from '../../bench/report-targets.ts';
import { markdown, type BenchReport, type HttpRow } from '../../bench/report.ts';
import type { LoadResult } from '../../bench/scenarios.ts';
import type { PeerResult } from '../../bench/peers.ts';

function result(rps: number, extra: Partial<LoadResult> = {}): LoadResult {
  return {
    scenario: 'S1',
    connections: 32,
    seconds: 10,
    requests: rps * 10,
    rps,
    p50: 10,
    p95: 15,
    p99: 20,
    max: 30,
    transportErrors: 0,
    non2xx: 0,
    unexpected: 0,
    peakRss: 0,
    cpu: { gateway: 0.9, postgres: 0.3, redis: 0.01, bench: 0.1, other: 0.05 },
    window: { fromUs: 0, toUs: 1 },
    workers: 1,
    ...extra,
  };
}

function row(scenario: HttpRow['scenario'], mode: HttpRow['mode'], group: HttpRow['group'], r: LoadResult, extra: Partial<HttpRow> = {}): HttpRow {
  return { scenario, mode, group, persons: 1_000_000, workers: 1, title: scenario, expectation: '', result: r, ...extra };
}

function peer(server: string, rps: number): PeerResult {
  return { server, title: server, requests: rps * 10, seconds: 10, rps, rpsStddev: 1, p50: 10, p99: 20, max: 30, non2xx: 0, transportErrors: 0, warmupMismatches: 0, warmupRequests: 100 };
}

function report(http: HttpRow[], peers: PeerResult[], extra: Partial<BenchReport> = {}): BenchReport {
  return {
    machine: { cpuModel: 'test', cores: 2, memoryGiB: 24, date: '2026-12-08T00:00:00Z', node: 'v20', postgres: '15', redis: '7', loadAverageAtStart: [0, 0, 0] },
    quick: true,
    only: ['peers'],
    load: { connections: 32, durationSeconds: 10, warmupSeconds: 2 },
    http,
    profiles: [],
    workersImplemented: true,
    rateLimits: '',
    seeding: [],
    phases: [],
    totalSeconds: 1,
    notes: [],
    peers: { dir: '/peers', header: [], results: peers, skipped: [], setupRan: false },
    ...extra,
  };
}

const verdict = (r: BenchReport, prefix: string) => {
  const found = targets(r).find((t) => t.target.startsWith(prefix));
  if (!found) throw new Error(`no target starting with ${prefix}`);
  return found;
};

describe('bench targets', () => {
  it('compares S1 in the peers’ shape with the faster PostGraphile row', () => {
    const http = [row('S1P', 'safe', 'peers', result(1000)), row('S1P', 'baseline', 'peers', result(1100))];
    expect(verdict(report(http, [peer('postgraphile', 800), peer('yoga', 1000)]), 'S1 (peers’ shape)').met).toBe(true);
    const slower = verdict(report(http, [peer('postgraphile', 800), peer('postgraphile-node22', 900), peer('yoga', 1000)]), 'S1 (peers’ shape)');
    expect(slower.met).toBe(false);
    expect(slower.measured).toContain('postgraphile-node22');
    expect(slower.gap).toMatch(/short/);
    expect(verdict(report(http, [peer('postgraphile', 800), peer('yoga', 1200)]), 'baseline (safety off').met).toBe(false);
    expect(verdict(report(http, [peer('postgraphile', 800), peer('yoga', 1000)]), 'baseline (safety off').met).toBe(true);
  });

  it('says not measured, never met, when the peers did not run', () => {
    const http = [row('S1P', 'safe', 'peers', result(1000))];
    const r = report(http, [], { peers: undefined });
    expect(verdict(r, 'S1 (peers’ shape)').met).toBeUndefined();
    expect(verdict(r, 'baseline (safety off').met).toBeUndefined();
  });

  it('fails the open-loop latency target when the rate was not held, however low p99 is', () => {
    const held = report([row('S1', 'safe', 'openloop', result(298, { p99: 12 }), { rate: 300 })], []);
    expect(verdict(held, 'S1 p99 ≤ 25 ms').met).toBe(true);
    const dropped = report([row('S1', 'safe', 'openloop', result(150, { p99: 12 }), { rate: 300 })], []);
    expect(verdict(dropped, 'S1 p99 ≤ 25 ms').met).toBe(false);
    const slow = report([row('S1', 'safe', 'openloop', result(300, { p99: 40 }), { rate: 300 })], []);
    expect(verdict(slow, 'S1 p99 ≤ 25 ms').gap).toMatch(/15\.0 ms over/);
  });

  it('fails the withdrawal target when one read was served after withdrawGrant answered', () => {
    const store = { delegations: 3000, delegationStreets: 3000, grants: 500, policyLines: 100_000, demoPolicyLines: 200, prepareSeconds: 1, prepared: true };
    const round = { mutationMs: 20, nextReadMs: 5, refusedNext: true, refusedAfter: true, servedBefore: true };
    const ok = report([], [], { admission: { store, withdrawal: [round, round] } });
    expect(verdict(ok, 'withdrawal on two instances').met).toBe(true);
    const leak = report([], [], { admission: { store, withdrawal: [round, { ...round, refusedNext: false }] } });
    expect(verdict(leak, 'withdrawal on two instances').met).toBe(false);
    // A round where B never served the read proves nothing about the withdrawal.
    const vacuous = report([], [], { admission: { store, withdrawal: [{ ...round, servedBefore: false }] } });
    expect(verdict(vacuous, 'withdrawal on two instances').met).toBe(false);
  });

  it('puts the admission-scale ratio against the demo store', () => {
    const store = { delegations: 3000, delegationStreets: 3000, grants: 500, policyLines: 100_000, demoPolicyLines: 200, prepareSeconds: 1, prepared: true };
    const http = (scale: number) => [
      row('S1', 'safe', 'admission', result(1000), { label: "the demo's policy set" }),
      row('S1', 'safe', 'admission', result(scale), { label: '3,000 delegations in force, 100,000 grant lines' }),
    ];
    expect(verdict(report(http(960), [], { admission: { store } }), 'S1 with thousands').met).toBe(true);
    expect(verdict(report(http(940), [], { admission: { store } }), 'S1 with thousands').met).toBe(false);
  });

  it('lists issue 16’s targets and not the dropped ones, and the report names no removed file or setting', () => {
    const r = report([row('S1P', 'safe', 'peers', result(1000))], [peer('postgraphile', 800)]);
    const names = targets(r).map((t) => t.target);
    expect(names.some((n) => n.includes('2 workers'))).toBe(false);
    expect(names.some((n) => n.includes('at 32 clients'))).toBe(false);
    expect(names.filter((n) => /≤ 1\.0 ms|≤ 150 KB|≥ 90%|30,000|3× faster|10 million|1 million events|within 5%/.test(n))).toHaveLength(8);
    const text = markdown(r);
    expect(text).not.toMatch(/tests\/bench|LIANQIAO_UNSAFE_BENCH_BASELINE/);
    expect(text).toContain('## Side by side with the peers');
  });
});
