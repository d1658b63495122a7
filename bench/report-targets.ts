/**
 * The targets of the performance issue (16) and the earlier ones still standing, each with what
 * this run measured and a verdict: met, MISSED (with by how much), or not measured (the part did
 * not run). Ratios come from one run on one machine: the peers and the gateway measured in the
 * same `npm run bench -- --peers`, never against figures of another day.
 */
import { findRow, type BenchReport, type TargetVerdict } from './report.ts';
import type { PeerResult } from './peers.ts';
import { auditScaleTargets } from './audit-scale-report.ts';

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const int = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en'));

/** S5's rate on 2026-12-03 (issue 16): the paging target is 3× this. */
const S5_BEFORE_RPS = 173;
const OPEN_LOOP_P99_MS = 25;

/** Gateway CPU ms per request of a load result, from /proc. */
const perRequest = (x: { cpu?: { gateway: number }; rps: number }) => (x.cpu && x.rps > 0 ? (x.cpu.gateway / x.rps) * 1000 : Number.NaN);

const notRun = (target: string, why = 'not run'): TargetVerdict => ({ target, measured: why, met: undefined });

/** At least `goal` (higher is better). */
function atLeast(target: string, measured: string, value: number, goal: number, unit: (n: number) => string): TargetVerdict {
  return { target, measured, met: value >= goal, gap: value >= goal ? undefined : `${unit(goal - value)} short (${fmt((value / goal) * 100, 0)}% of the target)` };
}

/** At most `goal` (lower is better). */
function atMost(target: string, measured: string, value: number, goal: number, unit: (n: number) => string): TargetVerdict {
  return { target, measured, met: value <= goal, gap: value <= goal ? undefined : `${unit(value - goal)} over (${fmt(value / goal, 2)}×)` };
}

export function peer(report: BenchReport, server: string): PeerResult | undefined {
  return report.peers?.results.find((r) => r.server === server);
}

