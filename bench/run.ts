/**
 * `npm run bench`: the benchmark suite (issue 6). Real PostgreSQL and Redis; the gateway in its own
 * process(es), the load from this one; prints a table and writes BENCHMARKS.md.
 *
 *   npm run bench                          # everything (~10 min after the one-time seeding)
 *   npm run bench -- --quick               # smoke run: short durations, small sizes
 *   npm run bench -- --only s1,baseline    # parts: see PARTS below
 *   npm run bench -- --peers               # also the reference servers of ../shared/peers (part `peers`)
 *   npm run bench -- --out /tmp/b.md       # write the report elsewhere
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/lianqiao_bench; a second
 * database `<name>_10k` is used for the pushdown comparison, scratch ones for the micro-benchmarks),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379), PEERS_DIR (default ../shared/peers beside the
 * project), PEERS_SERVERS (default: bench.sh's own list; it also offers yoga-node22, bare-node22),
 * BENCH_REPORT_JSON (also write the raw report there).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../gateway/config.ts';
import { loadAuditKeys } from '../audit/audit-keys.ts';
import {
  DEFAULT_BENCH_DATABASE_URL,
  DEFAULT_BENCH_REDIS_URL,
  databaseName,
  explainS1,
  pickScenarioIds,
  postgresVersion,
  prepareDatabase,
  withDatabase,
} from './databases.ts';
import { countPostgresOf, PROJECT_ROOT, startGateway, type GatewayProcess } from './gateway-process.ts';
import {
  baselineExpectation,
  buildScenarios,
  CLERK_STREET,
  probe,
  runPaired,
  runScenario,
  type LoadOptions,
  type LoadResult,
  type Scenario,
  type ScenarioId,
} from './scenarios.ts';
import { prefillAudit } from './audit-prefill.ts';
import { runAuditScale } from './audit-scale-report.ts';
import { runPeers } from './peers.ts';
import { prepareAdmissionStore, withdrawalOnTwoInstances, type AdmissionScaleResult } from './admission-scale.ts';
import { besideLoad } from './beside-load.ts';
import { runAuthorizationMicro } from './micro-authorization.ts';
import { mainProfile, summarizeAllocations, summarizeProfile, waitForFile } from './profile.ts';
import { printTable, writeMarkdown, type AuditIngestResult, type BenchReport, type HttpRow, type MachineInfo, type ProfileRun } from './report.ts';

/**
 * The parts, in the order they run. `peers` runs only when asked (`--peers` or `--only peers`): it
 * needs the reference servers set up beside the project.
 */
const PARTS = ['s1', 's2', 's3', 's4', 's5', 'baseline', 'peers', 'openloop', 'pushdown', 'workers', 'admission', 'profile', 'micro', 'audit', 'audit10m'] as const;
type Part = (typeof PARTS)[number];
/** Parts that load a gateway over HTTP (the big sources must be seeded first). */
const HTTP_PARTS: readonly Part[] = ['s1', 's2', 's3', 's4', 's5', 'baseline', 'peers', 'openloop', 'pushdown', 'workers', 'admission', 'profile'];
/** Open-loop load of the latency target: requests per second over all clients. */
const OPEN_LOOP_RATE = 300;

/** Ceilings no bench run reaches: the limiter still counts every request (see BENCHMARKS.md, Method). */
const BENCH_RATE_LIMITS = 'street_staff=1000000/min,auditor=1000000/min,org=10000000/min';

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function parseOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'npm run bench [-- --quick] [--peers] [--only <parts>] [--out <file>]\n' +
        `  parts: ${PARTS.join(', ')} (peers only with --peers or --only peers)\n` +
        '  the baseline runs bench/baseline/baseline-main.ts (open access, no audit) beside the gateway\n' +
        '  --peers also runs ../shared/peers/bench.sh (PostGraphile + RLS, yoga, bare node) with the same load\n' +
        '  env: BENCH_DATABASE_URL, BENCH_REDIS_URL, PEERS_DIR, PEERS_SERVERS\n',
    );
    process.exit(0);
  }
  let only: Part[] | null = null;
  if (values.only) {
    only = [];
    for (const raw of values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
      if (!(PARTS as readonly string[]).includes(raw)) throw new Error(`--only: unknown part "${raw}" (expected ${PARTS.join(', ')})`);
      only.push(raw as Part);
    }
  }
  return { only, quick: values.quick ?? false, peers: values.peers ?? false, out: values.out ?? path.join(PROJECT_ROOT, 'BENCHMARKS.md') };
}

