/**
 * The gateway under test, in its own process(es): spawned as `node --import tsx gateway/main.ts`
 * (or bench/baseline/baseline-main.ts for the baseline)
 * (what `npx tsx gateway/main.ts` runs, minus the npx and tsx launcher processes, so that the pid
 * we hold is the gateway's and node flags such as `--cpu-prof` reach it), ready once `GET /readyz`
 * answers 200, measured through /proc (peak RSS = VmHWM summed over the process tree: the primary
 * and, with WORKERS=N, its cluster workers), stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface GatewayOptions {
  /** Shown in logs and errors. */
  readonly label: string;
  /** The gateway's whole environment apart from PATH/HOME (nothing else leaks in from the bench's own). */
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** The program: the product's gateway, or the benchmark's baseline (bench/baseline/baseline-main.ts). Default `gateway`. */
  readonly program?: 'gateway' | 'baseline';
  readonly readyTimeoutMs?: number;
}

export interface GatewayProcess {
  readonly label: string;
  /** `http://127.0.0.1:PORT` */
  readonly baseUrl: string;
  readonly pid: number;
  /** The spawned process and all its descendants (cluster workers). */
  pids(): number[];
  /** Resets the kernel's peak-RSS counter of every process of the tree (`clear_refs` 5). */
  resetPeakRss(): void;
  /** Sum of VmHWM over the tree, bytes. */
  peakRss(): number;
  /** Sum of VmRSS over the tree, bytes. */
  currentRss(): number;
  /** Last lines the gateway wrote to stderr/stdout. */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** pid → ppid for every process visible in /proc. */
function processParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may contain spaces and parentheses: the fields after the last ')' are fixed.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(rest[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  return parents;
}

export function processTree(root: number): number[] {
  const parents = processParents();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree.filter((pid) => fs.existsSync(`/proc/${pid}`));
}

function statusKb(pid: number, key: string): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  const port = Number(options.env.PORT ?? 0) || (await freePort());
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    ...options.env,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const entry = options.program === 'baseline' ? 'bench/baseline/baseline-main.ts' : 'gateway/main.ts';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), entry], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const pid = child.pid!;

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (exited) {
      throw new Error(`gateway ${options.label} exited before it was ready (code ${exited.code}, signal ${exited.signal}):\n${output}`);
    }
    try {
      // Ready: /readyz says so, and the process announced that it (or, with WORKERS=N, every
      // worker) listens.
      if (/listening on/.test(output)) {
        const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.status === 200) break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway ${options.label} was not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const pids = () => (exited ? [] : processTree(pid));
  return {
    label: options.label,
    baseUrl,
    pid,
    pids,
    resetPeakRss() {
      for (const p of pids()) {
        try {
          fs.writeFileSync(`/proc/${p}/clear_refs`, '5');
        } catch {
          // not permitted here: the peak then covers the process's whole life
        }
      }
    },
    peakRss: () => pids().reduce((sum, p) => sum + statusKb(p, 'VmHWM') * 1024, 0),
    currentRss: () => pids().reduce((sum, p) => sum + statusKb(p, 'VmRSS') * 1024, 0),
    output: () => output,
    async stop() {
      if (exited) return;
      const tree = pids();
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }, 20_000);
      await exit;
      clearTimeout(timer);
      // Cluster workers leave with their primary; wait until none of the tree is left.
      const until = Date.now() + 10_000;
      while (tree.some((p) => fs.existsSync(`/proc/${p}`)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Where the machine's CPU goes during a run.

export interface CpuSnapshot {
  /** Clock ticks (USER_HZ) of every process, with the group it belongs to. */
  readonly processes: ReadonlyMap<number, { readonly ticks: number; readonly group: 'gateway' | 'postgres' | 'redis' | 'bench' | 'other' }>;
  /** All CPUs, busy and total, from /proc/stat. */
  readonly busy: number;
  readonly total: number;
  readonly at: number;
}

function processTicks(pid: number): { ticks: number; comm: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const rest = stat.slice(close + 2).split(' ');
    return { ticks: Number(rest[11]) + Number(rest[12]), comm };
  } catch {
    return undefined;
  }
}

/** Which databases' PostgreSQL backends count as "PostgreSQL" (the rest is other work). Default: all. */
let ownDatabase: (name: string) => boolean = () => true;

/**
 * Narrows the PostgreSQL group to the backends of the databases under test (and the server's own
 * background processes), so that another job's queries on the same server count as other work.
 */
export function countPostgresOf(predicate: (database: string) => boolean): void {
  ownDatabase = predicate;
}

/** The database a backend serves, from its title (`postgres: 15/main: user db host(port) state`). */
function backendDatabase(pid: number): string | undefined {
  try {
    const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return /^postgres: [^:]+: \S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title)?.[1];
  } catch {
    return undefined;
  }
}

/** A backend of another database is other work; background processes (no database) are PostgreSQL's. */
function postgresGroup(pid: number, own: (database: string) => boolean): 'postgres' | 'other' {
  const database = backendDatabase(pid);
  return database === undefined || own(database) ? 'postgres' : 'other';
}

/** CPU ticks of every process (grouped: the gateway tree, PostgreSQL, Redis, this process) and of the machine. */
export function cpuSnapshot(gatewayPids: readonly number[], own: (database: string) => boolean = ownDatabase): CpuSnapshot {
  const gatewaySet = new Set(gatewayPids);
  const processes = new Map<number, { ticks: number; group: 'gateway' | 'postgres' | 'redis' | 'bench' | 'other' }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const t = processTicks(pid);
    if (!t) continue;
    const group = gatewaySet.has(pid)
      ? 'gateway'
      : pid === process.pid
        ? 'bench'
        : t.comm === 'postgres'
          ? postgresGroup(pid, own)
          : t.comm.startsWith('redis-server')
            ? 'redis'
            : 'other';
    processes.set(pid, { ticks: t.ticks, group });
  }
  const values = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { processes, busy: total - idle, total, at: performance.now() };
}

/**
 * Average cores used by each group between two snapshots. Per process: its ticks at the end minus
 * at the start (a process that started meanwhile counts in full; one that ended is lost, which is
 * why "other" is what the machine was busy with beyond the named groups).
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { gateway: number; postgres: number; redis: number; bench: number; other: number } {
  const seconds = (b.at - a.at) / 1000;
  const hz = 100; // USER_HZ on Linux
  const sums = { gateway: 0, postgres: 0, redis: 0, bench: 0, other: 0 };
  for (const [pid, now] of b.processes) {
    const before = a.processes.get(pid);
    sums[now.group] += Math.max(0, now.ticks - (before?.ticks ?? 0));
  }
  const cores = (ticks: number) => (seconds > 0 ? ticks / hz / seconds : 0);
  const gateway = cores(sums.gateway);
  const postgres = cores(sums.postgres);
  const redis = cores(sums.redis);
  const bench = cores(sums.bench);
  const busy = cores(b.busy - a.busy);
  return { gateway, postgres, redis, bench, other: Math.max(0, busy - gateway - postgres - redis - bench) };
}
