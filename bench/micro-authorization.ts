/**
 * Authorization micro-benchmark, in-process (no HTTP): the exact per-request authorization work
 * of useAuthorization — `authorizer.plan(org, purpose)` (a cache hit once compiled),
 * `collectReads` over the S1 document and `checkOperation` — timed one iteration at a time with
 * `process.hrtime.bigint()`, with Casbin holding about 1,000, 10,000 and 100,000 `p` lines.
 *
 * The lines come from real grants: the demo policy files plus synthetic grants over many synthetic
 * streets × duties × datasets, created through PolicyStore in a scratch database (dropped
 * afterwards), loaded by CasbinAuthorizer.create like the gateway does. A plan's cold compile
 * (a cache miss: one Casbin decision per field and access level) is timed separately, for the S1
 * organisation and for other streets.
 *
 *   npx tsx bench/micro-authorization.ts [--quick]
 */
import { parse } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { sql } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { collectReads } from '../schema/shared-data/operation-reads.ts';
import { checkOperation } from '../policies/check-operation.ts';
import { PolicyStore } from '../policies/policy-store.ts';
import { CasbinAuthorizer } from '../policies/casbin/casbin-authorizer.ts';
import { loadPolicyDirectory } from '../policies/policy-files/load-policy-directory.ts';
import type { GrantDef } from '../policies/policy-definitions.ts';
import { DATASETS, type DatasetName } from '../core/datasets.ts';
import { sharedDataTypeDefs } from '../schema/shared-data/shared-data.graphql.ts';
import { adminTypeDefs } from '../schema/admin/admin-schema.ts';
import { auditTypeDefs } from '../schema/audit/audit-schema.ts';
import { CLERK_ORG, S1_QUERY } from './scenarios.ts';
import { DEFAULT_BENCH_DATABASE_URL, databaseName, dropDatabase, ensureDatabase, withDatabase } from './databases.ts';

export interface AuthorizationSizeResult {
  /** Requested size. */
  readonly target: number;
  /** `p` lines Casbin actually holds. */
  readonly policyLines: number;
  readonly grants: number;
  /** PolicyStore.createGrant for all synthetic grants, s. */
  readonly setupSeconds: number;
  /** CasbinAuthorizer.create (load every line, first version), ms. */
  readonly loadMs: number;
  /** First plan for (S1 org, elderly-allowance), ms. */
  readonly coldCompileMs: number;
  /** Cold compiles for other streets (median and max), ms. */
  readonly coldCompileOtherMedianMs: number;
  readonly coldCompileOtherMaxMs: number;
  readonly coldCompileSamples: number;
  readonly iterations: number;
  readonly decisionsPerSecond: number;
  /** Per decision, µs. */
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  /** Whether the decision allowed S1 (it must). */
  readonly allowed: boolean;
}

const DUTIES_PER_SIZE = 10;
/** Streets per synthetic grant (a department grants a duty to a district's streets at once). */
const STREETS_PER_GRANT = 20;

function syntheticStreet(i: number): string {
  // 9-digit codes that are none of the demo streets: district 3109xx.
  return `3109${String(i).padStart(5, '0')}`;
}

function grantableFields(dataset: DatasetName): Record<string, 'full' | 'masked'> {
  const fields: Record<string, 'full' | 'masked'> = {};
  for (const f of DATASETS[dataset].fields) {
    if (f.internal) continue;
    // Masked where a mask exists for every other field, so both access levels appear in the lines.
    fields[f.name] = f.mask && f.name !== 'idNumber' && f.name.length % 2 === 0 ? 'masked' : 'full';
  }
  fields.streetCode = 'full';
  return fields;
}

