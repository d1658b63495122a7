/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and ranks self time by function and by area
 * (product directory, npm package, node internals, GC), idle time left out of the shares.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './gateway-process.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time, 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Wall time the profile covers, ms. */
  readonly totalMs: number;
  /** Time not idle, ms. */
  readonly busyMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly areas: readonly ProfileEntry[];
  /**
   * Self time charged to the innermost product function (a file of this project, outside
   * node_modules) on the sample's stack: what each of our functions costs including the library
   * code it calls. `(no product frame)`: the HTTP server, yoga, the executor between our code.
   */
  readonly productFrames: readonly ProfileEntry[];
}

function isProductUrl(url: string): boolean {
  if (!url || url.includes('/node_modules/')) return false;
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return file.startsWith(PROJECT_ROOT + path.sep) && !file.includes(`${path.sep}tests${path.sep}bench${path.sep}`);
}

function frameName(frame: ProfileNode['callFrame']): string {
  return `${frame.functionName || '(anonymous)'} ${location(frame.url)}`;
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

function location(url: string): string {
  if (!url) return '';
  let file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  if (file.startsWith(PROJECT_ROOT + path.sep)) file = file.slice(PROJECT_ROOT.length + 1);
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) file = file.slice(nm + 'node_modules/'.length);
  return file;
}

function area(url: string, functionName: string): string {
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(V8 builtins / native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (file.startsWith(PROJECT_ROOT + path.sep)) {
    const parts = file.slice(PROJECT_ROOT.length + 1).split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return file;
}

/**
 * @param window only samples taken in [from, to], in µs of CLOCK_MONOTONIC — the clock of V8's
 *   profile timestamps and of `process.hrtime` in any process of this machine — so that start-up
 *   (module loading, compiling TypeScript) stays out of a profile of the load.
 */
export function summarizeProfile(file: string, window?: { readonly fromUs: number; readonly toUs: number }, top = 15): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: it belongs to sample i - 1.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + Math.max(0, delta));
  }
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const product = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const productFrameOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame && isProductUrl(frame.url)) return frameName(frame);
    }
    return '(no product frame)';
  };
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (!SPECIAL.has(functionName)) {
      const owner = productFrameOf(id);
      product.set(owner, (product.get(owner) ?? 0) + us);
    }
    const name = SPECIAL.has(functionName) || !url ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${location(url)}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>, n: number): ProfileEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { file, totalMs: total / 1000, busyMs: busy / 1000, functions: rank(functions, top), areas: rank(areas, 40), productFrames: rank(product, 40) };
}

/** The main thread's profile among those `--cpu-prof` wrote into `dir` (the largest file). */
export function mainProfile(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  return files[0];
}

// ---------------------------------------------------------------------------------------------
// Allocation profiles (bench/alloc-profiler.ts): who allocates, objects later collected included.

interface HeapNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children?: HeapNode[];
}

export interface AllocationSummary {
  readonly file: string;
  /** Sampled bytes allocated per request. */
  readonly bytesPerRequest: number;
  /** Bytes per request by function and by area. */
  readonly functions: readonly { name: string; bytesPerRequest: number }[];
  readonly areas: readonly { name: string; bytesPerRequest: number }[];
  /** Bytes per request charged to the innermost product function on the allocation's stack. */
  readonly productFrames: readonly { name: string; bytesPerRequest: number }[];
}

export function summarizeAllocations(file: string, requests: number, top = 15): AllocationSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: HeapNode };
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const product = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, owner: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const here = isProductUrl(url) ? frameName(node.callFrame) : owner;
    if (node.selfSize > 0) {
      total += node.selfSize;
      product.set(here, (product.get(here) ?? 0) + node.selfSize);
      const name = url ? `${functionName || '(anonymous)'} ${location(url)}:${lineNumber + 1}` : functionName || '(native)';
      functions.set(name, (functions.get(name) ?? 0) + node.selfSize);
      const a = url ? area(url, functionName) : '(V8 builtins / native)';
      areas.set(a, (areas.get(a) ?? 0) + node.selfSize);
    }
    for (const child of node.children ?? []) walk(child, here);
  };
  walk(profile.head, '(no product frame)');
  const per = Math.max(1, requests);
  const rank = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, bytes]) => ({ name, bytesPerRequest: bytes / per }));
  return { file, bytesPerRequest: total / per, functions: rank(functions, top), areas: rank(areas, 40), productFrames: rank(product, 40) };
}

/** Waits up to `ms` for a file matching `prefix` to appear in `dir`. */
export async function waitForFile(dir: string, prefix: string, ms: number): Promise<string | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const found = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith(prefix)) : undefined;
    if (found) {
      // Written in one call; a second look makes sure it is complete.
      await new Promise((r) => setTimeout(r, 200));
      return path.join(dir, found);
    }
    if (Date.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
