/**
 * `npx tsx bench/request-cost.ts`: what ONE S1 (or S5) request costs the gateway, in CPU µs and bytes
 * allocated, stable enough to compare two versions of the code on a machine shared with other work.
 *
 * Throughput and latency move with whatever else runs; the gateway's own CPU time per request and
 * its allocation per request move far less, so that is what this measures: a fixed number of S1
 * requests at a fixed concurrency against the gateway in its own process (real PostgreSQL and
 * Redis, the product's pipeline, everything on), CPU from /proc (user + system ticks of the
 * gateway's process over the run, divided by the requests), allocation from a sampling heap
 * profile that includes the objects GC collected (bench/alloc-profiler.ts). `--cpu-prof` adds a
 * CPU profile of the measured run ranked by area and by product frame (bench/profile.ts).
 *
 *   npx tsx bench/request-cost.ts [--requests 4000] [--connections 16] [--rounds 3] [--scenario S1|S5] [--baseline] [--cpu-prof]
 *
 * Env: REQUEST_COST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/lianqiao_request_cost,
 * seeded with 20,000 persons on first use), BENCH_REDIS_URL.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../gateway/config.ts';
import { loadAuditKeys } from '../audit/audit-keys.ts';
import { DEFAULT_BENCH_REDIS_URL, pickScenarioIds, prepareDatabase } from './databases.ts';
import { startGateway, type GatewayProcess } from './gateway-process.ts';
import { baselineExpectation, buildScenarios, CLERK_STREET, probe, unexpectedAnswer, type Scenario } from './scenarios.ts';
import { mainProfile, summarizeAllocations, summarizeProfile, waitForFile } from './profile.ts';

const log = (line: string) => process.stderr.write(`[cost] ${line}\n`);

function ticks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Fires exactly `amount` requests at `connections` concurrency; counts answers not as expected. */
function fire(g: GatewayProcess, scenario: Scenario, amount: number, connections: number): Promise<{ unexpected: number; first?: string }> {
  const headers = scenario.tokens.map((t) => ({
    'content-type': 'application/json',
    accept: 'application/json',
    authorization: `Bearer ${t}`,
    ...(scenario.purpose ? { 'x-purpose': scenario.purpose } : {}),
  }));
  let next = 0;
  const out: { unexpected: number; first?: string } = { unexpected: 0 };
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${g.baseUrl}/graphql`,
        connections,
        amount,
        timeout: 30,
        method: 'POST',
        headers: headers[0],
        body: scenario.bodies[0],
        requests: [
          {
            setupRequest: (request: any) => {
              request.headers = headers[next++ % headers.length];
              return request;
            },
            onResponse: (status: number, body: string) => {
              const unexpected = unexpectedAnswer(scenario, status, body);
              if (unexpected === undefined) return;
              out.unexpected += 1;
              out.first ??= unexpected;
            },
          },
        ],
      },
      (error: Error | null) => (error ? reject(error) : resolve(out)),
    );
  });
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: HeapNode[];
}

/** Bytes per request allocated by builtins (Map, Array.from, …), by the JS function that called them. */
function nativeCallers(file: string, requests: number): [string, number][] {
  const head = (JSON.parse(fs.readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const sums = new Map<string, number>();
  const walk = (node: HeapNode, caller: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const here = url ? `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(`file://${process.cwd()}/`, '')}:${lineNumber + 1}` : caller;
    if (!url && node.selfSize > 0) sums.set(`${functionName} ← ${caller}`, (sums.get(`${functionName} ← ${caller}`) ?? 0) + node.selfSize);
    for (const child of node.children ?? []) walk(child, here);
  };
  walk(head, '(root)');
  return [...sums.entries()].map(([k, v]): [string, number] => [k, v / requests]).sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '4000' },
      connections: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
      baseline: { type: 'boolean', default: false },
      /** S1 (a clerk's page of 20 persons) or S5 (an auditor's page of 50 events). */
      scenario: { type: 'string', default: 'S1' },
      'cpu-prof': { type: 'boolean', default: false },
      /** Keep the profiles (their directory is printed) instead of removing them. */
      keep: { type: 'boolean', default: false },
    },
  });
  const requests = Number(values.requests);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const databaseUrl = process.env.REQUEST_COST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/lianqiao_request_cost';
  const redisUrl = process.env.BENCH_REDIS_URL ?? DEFAULT_BENCH_REDIS_URL;
  await prepareDatabase(databaseUrl, 20_000, log);

  const keyDir = path.join(os.tmpdir(), 'lianqiao-request-cost', 'keys');
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lianqiao-request-cost-'));
  const secret = crypto.randomBytes(48).toString('base64url');
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    POPULATION_DATABASE_URL: databaseUrl,
    HOUSING_DATABASE_URL: databaseUrl,
    SOCIAL_SECURITY_DATABASE_URL: databaseUrl,
    JWT_SECRET: secret,
    AUDIT_SIGNING_KEY: path.join(keyDir, 'audit-signing-key.pem'),
    AUDIT_SUBJECT_KEY: path.join(keyDir, 'audit-subject-key'),
    DATA_DIR: path.join(work, 'data'),
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    RATE_LIMITS: 'street_staff=1000000/min,auditor=1000000/min,org=10000000/min',
    ALLOC_PROFILE_DIR: path.join(work, 'alloc'),
  };
  loadAuditKeys(loadConfig(env), { create: true });
  const ids = await pickScenarioIds(databaseUrl, CLERK_STREET, 50);
  const scenarios = await buildScenarios({ secret, personIds: ids.personIds, houseIds: ids.houseIds, users: 32 });
  const chosen = values.scenario === 'S5' ? scenarios.S5 : scenarios.S1;
  const scenario = values.baseline ? baselineExpectation(chosen) : chosen;
  const profDir = path.join(work, 'cpu');
  const g = await startGateway({
    label: 'request-cost',
    env,
    program: values.baseline ? 'baseline' : 'gateway',
    nodeArgs: [...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), '--import', './bench/alloc-profiler.ts'],
  });
  try {
    const checked = await probe(g, scenario);
    if (!checked.ok) throw new Error(`${scenario.id} not as expected: ${checked.status} ${checked.body}`);
    await fire(g, scenario, Math.max(1000, requests / 2), connections); // warm-up: JIT, pools, caches
    const cpu: number[] = [];
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    for (let round = 0; round < rounds; round++) {
      const t0 = ticks(g.pid);
      const started = performance.now();
      const result = await fire(g, scenario, requests, connections);
      const seconds = (performance.now() - started) / 1000;
      const used = (ticks(g.pid) - t0) * 10_000; // USER_HZ 100: one tick is 10 ms
      cpu.push(used / requests);
      log(`round ${round + 1}: ${(used / requests).toFixed(0)} µs CPU/request, ${Math.round(requests / seconds)} req/s, unexpected ${result.unexpected}${result.first ? ` (${result.first})` : ''}`);
    }
    const toUs = Number(process.hrtime.bigint() / 1000n);
    process.kill(g.pid, 'SIGUSR2');
    await fire(g, scenario, requests, connections);
    process.kill(g.pid, 'SIGUSR2');
    const allocFile = await waitForFile(env.ALLOC_PROFILE_DIR!, 'alloc-', 10_000);
    const sorted = [...cpu].sort((a, b) => a - b);
    log(`CPU per request: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} µs, min ${sorted[0]!.toFixed(0)} µs (${rounds} × ${requests} requests, ${connections} connections)`);
    if (allocFile) {
      const alloc = summarizeAllocations(allocFile, requests, 60);
      log(`allocated per request: ${(alloc.bytesPerRequest / 1024).toFixed(1)} KB`);
      for (const f of alloc.productFrames.slice(0, 20)) log(`  ${(f.bytesPerRequest / 1024).toFixed(1).padStart(7)} KB  ${f.name}`);
      log('  native allocations by caller:');
      for (const [name, bytes] of nativeCallers(allocFile, requests).slice(0, 20)) log(`  ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${name}`);
      log('  by area:');
      for (const a of alloc.areas.slice(0, 15)) log(`  ${(a.bytesPerRequest / 1024).toFixed(1).padStart(7)} KB  ${a.name}`);
      log('  by function:');
      for (const f of alloc.functions.slice(0, 60)) log(`  ${(f.bytesPerRequest / 1024).toFixed(1).padStart(7)} KB  ${f.name}`);
    }
    await g.stop();
    if (values['cpu-prof']) {
      const file = mainProfile(profDir);
      if (file) {
        const summary = summarizeProfile(file, { fromUs, toUs }, 40);
        const per = (ms: number) => ((ms * 1000) / (requests * rounds)).toFixed(0);
        log(`profile: busy ${summary.busyMs.toFixed(0)} ms`);
        for (const a of summary.areas.slice(0, 15)) log(`  area ${(a.share * 100).toFixed(1).padStart(5)}% ${per(a.selfMs).padStart(5)} µs/req  ${a.name}`);
        for (const a of summary.productFrames.slice(0, 25)) log(`  frame ${(a.share * 100).toFixed(1).padStart(5)}% ${per(a.selfMs).padStart(5)} µs/req  ${a.name}`);
        for (const a of summary.functions.slice(0, 40)) log(`  fn ${(a.share * 100).toFixed(1).padStart(5)}% ${per(a.selfMs).padStart(5)} µs/req  ${a.name}`);
      }
    }
  } finally {
    await g.stop();
    if (values.keep) log(`profiles kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
