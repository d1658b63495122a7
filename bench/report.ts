/**
 * The bench's results: a table on the console and BENCHMARKS.md (machine, every figure, the
 * targets and whether each is met; where one is missed, by how much and what the profile says).
 */
import { SOURCE_RANDOM_PAGE_COST } from './databases.ts';
import fs from 'node:fs';
import type { LoadResult, ScenarioId } from './scenarios.ts';
import type { AuthorizationSizeResult } from './micro-authorization.ts';
import type { AllocationSummary, ProfileSummary } from './profile.ts';
import type { PeersRun } from './peers.ts';
import type { AdmissionScaleResult } from './admission-scale.ts';
import type { BesideProcess } from './beside-load.ts';
import { admissionSection, besideSection, openLoopSection, peersSection } from './report-sections.ts';
import { auditScaleMarkdown, type AuditScaleReport } from './audit-scale-report.ts';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly date: string;
  readonly node: string;
  readonly postgres: string;
  readonly redis: string;
  readonly loadAverageAtStart: readonly number[];
  loadAverageAtEnd?: readonly number[];
  /** /proc/stat at the start of the run (ticks of all cores: in all, and stolen by the hypervisor). */
  readonly cpuTimesAtStart?: { readonly total: number; readonly steal: number } | undefined;
  /** Share of the machine's CPU time the hypervisor gave to others over the run (steal). */
  stolenShare?: number;
}

export interface HttpRow {
  readonly scenario: ScenarioId;
  /** What ran: `safe` (everything on) or `baseline` (bench/baseline/baseline-main.ts). */
  readonly mode: 'safe' | 'baseline';
  /** Persons in the sources the gateway read. */
  readonly persons: number;
  readonly workers: number;
  readonly title: string;
  readonly expectation: string;
  /** The probe before the load: did one request answer as expected? */
  readonly probe?: { readonly ok: boolean; readonly status: number; readonly body: string };
  readonly result?: LoadResult;
  /** Why there is no result. */
  readonly skipped?: string;
  /** Share of the machine's CPU busy with other work just before the run (gateway idle), 0..1. */
  readonly backgroundCpu?: number;
  /** Which group of the report the row belongs to. */
  readonly group: 'scenarios' | 'peers' | 'openloop' | 'pushdown' | 'workers' | 'admission';
  /** Open loop: the fixed rate asked for (requests/s over all clients). */
  readonly rate?: number;
  /** What distinguishes the row within its group (e.g. which store state). */
  readonly label?: string;
}

export interface AuditIngestResult {
  readonly eventsPerSecond: number;
  readonly events: number;
  readonly stored: number;
  readonly concurrency: number;
  readonly subjectsPerEvent?: number;
  readonly batches: number;
  readonly meanBatch: number;
  readonly failed: number;
  readonly verifyMs: number;
  readonly verifiedPerSecond?: number;
  readonly intact: boolean;
  readonly databaseSize?: string;
  /** `default` (SHA-256 + Ed25519) or `sm` (SM3 + SM2). */
  readonly crypto?: string;
}

export interface ProfileRun {
  readonly label: string;
  readonly mode: 'safe' | 'baseline';
  /** Requests served while the profile ran (warm-up and run). */
  readonly requests: number;
  readonly summary?: ProfileSummary;
  /** Allocation profile of a second, shorter run in the same process. */
  readonly allocations?: AllocationSummary;
  readonly error?: string;
}

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly only: readonly string[] | null;
  readonly load: { readonly connections: number; readonly durationSeconds: number; readonly warmupSeconds: number };
  readonly http: HttpRow[];
  authorization?: AuthorizationSizeResult[];
  authorizationError?: string;
  audit?: AuditIngestResult;
  auditError?: string;
  /** The same ingest with AUDIT_CRYPTO=sm (SM3 chain, SM2 checkpoints). */
  auditSm?: AuditIngestResult;
  auditSmError?: string;
  auditTrail?: { readonly events: number; readonly prefilled: number; readonly prefillSeconds: number };
  /** `--only audit10m`: searches over 10M events, export of 1M (bench/audit-scale-report.ts). */
  auditScale?: AuditScaleReport;
  readonly profiles: ProfileRun[];
  readonly workersImplemented: boolean;
  readonly rateLimits: string;
  readonly seeding: { readonly database: string; readonly persons: number; readonly seconds: number }[];
  readonly phases: { readonly name: string; readonly seconds: number }[];
  totalSeconds: number;
  /** PostgreSQL's plan for S1's source statement on each database. */
  pushdownPlans?: { readonly persons: number; readonly sql: string; readonly plan: readonly string[]; readonly executionMs: number }[];
  /** Time spent waiting for other work on the machine to finish before measuring. */
  quietWaitSeconds?: number;
  /** The reference servers of ../shared/peers, run by their bench.sh (`--peers`). */
  peers?: PeersRun;
  /** Share of the machine busy with other work just before the peers ran. */
  peersBackgroundCpu?: number;
  /** S1 against a store with thousands of delegations and 100,000 grant lines; a withdrawal on two instances. */
  admission?: AdmissionScaleResult;
  admissionError?: string;
  /** What else ran on the machine, sampled at the start and at the end of the bench. */
  beside?: { readonly at: 'start' | 'end'; readonly processes: readonly BesideProcess[] }[];
  readonly notes: string[];
}