async function machineInfo(databaseUrl: string, redisUrl: string): Promise<MachineInfo> {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    postgres: await postgresVersion(databaseUrl),
    redis: redisVersion,
    loadAverageAtStart: os.loadavg(),
    cpuTimesAtStart: machineCpuTimes(),
  };
}

/** The machine's CPU time so far (/proc/stat, all cores, ticks): in all, and stolen by the hypervisor. */
function machineCpuTimes(): { total: number; steal: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[7] ?? 0 };
  } catch {
    return undefined;
  }
}

function workersImplemented(): boolean {
  const config = fs.readFileSync(path.join(PROJECT_ROOT, 'gateway/config.ts'), 'utf8');
  // The process runner (gateway/main.ts calls it) is where WORKERS=N starts the cluster.
  const main = fs.readFileSync(path.join(PROJECT_ROOT, 'gateway/run-gateway.ts'), 'utf8');
  return /['"]WORKERS['"]/.test(config) && /workers/i.test(main);
}

function cpuTimes(): { idle: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { idle, total: values.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** Share of the machine's CPU busy over `ms` (0..1). */
async function cpuBusy(ms: number): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
}

/**
 * Before a measurement, with the gateway idle: how busy is the machine with other work? Waits
 * (within a budget shared by the whole bench) while it is busier than 25%.
 */
function quietGate(budgetMs: number) {
  let left = budgetMs;
  let waited = 0;
  return {
    async wait(): Promise<number> {
      let busy = await cpuBusy(1000);
      while (busy > 0.25 && left > 0) {
        const step = Math.min(5000, left);
        await new Promise((r) => setTimeout(r, step));
        left -= step;
        waited += step;
        busy = await cpuBusy(1000);
      }
      return busy;
    },
    get waitedSeconds() {
      return waited / 1000;
    },
  };
}

/** Runs bench/audit-ingest.ts in its own process and reads its JSON line. */
async function auditIngest(serverUrl: string, events: number, crypto: 'default' | 'sm' = 'default'): Promise<AuditIngestResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/audit-ingest.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, BENCH_DATABASE_URL: withDatabase(serverUrl, 'postgres'), BENCH_EVENTS: String(events), BENCH_AUDIT_CRYPTO: crypto },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`audit-ingest exited ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
      try {
        resolve(JSON.parse(line) as AuditIngestResult);
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = parseOptions();
  const want = (part: Part) =>
    part === 'peers' ? options.peers || !!options.only?.includes('peers') : !options.only || options.only.includes(part);
  const quick = options.quick;
  const load: LoadOptions = quick
    ? { connections: 32, durationSeconds: 3, warmupSeconds: 1 }
    : { connections: 32, durationSeconds: 10, warmupSeconds: 2 };
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
  const redisUrl = process.env.BENCH_REDIS_URL ?? DEFAULT_BENCH_REDIS_URL;
  const smallUrl = withDatabase(databaseUrl, `${databaseName(databaseUrl)}_10k`);
  // PostgreSQL's CPU: the backends of the bench's own databases (and the server's background processes).
  const benchDatabases = new Set(['', '_10k', '_admission'].map((suffix) => `${databaseName(databaseUrl)}${suffix}`));
  countPostgresOf((database) => benchDatabases.has(database));

  const phases: { name: string; seconds: number }[] = [];
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    log(`— ${name}`);
    try {
      return await fn();
    } finally {
      phases.push({ name, seconds: (performance.now() - t0) / 1000 });
    }
  };

  const needsHttp = HTTP_PARTS.some(want);
  const seeding: BenchReport['seeding'] = [];
  // Seeding is outside the 10-minute budget of the bench itself (it happens once).
  if (needsHttp) {
    const seededStarted = performance.now();
    const big = await prepareDatabase(databaseUrl, 1_000_000, log);
    seeding.push({ database: databaseName(databaseUrl), persons: big.persons, seconds: big.seededSeconds });
    if (want('pushdown')) {
      const small = await prepareDatabase(smallUrl, 10_000, log);
      seeding.push({ database: databaseName(smallUrl), persons: small.persons, seconds: small.seededSeconds });
    }
    phases.push({ name: 'prepare databases', seconds: (performance.now() - seededStarted) / 1000 });
  }
  const machine = await machineInfo(needsHttp ? databaseUrl : withDatabase(databaseUrl, 'postgres'), redisUrl);

  // Keys: provisioned once under the temp directory and kept, so the bench store's audit chains
  // stay verifiable from one run to the next. Per run: a fresh DATA_DIR and token secret.
  const keyDir = path.join(os.tmpdir(), 'lianqiao-bench', 'keys');
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-bench-data-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-bench-prof-'));
  const secret = crypto.randomBytes(48).toString('base64url');
  const gatewayEnv = (sourcesUrl: string, extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: databaseUrl,
    POPULATION_DATABASE_URL: sourcesUrl,
    HOUSING_DATABASE_URL: sourcesUrl,
    SOCIAL_SECURITY_DATABASE_URL: sourcesUrl,
    JWT_SECRET: secret,
    AUDIT_SIGNING_KEY: path.join(keyDir, 'audit-signing-key.pem'),
    AUDIT_SUBJECT_KEY: path.join(keyDir, 'audit-subject-key'),
    DATA_DIR: dataDir,
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    RATE_LIMITS: BENCH_RATE_LIMITS,
    ...extra,
  });
  const keys = loadAuditKeys(loadConfig(gatewayEnv(databaseUrl)), { create: true });

  const report: BenchReport = {
    machine,
    quick,
    only: options.only,
    load,
    http: [],
    profiles: [],
    workersImplemented: workersImplemented(),
    rateLimits: BENCH_RATE_LIMITS,
    seeding,
    phases,
    totalSeconds: 0,
    notes: [],
    beside: [{ at: 'start', processes: await besideLoad() }],
  };

  // Other work on the machine skews every figure: wait for it (2 minutes at most in all).
  const quiet = quietGate(quick ? 10_000 : 120_000);
  const running: GatewayProcess[] = [];
  const gateway = async (label: string, env: Record<string, string>, nodeArgs: string[] = [], program: 'gateway' | 'baseline' = 'gateway') => {
    const g = await startGateway({ label, env, nodeArgs, program });
    running.push(g);
    return g;
  };
  const stop = async (g: GatewayProcess) => {
    await g.stop();
    running.splice(running.indexOf(g), 1);
  };
  const cleanup = async () => {
    for (const g of [...running]) await g.stop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });

  try {
    let scenarios: Record<ScenarioId, Scenario> | undefined;
    if (needsHttp) {
      if (want('s5')) {
        const target = quick ? 20_000 : 1_000_000;
        const prefill = await phase('pre-fill audit trail', () => prefillAudit(databaseUrl, keys, target, log));
        report.auditTrail = { events: prefill.after, prefilled: prefill.appended, prefillSeconds: prefill.seconds };
      }
      const ids = await pickScenarioIds(databaseUrl, CLERK_STREET, 500);
      scenarios = await buildScenarios({ secret, personIds: ids.personIds, houseIds: ids.houseIds, users: load.connections });
    }

    type RowInfo = Omit<HttpRow, 'probe' | 'result' | 'scenario' | 'title' | 'expectation' | 'backgroundCpu'>;
    const describe = (result: LoadResult, row: RowInfo, background: number) =>
      log(
        `  ${result.scenario} ${row.mode} ${row.persons.toLocaleString('en')} persons ${row.workers}w ${result.connections}c: ` +
          `${Math.round(result.rps)} rps, p50 ${result.p50.toFixed(1)} p95 ${result.p95.toFixed(1)} p99 ${result.p99.toFixed(1)} ms, ` +
          `errors ${result.transportErrors}/${result.non2xx}/${result.unexpected}, peak RSS ${Math.round(result.peakRss / 2 ** 20)} MB, ` +
          `machine ${Math.round(background * 100)}% busy before` +
          (result.firstUnexpected ? `\n    first unexpected: ${result.firstUnexpected}` : ''),
      );
    const checkFirst = async (g: GatewayProcess, scenario: Scenario, row: RowInfo) => {
      const checked = await probe(g, scenario);
      if (!checked.ok) log(`  ${scenario.id} (${row.mode}) probe NOT as expected: ${checked.status} ${checked.body.slice(0, 300)}`);
      return checked;
    };
    /** One configuration on its own. */
    const measure = async (g: GatewayProcess, scenario: Scenario, row: RowInfo, loadOptions: LoadOptions = load): Promise<void> => {
      const background = await quiet.wait();
      const checked = await checkFirst(g, scenario, row);
      const result = await runScenario(g, scenario, loadOptions, row.workers);
      describe(result, row, background);
      report.http.push({ ...row, scenario: scenario.id, title: scenario.title, expectation: scenario.expectation, probe: checked, result, backgroundCpu: background });
    };
    /** Configurations side by side (A B B A slices), for fair ratios on a machine shared with other work. */
    const measurePaired = async (
      entries: { g: GatewayProcess; scenario: Scenario; row: RowInfo }[],
      loadOptions: LoadOptions = load,
    ): Promise<void> => {
      const background = await quiet.wait();
      const checks: Awaited<ReturnType<typeof probe>>[] = [];
      for (const e of entries) checks.push(await checkFirst(e.g, e.scenario, e.row));
      const results = await runPaired(
        entries.map((e) => ({ gateway: e.g, scenario: e.scenario, workers: e.row.workers })),
        loadOptions,
      );
      entries.forEach((e, i) => {
        describe(results[i]!, e.row, background);
        report.http.push({
          ...e.row,
          scenario: e.scenario.id,
          title: e.scenario.title,
          expectation: e.scenario.expectation,
          probe: checks[i],
          result: results[i],
          backgroundCpu: background,
        });
      });
    };

    const safeIds = (['S1', 'S2', 'S3', 'S4', 'S5'] as const).filter((id) => want(id.toLowerCase() as Part));
    const needsSafe1M = safeIds.length > 0 || ['baseline', 'peers', 'openloop', 'pushdown', 'workers'].some((p) => want(p as Part));
    if (scenarios && needsSafe1M) {
      const safe = await gateway('safe-1M', gatewayEnv(databaseUrl));
      try {
        const safeRow = (group: HttpRow['group']): RowInfo => ({ mode: 'safe', persons: 1_000_000, workers: 1, group });
        await phase('scenarios, 1 worker, 1M persons: everything on (and the baseline side by side)', async () => {
          const baseline = want('baseline') || want('peers') ? await gateway('baseline-1M', gatewayEnv(databaseUrl), [], 'baseline') : undefined;
          try {
            for (const id of safeIds) {
              if (baseline && (id === 'S1' || id === 'S2' || id === 'S3')) {
                await measurePaired([
                  { g: safe, scenario: scenarios![id], row: safeRow('scenarios') },
                  { g: baseline, scenario: baselineExpectation(scenarios![id]), row: { mode: 'baseline', persons: 1_000_000, workers: 1, group: 'scenarios' } },
                ]);
              } else {
                await measure(safe, scenarios![id], safeRow('scenarios'));
              }
            }
            if (baseline && want('peers')) {
              // The peers' request shape, everything on and baseline side by side (the peers run later, alone).
              await measurePaired([
                { g: safe, scenario: scenarios!.S1P, row: safeRow('peers') },
                { g: baseline, scenario: baselineExpectation(scenarios!.S1P), row: { mode: 'baseline', persons: 1_000_000, workers: 1, group: 'peers' } },
              ]);
            }
            if (baseline && want('baseline')) {
              for (const id of (['S1', 'S2', 'S3'] as const).filter((x) => !safeIds.includes(x))) {
                await measure(baseline, baselineExpectation(scenarios![id]), { mode: 'baseline', persons: 1_000_000, workers: 1, group: 'scenarios' });
              }
            }
          } finally {
            if (baseline) await stop(baseline);
          }
        });

        if (want('openloop')) {
          await phase(`open loop: S1 at ${OPEN_LOOP_RATE} req/s`, async () => {
            // Evenly spaced arrivals (the target's row), then autocannon's per-second budget for comparison.
            await measure(
              safe,
              scenarios!.S1,
              { ...safeRow('openloop'), rate: OPEN_LOOP_RATE, label: 'paced' },
              { ...load, overallRate: OPEN_LOOP_RATE, paced: true },
            );
            await measure(
              safe,
              scenarios!.S1,
              { ...safeRow('openloop'), rate: OPEN_LOOP_RATE, label: 'autocannon overallRate' },
              { ...load, overallRate: OPEN_LOOP_RATE },
            );
          });
        }

        if (want('pushdown')) {
          await phase('pushdown: S1 at 10k versus 1M persons', async () => {
            report.pushdownPlans = [
              { persons: 1_000_000, ...(await explainS1(databaseUrl, CLERK_STREET)) },
              { persons: 10_000, ...(await explainS1(smallUrl, CLERK_STREET)) },
            ];
            const small = await gateway('safe-10k', gatewayEnv(smallUrl));
            try {
              const smallRow: RowInfo = { mode: 'safe', persons: 10_000, workers: 1, group: 'pushdown' };
              for (const connections of [load.connections, 1]) {
                await measurePaired(
                  [
                    { g: safe, scenario: scenarios!.S1, row: safeRow('pushdown') },
                    { g: small, scenario: scenarios!.S1, row: smallRow },
                  ],
                  { ...load, connections },
                );
              }
            } finally {
              await stop(small);
            }
          });
        }

        if (want('workers')) {
          if (report.workersImplemented) {
            await phase('workers: S1 with 1 and 2 workers', async () => {
              const two = await gateway('safe-1M-2w', gatewayEnv(databaseUrl, { WORKERS: '2' }));
              try {
                log(`  2-worker gateway: ${two.pids().length} processes (primary + workers)`);
                await measurePaired([
                  { g: safe, scenario: scenarios!.S1, row: safeRow('workers') },
                  { g: two, scenario: scenarios!.S1, row: { mode: 'safe', persons: 1_000_000, workers: 2, group: 'workers' } },
                ]);
              } finally {
                await stop(two);
              }
            });
          } else {
            report.http.push({
              scenario: 'S1',
              mode: 'safe',
              persons: 1_000_000,
              workers: 2,
              title: scenarios.S1.title,
              expectation: scenarios.S1.expectation,
              skipped: 'not run: WORKERS not implemented yet',
              group: 'workers',
            });
          }
        }
      } finally {
        await stop(safe);
      }
    }

    if (scenarios && want('admission')) {
      await phase('admission at scale: S1 against thousands of delegations and 100,000 grant lines; a withdrawal on two instances', async () => {
        const admissionUrl = withDatabase(databaseUrl, `${databaseName(databaseUrl)}_admission`);
        const store = await prepareAdmissionStore(admissionUrl, quick ? 10_000 : 100_000, log);
        const admission: AdmissionScaleResult = { store };
        report.admission = admission;
        const scaleEnv = { ...gatewayEnv(databaseUrl), DATABASE_URL: admissionUrl };
        const demo = await gateway('safe-1M-demo-store', gatewayEnv(databaseUrl));
        const scale = await gateway('safe-1M-admission-store', scaleEnv);
        try {
          const row = (label: string): RowInfo => ({ mode: 'safe', persons: 1_000_000, workers: 1, group: 'admission', label });
          await measurePaired([
            { g: demo, scenario: scenarios!.S1, row: row("the demo's policy set") },
            {
              g: scale,
              scenario: scenarios!.S1,
              row: row(`${store.delegations.toLocaleString('en')} delegations in force, ${store.policyLines.toLocaleString('en')} grant lines`),
            },
          ]);
          await stop(demo);
          // Instance B: a second gateway process on the same store and Redis.
          const b = await gateway('safe-1M-admission-store-B', scaleEnv);
          try {
            admission.withdrawal = await withdrawalOnTwoInstances({ url: admissionUrl, a: scale, b, secret, rounds: quick ? 3 : 20, log });
            const w = admission.withdrawal;
            log(`  withdrawal: B refused the next read in ${w.filter((r) => r.refusedNext).length}/${w.length} rounds`);
          } catch (error) {
            admission.withdrawalError = (error as Error).message;
            log(`  withdrawal on two instances failed: ${(error as Error).message}`);
          } finally {
            await stop(b);
          }
        } finally {
          if (running.includes(demo)) await stop(demo);
          await stop(scale);
        }
      });
    }

    if (want('peers')) {
      // After every gateway has stopped: each reference server runs alone, with the same load.
      await phase('peers: ../shared/peers/bench.sh, one server after another', async () => {
        const background = await quiet.wait();
        const servers = process.env.PEERS_SERVERS?.split(/[\s,]+/).filter(Boolean);
        report.peers = await runPeers({ ...load, street: CLERK_STREET, log, ...(servers?.length ? { servers } : {}) });
        report.peersBackgroundCpu = background;
        if (report.peers.error) log(`  peers: ${report.peers.error}`);
        for (const r of report.peers.results) {
          log(`  ${r.server}: ${Math.round(r.rps)} rps, p50 ${r.p50} p99 ${r.p99} ms, server CPU ${r.cpuMsPerRequest?.server.toFixed(2) ?? '–'} ms/request`);
        }
      });
    }

    if (scenarios && want('profile')) {
      await phase('profiles', async () => {
        for (const mode of ['safe', 'baseline'] as const) {
          const dir = path.join(profileDir, mode);
          fs.mkdirSync(dir, { recursive: true });
          const env = gatewayEnv(databaseUrl);
          const allocDir = path.join(dir, 'alloc');
          const g = await gateway(`profile-${mode}`, { ...env, ALLOC_PROFILE_DIR: allocDir }, [
            '--cpu-prof',
            `--cpu-prof-dir=${dir}`,
            '--import',
            './bench/alloc-profiler.ts',
          ], mode === 'baseline' ? 'baseline' : 'gateway');
          await quiet.wait();
          const run: { requests: number; window?: { fromUs: number; toUs: number }; allocRequests: number } = { requests: 0, allocRequests: 0 };
          let allocFile: string | undefined;
          try {
            const scenario = mode === 'safe' ? scenarios!.S1 : baselineExpectation(scenarios!.S1);
            // CPU profile: the measured run only (cut by timestamp).
            const result = await runScenario(g, scenario, load, 1);
            run.requests = result.requests;
            run.window = result.window;
            log(`  profiled S1 ${mode}: ${Math.round(result.rps)} rps (profiler on)`);
            // Then an allocation profile of a shorter run (SIGUSR2 starts and stops the sampling).
            process.kill(g.pid, 'SIGUSR2');
            const allocRun = await runScenario(g, scenario, { ...load, warmupSeconds: 0, durationSeconds: Math.max(2, Math.round(load.durationSeconds / 2)) }, 1);
            process.kill(g.pid, 'SIGUSR2');
            run.allocRequests = allocRun.requests;
            allocFile = await waitForFile(allocDir, 'alloc-', 10_000);
          } finally {
            await stop(g);
          }
          const file = mainProfile(dir);
          const label = `S1, ${mode === 'safe' ? 'everything on' : 'baseline'}`;
          const profile: ProfileRun = {
            label,
            mode,
            requests: run.requests,
            ...(file ? { summary: summarizeProfile(file, run.window) } : { error: 'the gateway wrote no .cpuprofile' }),
            ...(allocFile ? { allocations: summarizeAllocations(allocFile, run.allocRequests) } : {}),
          };
          report.profiles.push(profile);
        }
      });
    }

    if (want('micro')) {
      await phase('authorization micro-benchmark', async () => {
        await quiet.wait();
        try {
          report.authorization = await runAuthorizationMicro({
            baseUrl: databaseUrl,
            sizes: quick ? [1_000, 10_000] : [1_000, 10_000, 100_000],
            iterations: quick ? 20_000 : 200_000,
            log,
          });
        } catch (error) {
          report.authorizationError = (error as Error).message;
          log(`  authorization micro-benchmark failed: ${(error as Error).message}`);
        }
      });
    }

    if (want('audit')) {
      await phase('audit ingest', async () => {
        await quiet.wait();
        try {
          const result = await auditIngest(databaseUrl, quick ? 20_000 : 200_000);
          report.audit = result;
          log(`  ${result.eventsPerSecond} durable events/s, chain ${result.intact ? 'intact' : 'NOT intact'}`);
        } catch (error) {
          report.auditError = (error as Error).message;
          log(`  audit ingest failed: ${(error as Error).message}`);
        }
      });
      await phase('audit ingest (AUDIT_CRYPTO=sm)', async () => {
        await quiet.wait();
        try {
          const result = await auditIngest(databaseUrl, quick ? 20_000 : 200_000, 'sm');
          report.auditSm = result;
          log(`  ${result.eventsPerSecond} durable events/s with SM3 + SM2, chain ${result.intact ? 'intact' : 'NOT intact'}`);
        } catch (error) {
          report.auditSmError = (error as Error).message;
          log(`  audit ingest (sm) failed: ${(error as Error).message}`);
        }
      });
    }
    if (want('audit10m')) {
      await phase('audit at 10M events', async () => {
        await quiet.wait();
        report.auditScale = await runAuditScale(log);
      });
    }
  } finally {
    await cleanup();
  }

  report.machine.loadAverageAtEnd = os.loadavg();
  const cpuAtEnd = machineCpuTimes();
  const cpuAtStart = report.machine.cpuTimesAtStart;
  if (cpuAtStart && cpuAtEnd && cpuAtEnd.total > cpuAtStart.total) report.machine.stolenShare = (cpuAtEnd.steal - cpuAtStart.steal) / (cpuAtEnd.total - cpuAtStart.total);
  report.beside!.push({ at: 'end', processes: await besideLoad() });
  report.quietWaitSeconds = quiet.waitedSeconds;
  report.totalSeconds = (performance.now() - started) / 1000;
  printTable(report);
  writeMarkdown(report, options.out);
  // The raw figures, to read or to render again (`markdown(JSON.parse(...))`).
  if (process.env.BENCH_REPORT_JSON) fs.writeFileSync(process.env.BENCH_REPORT_JSON, JSON.stringify(report, null, 1));
  log(`wrote ${path.relative(process.cwd(), options.out) || options.out}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