export function targets(report: BenchReport): TargetVerdict[] {
  const v: TargetVerdict[] = [];
  const s1 = findRow(report, 'S1', 'safe', 'scenarios')?.result;
  const s1Base = findRow(report, 'S1', 'baseline', 'scenarios')?.result;
  const s1p = findRow(report, 'S1P', 'safe', 'peers')?.result;
  const s1pBase = findRow(report, 'S1P', 'baseline', 'peers')?.result;

  // 1. Side by side with the peers, in their request shape.
  {
    const t = 'S1 (peers’ shape) everything on ≥ 1.2× PostGraphile 5 + RLS req/s, same run';
    const pgl = [peer(report, 'postgraphile'), peer(report, 'postgraphile-node22')].filter((p): p is PeerResult => !!p);
    const best = pgl.sort((a, b) => b.rps - a.rps)[0];
    if (s1p && best) {
      const ratio = s1p.rps / best.rps;
      const all = pgl.map((p) => `${p.server} ${int(p.rps)}`).join(', ');
      const cpu = `; server CPU per request ${fmt(perRequest(s1p), 2)} vs ${fmt(best.cpuMsPerRequest?.server, 2)} ms`;
      v.push(atLeast(t, `${int(s1p.rps)} vs ${int(best.rps)} rps (${best.server}; ${all}) = ${fmt(ratio, 2)}×${cpu}`, ratio, 1.2, (n) => `${fmt(n, 2)}×`));
    } else v.push(notRun(t, report.peers?.error ? `not run: ${report.peers.error}` : 'not run (needs --peers)'));
  }
  {
    const t = 'baseline (safety off, peers’ shape) ≥ yoga + express peer req/s';
    const yoga = peer(report, 'yoga');
    if (s1pBase && yoga) {
      const cpu = `; server CPU per request ${fmt(perRequest(s1pBase), 2)} vs ${fmt(yoga.cpuMsPerRequest?.server, 2)} ms`;
      v.push(atLeast(t, `${int(s1pBase.rps)} vs ${int(yoga.rps)} rps = ${fmt(s1pBase.rps / yoga.rps, 2)}×${cpu}`, s1pBase.rps / yoga.rps, 1, (n) => `${fmt(n, 2)}×`));
    } else v.push(notRun(t, 'not run (needs --peers)'));
  }

  // 2. CPU, allocation, cost of safety.
  {
    const t = 'gateway CPU per S1 request ≤ 1.0 ms, everything on (from /proc)';
    if (s1?.cpu && s1.rps > 0) {
      const ms = (s1.cpu.gateway / s1.rps) * 1000;
      v.push(atMost(t, `${fmt(ms, 2)} ms`, ms, 1.0, (n) => `${fmt(n, 2)} ms`));
    } else v.push(notRun(t));
  }
  {
    const t = 'allocation per S1 request ≤ 150 KB, everything on (allocation profile)';
    const kb = (report.profiles.find((p) => p.mode === 'safe')?.allocations?.bytesPerRequest ?? Number.NaN) / 1024;
    v.push(Number.isNaN(kb) ? notRun(t) : atMost(t, `${fmt(kb, 0)} KB`, kb, 150, (n) => `${fmt(n, 0)} KB`));
  }
  {
    const t = 'S1 everything on ≥ 90% of the baseline’s req/s';
    if (s1 && s1Base) {
      const ratio = s1.rps / s1Base.rps;
      v.push(atLeast(t, `${int(s1.rps)} vs ${int(s1Base.rps)} rps = ${fmt(ratio * 100)}%`, ratio, 0.9, (n) => `${fmt(n * 100)} points`));
    } else v.push(notRun(t));
  }

  // 3. Latency as users feel it: open loop.
  {
    const row = findRow(report, 'S1', 'safe', 'openloop', (r) => r.label === 'paced') ?? findRow(report, 'S1', 'safe', 'openloop');
    const t = `S1 p99 ≤ ${OPEN_LOOP_P99_MS} ms at a fixed ${row?.rate ?? 300} req/s (open loop, evenly spaced arrivals)`;
    const x = row?.result;
    if (x) {
      const measured = `p99 ${fmt(x.p99)} ms (p50 ${fmt(x.p50)}, achieved ${int(x.rps)} req/s${x.unexpected + x.non2xx + x.transportErrors > 0 ? `, ${x.unexpected + x.non2xx + x.transportErrors} errors` : ''})`;
      const verdict = atMost(t, measured, x.p99, OPEN_LOOP_P99_MS, (n) => `${fmt(n)} ms`);
      const held = row.rate === undefined || x.rps >= row.rate * 0.95;
      v.push(held && x.unexpected === 0 ? verdict : { ...verdict, met: false, gap: `${verdict.gap ?? ''}${held ? '' : ' the rate was not held'}`.trim() });
    } else v.push(notRun(t));
  }

  // 4. Audit.
  {
    const t = 'audit ≥ 30,000 durable events/s, chain intact';
    const a = report.audit;
    if (a) {
      const verdict = atLeast(t, `${int(a.eventsPerSecond)} events/s, chain ${a.intact ? 'intact' : 'NOT intact'}`, a.eventsPerSecond, 30_000, (n) => `${int(n)} events/s`);
      v.push(a.intact && a.failed === 0 ? verdict : { ...verdict, met: false });
    } else v.push(notRun(t, report.auditError ? `failed: ${report.auditError}` : 'not run'));
  }
  {
    const goal = S5_BEFORE_RPS * 3;
    const t = `auditor paging (S5) ≥ 3× faster: ≥ ${int(goal)} req/s (${S5_BEFORE_RPS} on 2026-12-03)`;
    const s5 = findRow(report, 'S5', 'safe', 'scenarios')?.result;
    if (s5) {
      const cpu = s5.cpu && s5.rps > 0 ? `, ${fmt((s5.cpu.gateway / s5.rps) * 1000, 2)} ms gateway CPU per page` : '';
      v.push(atLeast(t, `${int(s5.rps)} req/s${cpu}`, s5.rps, goal, (n) => `${int(n)} req/s`));
    } else v.push(notRun(t));
  }
  v.push(...auditScaleTargets(report.auditScale, notRun));

  // 5. The admission workflow's cost.
  {
    const t = 'S1 with thousands of delegations and 100,000 grant lines in force within 5% of S1 with the demo’s policy set';
    const demo = report.http.find((r) => r.group === 'admission' && r.label?.startsWith('the demo'))?.result;
    const scale = report.http.find((r) => r.group === 'admission' && !r.label?.startsWith('the demo'))?.result;
    const st = report.admission?.store;
    if (demo && scale && st) {
      const ratio = scale.rps / demo.rps;
      v.push(
        atLeast(
          t,
          `${int(scale.rps)} vs ${int(demo.rps)} rps = ${fmt(ratio * 100)}% (${int(st.delegations)} delegations, ${int(st.policyLines)} lines)`,
          ratio,
          0.95,
          (n) => `${fmt(n * 100)} points`,
        ),
      );
    } else v.push(notRun(t, report.admissionError ? `failed: ${report.admissionError}` : 'not run'));
  }
  {
    const t = 'withdrawal on two instances: after withdrawGrant answers on A, B refuses the very next read';
    const w = report.admission?.withdrawal;
    if (w && w.length > 0) {
      const refused = w.filter((r) => r.refusedNext && r.refusedAfter).length;
      const served = w.filter((r) => r.servedBefore).length;
      const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
      const mut = sorted(w.map((r) => r.mutationMs));
      const next = sorted(w.map((r) => r.nextReadMs));
      const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
      v.push({
        target: t,
        measured:
          `${refused}/${w.length} rounds refused at once (B served the read before in ${served}/${w.length}); withdrawGrant answered in ` +
          `${fmt(median(mut))} ms median (max ${fmt(mut.at(-1))}); B's next read answered (refused) in ${fmt(median(next))} ms median (max ${fmt(next.at(-1))})`,
        met: refused === w.length && served === w.length,
        gap: refused === w.length ? undefined : `${w.length - refused} rounds served a read after the withdrawal`,
      });
    } else v.push(notRun(t, report.admission?.withdrawalError ? `failed: ${report.admission.withdrawalError}` : 'not run'));
  }

  // Earlier targets still standing.
  const big = report.authorization?.find((a) => a.target === 100_000);
  v.push(
    big
      ? atMost('authorization p99 < 50 µs at 100,000 policy lines', `p99 ${fmt(big.p99Us)} µs at ${int(big.policyLines)} lines`, big.p99Us, 50, (n) => `${fmt(n)} µs`)
      : notRun('authorization p99 < 50 µs at 100,000 policy lines'),
  );
  const p1m = findRow(report, 'S1', 'safe', 'pushdown', (r) => r.persons === 1_000_000 && r.result?.connections !== 1)?.result;
  const p10k = findRow(report, 'S1', 'safe', 'pushdown', (r) => r.persons === 10_000 && r.result?.connections !== 1)?.result;
  v.push(
    p1m && p10k
      ? atMost('pushdown: S1 latency at 1M persons within 1.3× of 10k', `p50 ${fmt(p1m.p50)} vs ${fmt(p10k.p50)} ms = ${fmt(p1m.p50 / p10k.p50, 2)}×`, p1m.p50 / p10k.p50, 1.3, (n) => `${fmt(n, 2)}×`)
      : notRun('pushdown: S1 latency at 1M persons within 1.3× of 10k'),
  );
  return v;
}