// ---------------------------------------------------------------------------------------------

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const int = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en'));
const mb = (bytes: number | undefined) => (bytes === undefined || bytes === 0 ? '–' : `${Math.round(bytes / 1024 / 1024)}`);

export function findRow(report: BenchReport, scenario: ScenarioId, mode: 'safe' | 'baseline', group: HttpRow['group'], extra?: (r: HttpRow) => boolean) {
  return report.http.find((r) => r.scenario === scenario && r.mode === mode && r.group === group && (!extra || extra(r)));
}

export interface TargetVerdict {
  readonly target: string;
  readonly measured: string;
  /** true met, false missed, undefined not measured. */
  readonly met: boolean | undefined;
  readonly gap?: string;
}

export { targets } from './report-targets.ts';
import { targets } from './report-targets.ts';

const verdictMark = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : 'MISSED');

// ---------------------------------------------------------------------------------------------
// Console

export function printTable(report: BenchReport, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  const head = ['group', 'scenario', 'mode', 'persons', 'workers', 'conns', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'err/non2xx/unexp', 'peak RSS MB'];
  const rows = report.http.map((r) => {
    const x = r.result;
    return [
      r.group,
      r.scenario,
      r.mode,
      r.persons >= 1_000_000 ? `${r.persons / 1_000_000}M` : `${r.persons / 1000}k`,
      String(r.workers),
      x ? String(x.connections) : '',
      x ? int(x.rps) : r.skipped ?? 'skipped',
      fmt(x?.p50),
      fmt(x?.p95),
      fmt(x?.p99),
      fmt(x?.max),
      x ? `${x.transportErrors}/${x.non2xx}/${x.unexpected}` : '',
      mb(x?.peakRss),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  write('');
  write(line(head));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) write(line(r));
  if (report.authorization?.length) {
    write('');
    write('authorization (in-process): lines  decisions/s  p50 µs  p99 µs  p99.9 µs  load ms  cold compile ms');
    for (const a of report.authorization) {
      write(
        `  ${int(a.policyLines).padStart(28)}  ${int(a.decisionsPerSecond).padStart(11)}  ${fmt(a.p50Us).padStart(6)}  ${fmt(a.p99Us).padStart(6)}  ${fmt(a.p999Us).padStart(8)}  ${int(a.loadMs).padStart(7)}  ${fmt(a.coldCompileMs).padStart(15)}`,
      );
    }
  }
  if (report.peers) {
    write('');
    write('peers (../shared/peers/bench.sh, each alone): req/s  p50 ms  p99 ms  server CPU ms/request');
    for (const p of report.peers.results) {
      write(`  ${p.server.padEnd(22)} ${int(p.rps).padStart(6)}  ${fmt(p.p50).padStart(6)}  ${fmt(p.p99).padStart(6)}  ${fmt(p.cpuMsPerRequest?.server, 2).padStart(6)}`);
    }
    if (report.peers.error) write(`  ${report.peers.error}`);
  }
  if (report.audit) {
    write('');
    write(`audit ingest: ${int(report.audit.eventsPerSecond)} durable events/s (${int(report.audit.events)} events, chain ${report.audit.intact ? 'intact' : 'NOT intact'})`);
  }
  write('');
  for (const v of targets(report)) write(`${verdictMark(v.met).padEnd(12)} ${v.target}: ${v.measured}${v.gap ? ` — ${v.gap}` : ''}`);
  write('');
  write(`whole bench: ${fmt(report.totalSeconds / 60, 1)} min (${report.phases.map((p) => `${p.name} ${Math.round(p.seconds)} s`).join(', ')})`);
}

// ---------------------------------------------------------------------------------------------
// Markdown

export function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? 'r') === 'l' ? ':--' : '--:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function httpTable(rows: HttpRow[]): string {
  return table(
    ['scenario', 'mode', 'persons', 'workers', 'clients', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'transport errors', 'non-2xx', 'unexpected answers', 'peak RSS MB', 'CPU cores: gateway / PostgreSQL / Redis / load generator / other', 'machine busy before'],
    rows.map((r) => {
      const x = r.result;
      return [
        r.scenario,
        r.mode,
        int(r.persons),
        String(r.workers),
        x ? String(x.connections) : '–',
        x ? int(x.rps) : `*${r.skipped ?? 'not run'}*`,
        fmt(x?.p50),
        fmt(x?.p95),
        fmt(x?.p99),
        fmt(x?.max),
        x ? String(x.transportErrors) : '–',
        x ? String(x.non2xx) : '–',
        x ? String(x.unexpected) : '–',
        mb(x?.peakRss),
        x?.cpu ? [x.cpu.gateway, x.cpu.postgres, x.cpu.redis, x.cpu.bench, x.cpu.other].map((c) => fmt(c, 2)).join(' / ') : '–',
        r.backgroundCpu === undefined ? '–' : `${Math.round(r.backgroundCpu * 100)}%`,
      ];
    }),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** CPU ms per request by area, safe minus baseline: where the cost of safety goes. */
function profileDelta(safe: ProfileRun, base: ProfileRun): { area: string; safe: number; base: number }[] {
  if (!safe.summary || !base.summary || safe.requests === 0 || base.requests === 0) return [];
  const areas = new Set([...safe.summary.areas.map((a) => a.name), ...base.summary.areas.map((a) => a.name)]);
  const per = (run: ProfileRun, name: string) => (run.summary!.areas.find((a) => a.name === name)?.selfMs ?? 0) / run.requests;
  return [...areas]
    .map((area) => ({ area, safe: per(safe, area), base: per(base, area) }))
    .sort((a, b) => b.safe - b.base - (a.safe - a.base));
}

/** CPU ms and allocated KB per request by product frame, safe and baseline, largest CPU increase first. */
function frameDelta(safe: ProfileRun, base: ProfileRun) {
  if (!safe.summary || !base.summary) return [];
  const names = new Set([...safe.summary.productFrames.map((f) => f.name), ...base.summary.productFrames.map((f) => f.name)]);
  const cpu = (run: ProfileRun, name: string) => (run.summary!.productFrames.find((f) => f.name === name)?.selfMs ?? 0) / Math.max(1, run.requests);
  const kb = (run: ProfileRun, name: string) => (run.allocations?.productFrames.find((f) => f.name === name)?.bytesPerRequest ?? Number.NaN) / 1024;
  return [...names]
    .map((name) => ({ name, safe: cpu(safe, name), base: cpu(base, name), safeKb: kb(safe, name), baseKb: kb(base, name) }))
    .sort((a, b) => b.safe - b.base - (a.safe - a.base));
}

function findings(report: BenchReport): string[] {
  const out: string[] = [];
  const auth = report.authorization ?? [];
  const byTarget = (t: number) => auth.find((a) => a.target === t);
  const a10k = byTarget(10_000);
  const a100k = byTarget(100_000);
  const a1k = byTarget(1_000);
  if (a10k && a100k) {
    const loadGrowth = a100k.loadMs / Math.max(1, a10k.loadMs);
    const compileGrowth = a100k.coldCompileMs / Math.max(0.001, a10k.coldCompileMs);
    const loadLinear = loadGrowth < 20;
    out.push(
      `**Policy load ${loadLinear ? 'grows linearly' : 'grows faster than linearly'} with the number of Casbin lines** (\`policies/policy-store.ts\` ` +
        `\`KyselyCasbinAdapter.loadPolicy\`: the lines go into the model's \`p\` assertion in bulk, without casbin's per-line duplicate scan). ` +
        `Loading ${int(a10k.policyLines)} lines took ${int(a10k.loadMs)} ms, ${int(a100k.policyLines)} lines ${int(a100k.loadMs)} ms: ` +
        `${fmt(loadGrowth, 1)}× the time for ${fmt(a100k.policyLines / a10k.policyLines, 0)}× the lines. It runs on start and after every policy change.`,
    );
    out.push(
      `**A cold access plan reads only the lines that can match it** (\`policies/authorizer.ts\`: lines indexed by (duty, subject) on load; ` +
        'Casbin decides the plan on a scoped enforcer holding the street\'s and the duty\'s all-streets lines). ' +
        `First plan for (street:310101002, elderly-allowance): ${fmt(a1k?.coldCompileMs)} ms at ${int(a1k?.policyLines)} lines, ` +
        `${fmt(a10k.coldCompileMs)} ms at ${int(a10k.policyLines)}, ${fmt(a100k.coldCompileMs)} ms at ${int(a100k.policyLines)} ` +
        `(${fmt(compileGrowth, 1)}× for 10× the lines${compileGrowth < 3 ? ': flat, the size of the policy set no longer matters' : ''}); other streets: median ` +
        `${fmt(a100k.coldCompileOtherMedianMs)} ms, max ${fmt(a100k.coldCompileOtherMaxMs)} ms at ${int(a100k.policyLines)} lines. ` +
        'A warm plan is a Map hit.',
    );
  }
  const s1 = findRow(report, 'S1', 'safe', 'scenarios')?.result;
  const s1Base = findRow(report, 'S1', 'baseline', 'scenarios')?.result;
  const w1 = findRow(report, 'S1', 'safe', 'workers', (r) => r.workers === 1)?.result;
  const w2 = findRow(report, 'S1', 'safe', 'workers', (r) => r.workers === 2)?.result;
  if (w1?.cpu && w2?.cpu && w2.rps / w1.rps < 1.6) {
    const split = (x: LoadResult) =>
      `gateway ${fmt(x.cpu.gateway, 2)}, PostgreSQL ${fmt(x.cpu.postgres, 2)}, Redis ${fmt(x.cpu.redis, 2)}, load generator ${fmt(x.cpu.bench, 2)}, ` +
      `other work ${fmt(x.cpu.other, 2)} (total ${fmt(x.cpu.gateway + x.cpu.postgres + x.cpu.redis + x.cpu.bench + x.cpu.other, 2)} of ${report.machine.cores})`;
    out.push(
      `**Why a second worker gives ${fmt(w2.rps / w1.rps, 2)}× and not 2×** (no longer a target: bounded by this machine): the CPU cores each part used during the runs — ` +
        `1 worker: ${split(w1)}; 2 workers: ${split(w2)}. The gateway needs ${fmt((w1.cpu.gateway / w1.rps) * 1000, 2)} ms of CPU per request ` +
        `and PostgreSQL, Redis and the load generator another ${fmt(((w1.cpu.postgres + w1.cpu.redis + w1.cpu.bench) / w1.rps) * 1000, 2)} ms: ` +
        `on ${report.machine.cores} cores that caps the whole system near ${int((report.machine.cores * 1000) / (((w1.cpu.gateway + w1.cpu.postgres + w1.cpu.redis + w1.cpu.bench) / w1.rps) * 1000))} rps ` +
        'however many workers there are. A second worker only helps while one gateway process cannot use a full core; the target needs a ' +
        'machine where the database and the load generator do not share the gateway’s cores, or much less CPU per request.',
    );
  }
  const big = report.pushdownPlans?.find((p) => p.persons === 1_000_000);
  const small = report.pushdownPlans?.find((p) => p.persons === 10_000);
  if (big && small) {
    const removed = (p: { plan: readonly string[] }) => Number(/Rows Removed by Filter: (\d+)/.exec(p.plan.join('\n'))?.[1] ?? 0);
    const index = (p: { plan: readonly string[] }) => {
      const m = /(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+)|Bitmap Index Scan on (\S+)/.exec(p.plan.join('\n'));
      return m ? (m[1] ?? m[2]!) : 'no index (sequential scan)';
    };
    out.push(
      `**Pushdown holds: the source does the filtering and the limit.** S1's statement takes ${fmt(big.executionMs, 2)} ms in PostgreSQL at ` +
        `1,000,000 persons and ${fmt(small.executionMs, 2)} ms at 10,000 (EXPLAIN ANALYZE, whose own timing inflates both): the street, the grant's row ` +
        'condition, the projection and `limit 21` are all in the SQL, so the gateway never sees more than 21 rows. At 1M the planner uses ' +
        `\`${index(big)}\`${removed(big) > 0 ? ` and discards ${int(removed(big))} rows before it has 21` : ''}; ` +
        `at 10k \`${index(small)}\`${removed(small) > 0 ? ` (discarding ${int(removed(small))})` : ''}. The work depends on how dense ` +
        'the matching rows are in the index walked, not on the table size.',
    );
  }
  const safeProfile = report.profiles.find((p) => p.mode === 'safe');
  const baseProfile = report.profiles.find((p) => p.mode === 'baseline');
  if (s1 && s1Base && safeProfile?.summary && baseProfile?.summary) {
    const safeCpu = safeProfile.summary.busyMs / Math.max(1, safeProfile.requests);
    const baseCpu = baseProfile.summary.busyMs / Math.max(1, baseProfile.requests);
    const delta = profileDelta(safeProfile, baseProfile).filter((d) => d.safe - d.base > 0.01).slice(0, 6);
    const measured =
      s1.cpu && s1Base.cpu
        ? `Measured from /proc during the side-by-side S1 runs: the gateway used ${fmt((s1.cpu.gateway / s1.rps) * 1000, 2)} ms of CPU per request ` +
          `with everything on and ${fmt((s1Base.cpu.gateway / s1Base.rps) * 1000, 2)} ms as the baseline; PostgreSQL ` +
          `${fmt((s1.cpu.postgres / s1.rps) * 1000, 2)} vs ${fmt((s1Base.cpu.postgres / s1Base.rps) * 1000, 2)} ms (the audit inserts). `
        : '';
    out.push(
      `**Where S1’s extra cost goes.** ${measured}From the two CPU profiles (separate runs, not side by side, so their absolute figures ` +
        `move with the machine’s other work; the shares are what counts): everything on ${fmt(safeCpu, 2)} ms, baseline ${fmt(baseCpu, 2)} ms per request. Largest increases by area: ` +
        delta.map((d) => `${d.area} +${fmt(d.safe - d.base, 3)} ms`).join(', ') +
        '. On 2 cores shared with PostgreSQL, Redis and the load generator, gateway CPU per request sets the throughput.',
    );
    const frames = frameDelta(safeProfile, baseProfile)
      .filter((d) => d.name !== '(no product frame)' && d.safe - d.base > 0.02)
      .slice(0, 8);
    if (frames.length > 0) {
      out.push(
        '**Product functions that cost most on top of the baseline** (CPU per request charged to the innermost product frame, ' +
          'allocations from the allocation profile; see the profile tables): ' +
          frames
            .map((d) => `\`${d.name}\` +${fmt(d.safe - d.base, 3)} ms` + (Number.isNaN(d.safeKb) ? '' : ` (${fmt(d.safeKb, 1)} KB allocated)`))
            .join(', ') +
          `. Allocation per request: everything on ${fmt((safeProfile.allocations?.bytesPerRequest ?? Number.NaN) / 1024, 0)} KB, ` +
          `baseline ${fmt((baseProfile.allocations?.bytesPerRequest ?? Number.NaN) / 1024, 0)} KB; garbage collection ` +
          `${fmt((safeProfile.summary.areas.find((a) => a.name === '(garbage collector)')?.selfMs ?? 0) / Math.max(1, safeProfile.requests), 3)} vs ` +
          `${fmt((baseProfile.summary.areas.find((a) => a.name === '(garbage collector)')?.selfMs ?? 0) / Math.max(1, baseProfile.requests), 3)} ms per request.`,
      );
    }
    const armor = safeProfile.allocations?.productFrames.find((f) => f.name.startsWith('armorMeasure '));
    if (armor && armor.bytesPerRequest > 4096) {
      out.push(
        `**Operation limits re-validate every request** (product: \`gateway/limits/operation-limits.ts\` \`measureOperation\` → ` +
          '`armorMeasure`, called from `gateway/plugins/use-operation-limits.ts` `onExecute`): two full `graphql.validate()` passes ' +
          '(graphql-armor max-depth and max-aliases rules) per request, although yoga has already validated and cached the same ' +
          `document; ${fmt(armor.bytesPerRequest / 1024, 1)} KB allocated per request in \`armorMeasure\` alone. Depth and aliases ` +
          'depend on the document only: cache the measure per DocumentNode (a WeakMap; yoga hands the same cached document object ' +
          'to every request with the same text), keeping only the variable-dependent page sizes and cost per request.',
      );
    }
  }
  return out;
}

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const parts: string[] = [];
  parts.push('# Benchmarks');
  parts.push(
    'Written by `npm run bench` (`bench/run.ts`); every figure below comes from the run of ' +
      `${m.date}${report.quick ? ' — a **--quick smoke run**: short durations, fewer iterations; not the reference figures' : ''}` +
      `${report.only ? ` (only: ${report.only.join(', ')})` : ''}${report.peers ? ', with the reference servers of `../shared/peers`' : ''}. Run it again with \`npm run bench\` ` +
      '(`-- --peers` to run the reference servers too, `-- --only s1,micro` for parts, `-- --quick` for a smoke run; `BENCH_DATABASE_URL`, `BENCH_REDIS_URL`, `PEERS_DIR`). ' +
      'Ratios are meaningful within one run only: every row of a comparison ran on this machine, the same day, one after another.',
  );

  parts.push('## Machine');
  parts.push(
    table(
      ['', ''],
      [
        ['CPU', `${m.cpuModel}`],
        ['cores', String(m.cores)],
        ['memory', `${fmt(m.memoryGiB, 1)} GiB`],
        ['date (UTC, start of the run)', m.date],
        ['Node.js', m.node],
        ['PostgreSQL', m.postgres],
        ['Redis', m.redis],
        ['load average at start / end', `${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')} / ${m.loadAverageAtEnd?.map((x) => x.toFixed(2)).join(' ') ?? '–'}`],
        // A virtual machine's cores are shared with other tenants: time stolen is time no process here had.
        ['CPU time stolen by the hypervisor over the run (steal)', m.stolenShare === undefined ? '–' : `${(m.stolenShare * 100).toFixed(1)}% of the cores’ time`],
      ],
      ['l', 'l'],
    ),
  );
  parts.push(
    'Gateway, PostgreSQL, Redis and the load generator (autocannon, in the bench process) share these cores. ' +
      'Before each measured run the bench checks, with the gateway idle, how busy the machine is with other work ("machine busy before" below) and waits ' +
      `(2 minutes at most in all; this run waited ${Math.round(report.quietWaitSeconds ?? 0)} s) while it is above 25%. Where it stayed high, other work shared the cores and the figures are pessimistic.`,
  );

  parts.push('## Targets');
  parts.push(
    table(
      ['target', 'measured', 'verdict', 'gap'],
      targets(report).map((v) => [v.target, v.measured, verdictMark(v.met), v.gap ?? '']),
      ['l', 'l', 'l', 'l'],
    ),
  );
  parts.push(...besideSection(report));

  parts.push(...peersSection(report));
  parts.push(...openLoopSection(report));

  const found = findings(report);
  if (found.length > 0) {
    parts.push('## Findings');
    parts.push(found.map((f) => `- ${f}`).join('\n'));
  }

  const scenarioRows = report.http.filter((r) => r.group === 'scenarios');
  if (scenarioRows.length > 0) parts.push('## HTTP scenarios');
  if (scenarioRows.length > 0) parts.push(
    `${report.load.connections} clients (autocannon connections, keep-alive), ${report.load.warmupSeconds} s warm-up (discarded) then ` +
      `${report.load.durationSeconds} s measured. Latency percentiles over every response of the measured run. ` +
      '"Unexpected answers" are responses whose body is not what the scenario expects (checked on every response: a GraphQL error in a 200 counts). ' +
      'Peak RSS is VmHWM of the gateway process tree (primary + workers), reset before the warm-up.',
  );
  if (scenarioRows.length > 0) parts.push(httpTable(scenarioRows));
  const scenarios = report.http.filter((r) => r.group === 'scenarios' && r.mode === 'safe');
  if (scenarios.length > 0) parts.push(
    scenarios
      .map((r) => `- **${r.scenario}** ${r.title}. Expected: ${r.expectation}. Probe: ${r.probe ? (r.probe.ok ? 'as expected' : `NOT as expected (${r.probe.status}: \`${r.probe.body.slice(0, 200).replace(/`/g, "'")}\`)`) : '–'}.`)
      .join('\n'),
  );

  const ratios = (['S1', 'S2', 'S3'] as const)
    .map((id) => {
      const safe = findRow(report, id, 'safe', 'scenarios')?.result;
      const base = findRow(report, id, 'baseline', 'scenarios')?.result;
      const ms = (cores: number | undefined, rps: number) => (cores === undefined || rps <= 0 ? '–' : fmt((cores / rps) * 1000, 2));
      return safe && base
        ? [
            id,
            int(safe.rps),
            int(base.rps),
            `${fmt((safe.rps / base.rps) * 100)}%`,
            `${fmt(safe.p99 / base.p99, 2)}×`,
            `${ms(safe.cpu?.gateway, safe.rps)} / ${ms(base.cpu?.gateway, base.rps)}`,
            `${ms(safe.cpu?.postgres, safe.rps)} / ${ms(base.cpu?.postgres, base.rps)}`,
          ]
        : undefined;
    })
    .filter((r): r is string[] => !!r);
  if (ratios.length > 0) {
    parts.push('### Cost of safety');
    parts.push(
      'Same server with two pipeline stages replaced (`bench/baseline/baseline-main.ts`): authorization (with masking and the grants’ row conditions) and the audit ' +
        'trail off; everything else stays (authentication, the street scope, rate limits, operation limits, the deadline, schema privacy). Both gateways run at once and are measured side by side: ' +
        'after each one’s warm-up, the measured time is split into slices run in A B B A order, so other work on the machine weighs on both alike.',
    );
    parts.push(
      table(
        ['scenario', 'safe req/s', 'baseline req/s', 'safe / baseline', 'p99 safe / baseline', 'gateway CPU ms/request safe / baseline', 'PostgreSQL CPU ms/request safe / baseline'],
        ratios,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }

  parts.push(...admissionSection(report));

  const pushdown = report.http.filter((r) => r.group === 'pushdown');
  if (pushdown.length > 0) {
    parts.push('### Pushdown: S1 at 10,000 versus 1,000,000 persons');
    parts.push(
      'Same gateway configuration pointed at sources of each size (the store is the same), measured side by side (A B B A slices), ' +
        'at 32 clients and at 1 client (latency without queueing).',
    );
    parts.push(httpTable(pushdown));
    if (report.pushdownPlans?.length) {
      parts.push(
        'The statement the population connector sends for S1 (street scope and the grant’s `age >= 65` as `birth_date <= $2`, ' +
          'the projection, keyset order and `limit 21`, all in SQL), and PostgreSQL’s plan for it (EXPLAIN ANALYZE, warm cache):',
      );
      parts.push('```sql\n' + report.pushdownPlans[0]!.sql + '\n```');
      for (const p of report.pushdownPlans) {
        parts.push(`${int(p.persons)} persons: executes in ${fmt(p.executionMs, 2)} ms.\n\n\`\`\`\n${p.plan.join('\n')}\n\`\`\``);
      }
    }
  }

  const workers = report.http.filter((r) => r.group === 'workers');
  if (workers.length > 0 || !report.only || report.only.includes('workers')) parts.push('### Workers');
  if (workers.some((r) => r.result)) {
    parts.push(
      'S1, everything on, `WORKERS=1` and `WORKERS=2` (node:cluster, one audit chain per worker) side by side (A B B A slices; the ' +
        '2-worker gateway warms up twice as long, once per worker). Peak RSS sums the primary and its workers.',
    );
  }
  if (workers.length > 0) parts.push(httpTable(workers));
  else if (!report.only || report.only.includes('workers')) parts.push(report.workersImplemented ? 'Not run.' : 'WORKERS=2: *not run: WORKERS not implemented yet*.');

  if (report.authorization?.length || report.authorizationError) {
    parts.push('## Authorization (in-process)');
    parts.push(
      'Per operation, exactly what useAuthorization does per request: `authorizer.plan(org, purpose)` (cached plan) + ' +
        '`collectReads(schema, S1 document)` + `checkOperation(plan, reads)`, timed each iteration with `process.hrtime.bigint()`. ' +
        'Casbin lines come from the demo grants plus synthetic grants (10 duties × 3 datasets × blocks of 20 synthetic streets) ' +
        'created with PolicyStore in a scratch database; the authorizer is `CasbinAuthorizer.create` as in the gateway. ' +
        '"Load" is `CasbinAuthorizer.create` (reading and loading every line). "Cold compile" is the first `plan()` for ' +
        '(street:310101002, elderly-allowance); "other streets" are further cache misses for other organisations.',
    );
    if (report.authorizationError) parts.push(`Failed: ${report.authorizationError}`);
    if (report.authorization?.length) {
      parts.push(
        table(
          ['policy lines', 'grants', 'iterations', 'decisions/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'load ms', 'cold compile ms', 'other streets: median / max ms'],
          report.authorization.map((a) => [
            int(a.policyLines),
            int(a.grants),
            int(a.iterations),
            int(a.decisionsPerSecond),
            fmt(a.p50Us),
            fmt(a.p99Us),
            fmt(a.p999Us),
            int(a.maxUs),
            int(a.loadMs),
            fmt(a.coldCompileMs),
            `${fmt(a.coldCompileOtherMedianMs)} / ${fmt(a.coldCompileOtherMaxMs)} (${a.coldCompileSamples})`,
          ]),
        ),
      );
    }
  }

  if (report.audit || report.auditError || report.auditSm || report.auditSmError || report.auditTrail) {
    parts.push('## Audit');
    for (const a of [report.audit, report.auditSm]) {
      if (!a) continue;
      if (a === report.auditSm) parts.push('The same with `AUDIT_CRYPTO=sm`: SM3 hash chain, SM2-signed checkpoints.');
      else parts.push(
        'Durable ingest (`bench/audit-ingest.ts`): concurrent appenders each awaiting their own commit through one AuditLog ' +
          '(group commit, hash chain, signed checkpoints) into a scratch database on the same PostgreSQL server, then the whole chain verified.',
      );
      parts.push(
        table(
          ['events', 'concurrency', 'subjects/event', 'durable events/s', 'batches', 'mean batch', 'failed', 'verify ms', 'verified events/s', 'chain'],
          [[int(a.events), int(a.concurrency), String(a.subjectsPerEvent ?? '–'), int(a.eventsPerSecond), int(a.batches), int(a.meanBatch), int(a.failed), int(a.verifyMs), int(a.verifiedPerSecond), a.intact ? 'intact' : 'NOT intact']],
        ),
      );
    }
    if (report.auditError) parts.push(`Audit ingest failed: ${report.auditError}`);
    if (report.auditSmError) parts.push(`Audit ingest with AUDIT_CRYPTO=sm failed: ${report.auditSmError}`);
    if (report.auditTrail) {
      parts.push(
        `S5 paged over the bench store's trail of ${int(report.auditTrail.events)} events` +
          (report.auditTrail.prefilled > 0
            ? ` (${int(report.auditTrail.prefilled)} of them pre-filled in this run through AuditLog.append in big concurrent batches, ${fmt(report.auditTrail.prefillSeconds)} s).`
            : ' (pre-filled once through AuditLog.append in big concurrent batches by an earlier run; every scenario request adds its own).'),
      );
    }
  }

  parts.push(...auditScaleMarkdown(report.auditScale));
  if (report.profiles.length > 0) {
    parts.push('## Profiles (S1, gateway main thread)');
    parts.push(
      'Separate runs of S1 with the profilers on (their throughput is lower and not used above), 1 worker. CPU: `node --cpu-prof`, ' +
        'only the samples of the measured run (start-up and warm-up cut off by timestamp), self time, shares of the busy (non-idle) time. ' +
        '"Product frame" charges each sample to the innermost function of this project on its stack, so a product function’s figure ' +
        'includes the library code it calls. Allocations: a second, shorter run in the same process with V8’s sampling heap profiler ' +
        '(`bench/alloc-profiler.ts`, objects already collected included): bytes allocated per request, which is what the garbage collector pays for.',
    );
    for (const p of report.profiles) {
      parts.push(`### ${p.label}`);
      if (!p.summary) {
        parts.push(`No CPU profile: ${p.error ?? 'unknown'}`);
      } else {
        const per = Math.max(1, p.requests);
        parts.push(
          `${int(p.requests)} requests; busy ${fmt(p.summary.busyMs / 1000)} s of ${fmt(p.summary.totalMs / 1000)} s profiled; ` +
            `CPU per request ${fmt(p.summary.busyMs / per, 2)} ms` +
            (p.allocations ? `; ${fmt(p.allocations.bytesPerRequest / 1024, 0)} KB allocated per request.` : '.'),
        );
        parts.push(table(['area', 'self ms', 'share', 'ms/request'], p.summary.areas.slice(0, 12).map((a) => [a.name, int(a.selfMs), `${fmt(a.share * 100)}%`, fmt(a.selfMs / per, 3)]), ['l', 'r', 'r', 'r']));
        parts.push(table(['top functions by self time', 'self ms', 'share'], p.summary.functions.map((f) => [`\`${f.name}\``, int(f.selfMs), `${fmt(f.share * 100)}%`]), ['l', 'r', 'r']));
        parts.push(table(['product frame', 'ms/request', 'share'], p.summary.productFrames.slice(0, 12).map((f) => [`\`${f.name}\``, fmt(f.selfMs / per, 3), `${fmt(f.share * 100)}%`]), ['l', 'r', 'r']));
      }
      if (p.allocations) {
        parts.push(table(['allocations by product frame', 'KB/request'], p.allocations.productFrames.slice(0, 10).map((f) => [`\`${f.name}\``, fmt(f.bytesPerRequest / 1024, 1)]), ['l', 'r']));
        parts.push(table(['top allocating functions', 'KB/request'], p.allocations.functions.slice(0, 10).map((f) => [`\`${f.name}\``, fmt(f.bytesPerRequest / 1024, 1)]), ['l', 'r']));
      }
    }
    const safe = report.profiles.find((p) => p.mode === 'safe');
    const base = report.profiles.find((p) => p.mode === 'baseline');
    if (safe && base) {
      const delta = profileDelta(safe, base).slice(0, 12);
      if (delta.length > 0) {
        parts.push('### CPU per request by area: everything on versus baseline');
        parts.push(table(['area', 'safe ms/request', 'baseline ms/request', 'difference'], delta.map((d) => [d.area, fmt(d.safe, 3), fmt(d.base, 3), fmt(d.safe - d.base, 3)]), ['l', 'r', 'r', 'r']));
      }
      const frames = frameDelta(safe, base).slice(0, 12);
      if (frames.length > 0) {
        parts.push('### CPU and allocation per request by product frame: everything on versus baseline');
        parts.push(
          table(
            ['product frame', 'safe ms/request', 'baseline ms/request', 'difference ms', 'safe KB/request', 'baseline KB/request'],
            frames.map((d) => [`\`${d.name}\``, fmt(d.safe, 3), fmt(d.base, 3), fmt(d.safe - d.base, 3), fmt(d.safeKb, 1), fmt(d.baseKb, 1)]),
            ['l', 'r', 'r', 'r', 'r', 'r'],
          ),
        );
      }
    }
  }

  parts.push('## Method');
  parts.push(
    [
      `- Sources: the deterministic synthetic data (\`connectors/demo/seed-sources.ts\`) in real PostgreSQL, ${report.seeding.map((s) => `${s.database}: ${int(s.persons)} persons${s.seconds > 0 ? ` (seeded in this run, ${fmt(s.seconds)} s)` : ''}`).join('; ')}; houses and social-security accounts with them. The gateway store (policies, audit) is the first database.`,
      '- The gateway runs as `node --import tsx gateway/main.ts` (what `npx tsx gateway/main.ts` runs) with DATABASE_URL, POPULATION_/HOUSING_/SOCIAL_SECURITY_DATABASE_URL (the in-process demo social-security HTTP service), JWT_SECRET, audit key files provisioned by the bench, REDIS_URL, LOG_LEVEL=warn; ready when `GET /readyz` answers 200.',
      `- Rate limits stay on (Redis-backed counters are part of every request) but with ceilings the bench cannot reach (\`RATE_LIMITS=${report.rateLimits}\`): 32 clients of one street at full speed are far above what the default limits allow one street, and a 429 would measure the limiter, not the gateway.`,
      '- Tokens: 32 users per scenario (distinct `sub`s), rotated across requests; S1/S4 for `street:310101002` (`street_staff`), S5 for `office:security` (`auditor`).',
      '- S2 rotates over persons of street 310101002 living in a house of that street and holding an account (read from the source tables directly), under `minimum-living-assistance`; S3 over owned or rented houses of the street with residents, under `rental-registration`.',
      '- Everything on = every plugin of `gateway/pipeline/pipeline.ts` (telemetry, authentication, rate limit, CSRF, body limit, audit, token and operation limits, deadline, schema privacy, authorization). The baseline (`bench/baseline/baseline-main.ts`, through the pipeline\'s `stages` seam; no setting of the product can do it) is the same list with exactly what the issue prices switched off: authorization with masking and the grants\' row conditions (an open plan: every field, the caller\'s street only) and the audit trail.',
      `- Source databases get \`random_page_cost = ${SOURCE_RANDOM_PAGE_COST}\` (\`ALTER DATABASE\`; PostgreSQL's default is 4), the usual setting for a working set in memory: with 4 the planner walks the primary key for S1 and discards ~3,000 rows of other streets and ages per page (0.74 ms per query) instead of the street's own index (0.24 ms). The same for the baseline and for every scenario.`,
    ].join('\n'),
  );
  if (report.notes.length > 0) parts.push(report.notes.map((n) => `- ${n}`).join('\n'));

  parts.push('## Runtime');
  parts.push(
    `Whole bench: ${fmt(report.totalSeconds / 60, 1)} min — ` + report.phases.map((p) => `${p.name} ${Math.round(p.seconds)} s`).join(', ') + '.',
  );
  return `${parts.join('\n\n')}\n`;
}

export function writeMarkdown(report: BenchReport, file: string): void {
  fs.writeFileSync(file, markdown(report));
}
