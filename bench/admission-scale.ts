/**
 * The admission workflow's cost at scale (issue 16, target 5): a gateway store holding thousands
 * of admitted delegations in force and about 100,000 grant lines, prepared through the product's
 * own store (migrations, PolicyStore for duties and grants, the admission tables for delegations,
 * written in bulk), against which S1 is run side by side with the demo's store; and a withdrawal
 * on two instances sharing that store and Redis: `withdrawGrant` answered on A, then the very
 * next read on B must be refused (CONTRACT.md: once it has answered, no instance serves one more
 * read under what was withdrawn).
 */
import { sql } from 'kysely';
import { migrateStore, postgresDatabase } from '../gateway/store/databases.ts';
import { signToken } from '../gateway/auth/token-signer.ts';
import { PolicyStore } from '../policies/policy-store.ts';
import { loadPolicyDirectory } from '../policies/policy-files/load-policy-directory.ts';
import type { GrantDef } from '../policies/policy-definitions.ts';
import { DATASETS, type DatasetName } from '../core/datasets.ts';
import { dropDatabase, ensureDatabase } from './databases.ts';
import type { GatewayProcess } from './gateway-process.ts';
import { CLERK_ORG, CLERK_STREET } from './scenarios.ts';

/** Synthetic duties: each delegated, street by street, through admitted delegations. */
const DUTIES = 10;
/** Streets per synthetic grant (a department grants a duty to many streets at once). */
const STREETS_PER_GRANT = 20;
/** The duty whose grant the withdrawal rounds create and withdraw. */
export const WITHDRAWAL_DUTY = 'bench-withdrawal';
const WITHDRAWAL_READ = JSON.stringify({ query: '{ people(first: 1) { edges { node { name } } } }' });

export interface AdmissionStoreState {
  readonly delegations: number;
  readonly delegationStreets: number;
  readonly grants: number;
  readonly policyLines: number;
  readonly demoPolicyLines: number;
  readonly prepareSeconds: number;
  /** Whether this run prepared it (false: an earlier run's store was complete and kept). */
  readonly prepared: boolean;
}

export interface WithdrawalRound {
  /** `withdrawGrant` on A: request sent → answer, ms. */
  readonly mutationMs: number;
  /** B's first read after A answered: sent → answer, ms (it includes B's policy reload). */
  readonly nextReadMs: number;
  readonly refusedNext: boolean;
  /** A second read on B right after: still refused. */
  readonly refusedAfter: boolean;
  /** Before the withdrawal, B served the read under the grant. */
  readonly servedBefore: boolean;
}

export interface AdmissionScaleResult {
  readonly store: AdmissionStoreState;
  withdrawal?: readonly WithdrawalRound[];
  withdrawalError?: string;
}

const syntheticStreet = (i: number) => `3109${String(i).padStart(5, '0')}`;

function grantFields(dataset: DatasetName): Record<string, 'full' | 'masked'> {
  const fields: Record<string, 'full' | 'masked'> = {};
  for (const f of DATASETS[dataset].fields) if (!f.internal) fields[f.name] = f.mask && f.name.length % 2 === 0 ? 'masked' : 'full';
  fields.streetCode = 'full';
  return fields;
}

/**
 * Prepares (or keeps, when an earlier run left it complete) the store at `url`: the demo policy
 * files, {@link DUTIES} synthetic duties with no standing streets, grants of them over synthetic
 * streets giving about `lines` Casbin lines, one admitted delegation per (duty, street) so every
 * line is in force, and the withdrawal duty delegated to the clerk's street.
 */
