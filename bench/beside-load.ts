/**
 * What else runs on the machine beside the bench: every process that used a noticeable share of a
 * core over a short window (from /proc), with its command line shortened, so the report can say
 * what shared the cores with the load (on a 2-core machine, other work moves every figure).
 */
import fs from 'node:fs';

export interface BesideProcess {
  readonly pid: number;
  /** Command line, shortened; `comm` when the command line cannot be read. */
  readonly command: string;
  /** Share of one core over the window (1 = a whole core). */
  readonly cores: number;
}

function ticksOf(pid: string): { ticks: number; comm: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { ticks: Number(rest[11]) + Number(rest[12]), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

function allTicks(): Map<string, { ticks: number; comm: string }> {
  const map = new Map<string, { ticks: number; comm: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const t = ticksOf(entry);
    if (t) map.set(entry, t);
  }
  return map;
}

function command(pid: string, comm: string): string {
  try {
    const line = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const text = line || comm;
    return text.length > 110 ? `${text.slice(0, 107)}...` : text;
  } catch {
    return comm;
  }
}

/** Processes (other than this one) above `minCores` of a core over `ms`, busiest first. */
export async function besideLoad(ms = 2000, minCores = 0.03): Promise<BesideProcess[]> {
  const a = allTicks();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = allTicks();
  const seconds = (performance.now() - t0) / 1000;
  const out: BesideProcess[] = [];
  for (const [pid, now] of b) {
    if (Number(pid) === process.pid) continue;
    const cores = (now.ticks - (a.get(pid)?.ticks ?? now.ticks)) / 100 / seconds;
    if (cores >= minCores) out.push({ pid: Number(pid), command: command(pid, now.comm), cores });
  }
  return out.sort((x, y) => y.cores - x.cores).slice(0, 12);
}