/** Synthetic grants giving about `lines` Casbin lines. */
function syntheticGrants(lines: number): GrantDef[] {
  const datasets = Object.keys(DATASETS) as DatasetName[];
  const perStreetAndDuty = datasets.reduce((n, d) => n + Object.keys(grantableFields(d)).length, 0);
  const streets = Math.max(1, Math.round(lines / (DUTIES_PER_SIZE * perStreetAndDuty)));
  const grants: GrantDef[] = [];
  for (let duty = 0; duty < DUTIES_PER_SIZE; duty++) {
    for (let start = 0; start < streets; start += STREETS_PER_GRANT) {
      const block = Array.from({ length: Math.min(STREETS_PER_GRANT, streets - start) }, (_, k) => syntheticStreet(start + k));
      for (const dataset of datasets) {
        grants.push({
          id: `syn-${dataset.replace('_', '-')}-d${duty}-s${start}`,
          owner: DATASETS[dataset].owner,
          dataset,
          duty: `syn-duty-${duty}`,
          streets: block,
          fields: grantableFields(dataset),
          rows: dataset === 'population' && duty % 2 === 0 ? { field: 'age', op: 'gte', value: 60 } : null,
          validFrom: null,
          validUntil: null,
        });
      }
    }
  }
  return grants;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface AuthorizationOptions {
  readonly baseUrl: string;
  readonly sizes: readonly number[];
  readonly iterations: number;
  readonly log: (line: string) => void;
}

export async function runAuthorizationMicro(options: AuthorizationOptions): Promise<AuthorizationSizeResult[]> {
  const schema = createSchema({ typeDefs: [sharedDataTypeDefs, adminTypeDefs, auditTypeDefs] });
  const document = parse(S1_QUERY);
  const { set, problems } = await loadPolicyDirectory();
  if (problems.length > 0) throw new Error(`policy files are invalid: ${problems.map((p) => p.message).join('; ')}`);
  const results: AuthorizationSizeResult[] = [];

  for (const target of options.sizes) {
    const url = withDatabase(options.baseUrl, `${databaseName(options.baseUrl)}_policies_${target}`);
    await dropDatabase(url);
    await ensureDatabase(url);
    const db = postgresDatabase(url, { poolSize: 4 });
    try {
      await migrateStore(db);
      const store = new PolicyStore(db);
      await store.syncFromFiles(set.duties, set.grants);
      const { rows: demoRows } = await sql<{ n: string }>`select count(*)::text as n from casbin_rule where ptype = 'p'`.execute(db);
      const demoLines = Number(demoRows[0]!.n);
      const setupStarted = performance.now();
      for (let d = 0; d < DUTIES_PER_SIZE; d++) {
        await store.upsertDuty({ id: `syn-duty-${d}`, title: `Synthetic duty ${d}`, delegatedBy: 'dept:civil-affairs', streets: 'all' });
      }
      const grants = syntheticGrants(Math.max(0, target - demoLines));
      // Concurrent creation, a few at a time (each is its own transaction).
      for (let i = 0; i < grants.length; i += 4) {
        await Promise.all(grants.slice(i, i + 4).map((g) => store.createGrant(g, 'bench')));
      }
      const setupSeconds = (performance.now() - setupStarted) / 1000;
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from casbin_rule where ptype = 'p'`.execute(db);
      const policyLines = Number(rows[0]!.n);

      const loadStarted = performance.now();
      const authorizer = await CasbinAuthorizer.create({ store });
      const loadMs = performance.now() - loadStarted;

      const t0 = performance.now();
      const firstPlan = authorizer.plan(CLERK_ORG, 'elderly-allowance');
      const coldCompileMs = performance.now() - t0;

      // Cold compiles for other streets (each a cache miss), bounded in time.
      const others: number[] = [];
      const budgetEnd = performance.now() + 8_000;
      for (let i = 0; i < 10 && performance.now() < budgetEnd; i++) {
        const org = i % 2 === 0 ? `street:${syntheticStreet(i)}` : `street:3101010${String(13 + i).padStart(2, '0')}`;
        const c0 = performance.now();
        authorizer.plan(org, i % 3 === 0 ? 'syn-duty-0' : 'elderly-allowance');
        others.push(performance.now() - c0);
      }
      others.sort((a, b) => a - b);

      // The per-request path, warm.
      const run = () => {
        const plan = authorizer.plan(CLERK_ORG, 'elderly-allowance');
        const reads = collectReads(schema, document, undefined, {});
        return checkOperation(plan, reads);
      };
      const allowed = run() === null && firstPlan.refusal === null;
      for (let i = 0; i < Math.min(20_000, options.iterations); i++) run();
      const samples = new Float64Array(options.iterations);
      const wallStarted = process.hrtime.bigint();
      for (let i = 0; i < options.iterations; i++) {
        const s = process.hrtime.bigint();
        run();
        samples[i] = Number(process.hrtime.bigint() - s);
      }
      const wallNs = Number(process.hrtime.bigint() - wallStarted);
      samples.sort();
      const result: AuthorizationSizeResult = {
        target,
        policyLines,
        grants: grants.length + set.grants.length,
        setupSeconds,
        loadMs,
        coldCompileMs,
        coldCompileOtherMedianMs: others.length > 0 ? others[Math.floor(others.length / 2)]! : Number.NaN,
        coldCompileOtherMaxMs: others.length > 0 ? others[others.length - 1]! : Number.NaN,
        coldCompileSamples: others.length,
        iterations: options.iterations,
        decisionsPerSecond: options.iterations / (wallNs / 1e9),
        p50Us: percentile(samples, 50) / 1000,
        p99Us: percentile(samples, 99) / 1000,
        p999Us: percentile(samples, 99.9) / 1000,
        maxUs: samples[samples.length - 1]! / 1000,
        allowed,
      };
      options.log(
        `  ${policyLines.toLocaleString('en')} lines: ${Math.round(result.decisionsPerSecond).toLocaleString('en')}/s, ` +
          `p50 ${result.p50Us.toFixed(1)} µs, p99 ${result.p99Us.toFixed(1)} µs; load ${loadMs.toFixed(0)} ms, cold compile ${coldCompileMs.toFixed(1)} ms`,
      );
      results.push(result);
    } finally {
      await db.destroy();
      await dropDatabase(url);
    }
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  runAuthorizationMicro({
    baseUrl: process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL,
    sizes: [1_000, 10_000, 100_000],
    iterations: quick ? 20_000 : 200_000,
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