export async function prepareAdmissionStore(url: string, lines: number, log: (line: string) => void): Promise<AdmissionStoreState> {
  const started = performance.now();
  await ensureDatabase(url);
  let db = postgresDatabase(url, { poolSize: 4 });
  const count = async (query: string) => Number((await sql.raw<{ n: string }>(query).execute(db)).rows[0]?.n ?? 0);
  const state = async (prepared: boolean, demoPolicyLines: number): Promise<AdmissionStoreState> => ({
    delegations: await count(`select count(*)::text as n from duty_delegation where withdrawn_at is null and duty like 'syn-duty-%'`),
    delegationStreets: await count(`select count(*)::text as n from duty_delegation_street where state = 'ADMITTED'`),
    grants: await count(`select count(*)::text as n from "grant" where revoked_at is null`),
    policyLines: await count(`select count(*)::text as n from casbin_rule where ptype = 'p'`),
    demoPolicyLines,
    prepareSeconds: (performance.now() - started) / 1000,
    prepared,
  });
  try {
    try {
      const kept = await count(`select count(*)::text as n from casbin_rule where ptype = 'p' and v1 like 'syn-duty-%'`);
      const marker = await count(`select count(*)::text as n from duty_delegation where id = 'bench-withdrawal-street'`);
      if (kept >= lines * 0.9 && marker === 1) {
        const demo = await count(`select count(*)::text as n from casbin_rule where ptype = 'p' and v1 not like 'syn-duty-%'`);
        log(`  admission store kept from an earlier run (${kept.toLocaleString('en')} synthetic lines)`);
        return await state(false, demo);
      }
    } catch {
      // not migrated yet: prepare it
    }
    await db.destroy();
    await dropDatabase(url);
    await ensureDatabase(url);
    db = postgresDatabase(url, { poolSize: 4 });
    await migrateStore(db);
    const store = new PolicyStore(db);
    const { set, problems } = await loadPolicyDirectory();
    if (problems.length > 0) throw new Error(`policy files are invalid: ${problems.map((p) => p.message).join('; ')}`);
    await store.syncFromFiles(set.duties, set.grants);
    const demoPolicyLines = await count(`select count(*)::text as n from casbin_rule where ptype = 'p'`);

    for (let d = 0; d < DUTIES; d++) {
      await store.upsertDuty({ id: `syn-duty-${d}`, title: `Synthetic duty ${d}`, delegatedBy: 'dept:civil-affairs', streets: [] });
    }
    await store.upsertDuty({ id: WITHDRAWAL_DUTY, title: 'Benchmark: withdrawal on two instances', delegatedBy: 'dept:civil-affairs', streets: [] });

    const datasets = Object.keys(DATASETS) as DatasetName[];
    const perStreetAndDuty = datasets.reduce((n, ds) => n + Object.keys(grantFields(ds)).length, 0);
    const streets = Math.max(STREETS_PER_GRANT, Math.round(Math.max(0, lines - demoPolicyLines) / (DUTIES * perStreetAndDuty)));
    const grants: GrantDef[] = [];
    for (let d = 0; d < DUTIES; d++) {
      for (let start = 0; start < streets; start += STREETS_PER_GRANT) {
        const block = Array.from({ length: Math.min(STREETS_PER_GRANT, streets - start) }, (_, k) => syntheticStreet(start + k));
        for (const dataset of datasets) {
          grants.push({
            id: `syn-${dataset.replace('_', '-')}-d${d}-s${start}`,
            owner: DATASETS[dataset].owner,
            dataset,
            duty: `syn-duty-${d}`,
            streets: block,
            fields: grantFields(dataset),
            rows: dataset === 'population' && d % 2 === 0 ? { field: 'age', op: 'gte', value: 60 } : null,
            validFrom: null,
            validUntil: null,
          });
        }
      }
    }
    for (let i = 0; i < grants.length; i += 4) await Promise.all(grants.slice(i, i + 4).map((g) => store.createGrant(g, 'bench')));

    // One admitted delegation per (synthetic duty, street), in force for a year: bulk, in SQL.
    await sql`
      insert into duty_delegation (id, duty, delegated_by, legal_basis, valid_from, valid_until, note, proposed_by, proposed_at)
      select 'syn-del-' || d || '-' || s, 'syn-duty-' || d, 'dept:civil-affairs', 'bench/admission-scale', now() - interval '1 day',
             now() + interval '1 year', null, 'bench', now() - interval '2 days'
      from generate_series(0, ${DUTIES - 1}) d, generate_series(0, ${streets - 1}) s`.execute(db);
    await sql`
      insert into duty_delegation_street (delegation_id, street, district, state, reviewed_by, reviewed_at, reason)
      select 'syn-del-' || d || '-' || s, '3109' || lpad(s::text, 5, '0'), '3109' || lpad((s / 1000)::text, 2, '0'),
             'ADMITTED', 'bench-reviewer', now() - interval '1 day', 'bench'
      from generate_series(0, ${DUTIES - 1}) d, generate_series(0, ${streets - 1}) s`.execute(db);
    await sql`
      insert into duty_delegation (id, duty, delegated_by, legal_basis, valid_from, valid_until, proposed_by)
      values ('bench-withdrawal-street', ${WITHDRAWAL_DUTY}, 'dept:civil-affairs', 'bench/admission-scale', null, now() + interval '1 year', 'bench')`.execute(db);
    await sql`
      insert into duty_delegation_street (delegation_id, street, district, state, reviewed_by, reviewed_at, reason)
      values ('bench-withdrawal-street', ${CLERK_STREET}, ${CLERK_STREET.slice(0, 6)}, 'ADMITTED', 'bench-reviewer', now(), 'bench')`.execute(db);
    await sql`update policy_version set version = version + 1, changed_at = now() where id = 1`.execute(db);
    await sql`analyze`.execute(db);
    const result = await state(true, demoPolicyLines);
    log(
      `  admission store prepared: ${result.delegations.toLocaleString('en')} delegations, ${result.policyLines.toLocaleString('en')} lines, ` +
        `${result.grants.toLocaleString('en')} grants (${result.prepareSeconds.toFixed(1)} s)`,
    );
    return result;
  } finally {
    await db.destroy();
  }
}

async function post(g: GatewayProcess, token: string, body: string, purpose?: string): Promise<{ ms: number; status: number; json: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` };
  if (purpose) headers['x-purpose'] = purpose;
  const t0 = performance.now();
  const response = await fetch(`${g.baseUrl}/graphql`, { method: 'POST', headers, body });
  const text = await response.text();
  const ms = performance.now() - t0;
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { ms, status: response.status, json };
}

const served = (r: { status: number; json: any }) => r.status === 200 && !r.json?.errors && (r.json?.data?.people?.edges?.length ?? 0) > 0;
const refused = (r: { json: any }) => !r.json?.data?.people && Array.isArray(r.json?.errors) && r.json.errors.length > 0;

/**
 * `rounds` withdrawals: each creates a grant of the withdrawal duty for the clerk's street in the
 * store, waits until B serves a read under it, then withdraws it on A (as the dataset's owner) and
 * reads on B at once, then once more.
 */
export async function withdrawalOnTwoInstances(options: {
  readonly url: string;
  readonly a: GatewayProcess;
  readonly b: GatewayProcess;
  readonly secret: string;
  readonly rounds: number;
  readonly log: (line: string) => void;
}): Promise<WithdrawalRound[]> {
  const clerk = await signToken(options.secret, { sub: 'bench-withdrawal-clerk', org: CLERK_ORG, roles: ['street_staff'] }, '2h');
  const owner = await signToken(options.secret, { sub: 'bench-withdrawal-owner', org: DATASETS.population.owner, roles: ['data_owner'] }, '2h');
  const db = postgresDatabase(options.url, { poolSize: 2 });
  const rounds: WithdrawalRound[] = [];
  try {
    const store = new PolicyStore(db);
    const tag = Date.now().toString(36);
    for (let i = 0; i < options.rounds; i++) {
      const id = `bench-withdrawal-${tag}-${i}`;
      await store.createGrant(
        {
          id,
          owner: DATASETS.population.owner,
          dataset: 'population',
          duty: WITHDRAWAL_DUTY,
          streets: [CLERK_STREET],
          fields: { name: 'full', streetCode: 'full' },
          rows: null,
          validFrom: null,
          validUntil: null,
        },
        'bench',
      );
      let before = await post(options.b, clerk, WITHDRAWAL_READ, WITHDRAWAL_DUTY);
      for (let tries = 0; !served(before) && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        before = await post(options.b, clerk, WITHDRAWAL_READ, WITHDRAWAL_DUTY);
      }
      // A has served a read under it too (its plans are warm, as in use).
      await post(options.a, clerk, WITHDRAWAL_READ, WITHDRAWAL_DUTY);
      const mutation = await post(
        options.a,
        owner,
        JSON.stringify({ query: 'mutation W($id: ID!) { withdrawGrant(id: $id, reason: "benchmark: withdrawal on two instances") { id state } }', variables: { id } }),
      );
      if (mutation.status !== 200 || mutation.json?.data?.withdrawGrant?.state !== 'WITHDRAWN') {
        throw new Error(`withdrawGrant did not answer WITHDRAWN: ${mutation.status} ${JSON.stringify(mutation.json).slice(0, 300)}`);
      }
      const next = await post(options.b, clerk, WITHDRAWAL_READ, WITHDRAWAL_DUTY);
      const after = await post(options.b, clerk, WITHDRAWAL_READ, WITHDRAWAL_DUTY);
      rounds.push({ mutationMs: mutation.ms, nextReadMs: next.ms, refusedNext: refused(next), refusedAfter: refused(after), servedBefore: served(before) });
      if (!refused(next)) options.log(`  withdrawal round ${i}: B served the next read: ${JSON.stringify(next.json).slice(0, 200)}`);
    }
  } finally {
    await db.destroy();
  }
  return rounds;
}
