/**
 * The auditors' and residents' look-ups at trail scale: `auditEvents` with each one filter,
 * `subjectAccessReport` and `myDataAccess` over a store of 10 million events
 * (`npm run bench -- --only audit10m`; alone: `npx tsx bench/audit-10m.ts`).
 *
 * What runs: the search functions the GraphQL resolvers call (`AuditReader.searchEvents`,
 * `AuditReader.subjectAccessReport`, `ResidentDisclosure.page`), on the real PostgreSQL store
 * filled by `bench/audit-10m-fill.ts` — the gateway's SQL, indexes and row decoding, without the
 * HTTP and GraphQL layers around them (those are what S5 measures). Each case runs a few warm-up
 * rounds, then `BENCH_AUDIT10M_ROUNDS` (default 40) timed rounds rotating over several values
 * (clerks, streets, persons, cases), one at a time.
 *
 * Env: BENCH_AUDIT10M_URL (default postgres://postgres@127.0.0.1:5432/lianqiao_bench_audit10m),
 * BENCH_AUDIT10M_EVENTS (default 10,000,000).
 */
import os from 'node:os';
import { postgresDatabase } from '../gateway/store/databases.ts';
import { AuditReader } from '../audit/audit-reader.ts';
import { ResidentDisclosure } from '../audit/resident-disclosure.ts';
import { SYNTHETIC_STREET_CODES } from '../demo/synthetic-data.ts';
import { AUDIT10M_HEAVY_PERSONS, AUDIT10M_SUBJECT_KEY, PURPOSES, benchPersonId, ensureAudit10m, type Audit10mStore } from './audit-10m-fill.ts';

export const DEFAULT_AUDIT10M_URL = 'postgres://postgres@127.0.0.1:5432/lianqiao_bench_audit10m';
export const AUDIT10M_TARGET_P95_MS = 100;

export interface Audit10mCase {
  readonly name: string;
  /** What one call returns, in words (rows per page, accesses listed). */
  readonly returns: string;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly rounds: number;
}

export interface Audit10mResult {
  readonly store: Audit10mStore;
  readonly cases: readonly Audit10mCase[];
  /** Load average (1 min) when the measurements started and ended. */
  readonly load: readonly [number, number];
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function measure(name: string, rounds: number, run: (i: number) => Promise<string>): Promise<Audit10mCase> {
  for (let i = 0; i < 3; i++) await run(i);
  const times: number[] = [];
  let returns = '';
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    returns = await run(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { name, returns, p50Ms: r(quantile(times, 0.5)), p95Ms: r(quantile(times, 0.95)), maxMs: r(times.at(-1)!), rounds };
}

/** Fills the store if needed, then times every case. */
export async function runAudit10m(log: (line: string) => void, url = process.env.BENCH_AUDIT10M_URL ?? DEFAULT_AUDIT10M_URL): Promise<Audit10mResult> {
  const events = Number(process.env.BENCH_AUDIT10M_EVENTS ?? 10_000_000);
  const rounds = Number(process.env.BENCH_AUDIT10M_ROUNDS ?? 40);
  const store = await ensureAudit10m(url, events, log);
  log(`audit10m: ${store.events.toLocaleString('en')} events, ${store.databaseSize}${store.fillSeconds > 0 ? `, filled in ${store.fillSeconds.toFixed(0)} s` : ' (reused)'}`);
  const db = postgresDatabase(url, { poolSize: 4 });
  const reader = new AuditReader({ db, subjectKey: AUDIT10M_SUBJECT_KEY });
  const residents = new ResidentDisclosure({ db, subjectKey: AUDIT10M_SUBJECT_KEY });
  const load0 = os.loadavg()[0]!;
  const cases: Audit10mCase[] = [];
  const day = 86_400_000;
  const span = store.to.getTime() - store.from.getTime();
  const heavy = (i: number) => benchPersonId(i % AUDIT10M_HEAVY_PERSONS);
  const ordinary = (i: number) => benchPersonId(AUDIT10M_HEAVY_PERSONS + 1000 + i * 7919);
  const street = (i: number) => SYNTHETIC_STREET_CODES[(i * 7) % SYNTHETIC_STREET_CODES.length]!;
  const page = async (filter: object, after?: string | null) => {
    const p = await reader.searchEvents(filter, 50, after);
    return { text: `${p.edges.length} events${p.pageInfo.hasNextPage ? ', more' : ''}`, end: p.pageInfo.endCursor };
  };
  const search = (filter: (i: number) => object) => async (i: number) => (await page(filter(i))).text;
  try {
    const add = async (name: string, run: (i: number) => Promise<string>) => {
      const c = await measure(name, rounds, run);
      cases.push(c);
      log(`  ${name}: p50 ${c.p50Ms} ms, p95 ${c.p95Ms} ms (${c.returns})`);
    };
    await add('auditEvents, no filter', search(() => ({})));
    await add('auditEvents, from/to (one week)', search((i) => {
      const from = new Date(store.from.getTime() + ((i * 37) % 300) * day);
      return { from: from.toISOString(), to: new Date(from.getTime() + 7 * day).toISOString() };
    }));
    await add('auditEvents, from only (a day, 3 months back)', search((i) => ({ from: new Date(store.to.getTime() - (90 + (i % 30)) * day).toISOString() })));
    await add('auditEvents, to only (half a year back)', search((i) => ({ to: new Date(store.to.getTime() - span / 2 - i * day).toISOString() })));
    await add('auditEvents, actor (one clerk)', search((i) => ({ actor: `staff-${street(i)}-${i % 40}` })));
    await add('auditEvents, actor (unknown: no event)', search((i) => ({ actor: `staff-nobody-${i}` })));
    await add('auditEvents, org (one street)', search((i) => ({ org: `street:${street(i)}` })));
    await add('auditEvents, org (unknown: no event)', search((i) => ({ org: `street:none-${i}` })));
    await add('auditEvents, purpose', search((i) => ({ purpose: PURPOSES[i % PURPOSES.length] })));
    await add('auditEvents, purpose (unknown: no event)', search((i) => ({ purpose: `duty-${i}` })));
    await add('auditEvents, decision deny', search(() => ({ decision: 'deny' })));
    await add('auditEvents, decision error', search(() => ({ decision: 'error' })));
    await add('auditEvents, decision allow', search(() => ({ decision: 'allow' })));
    await add('auditEvents, subjectIdNumber (4,000 reads)', search((i) => ({ subjectIdNumber: heavy(i) })));
    await add('auditEvents, subjectIdNumber (~30 reads)', search((i) => ({ subjectIdNumber: ordinary(i) })));
    await add('auditEvents, caseRef', search((i) => ({ caseRef: `CASE-${(i * 4099) % 200_000}` })));
    // Deep pages: the cursor is fetched beforehand, only the page after it is timed.
    const deep = new Map<string, string | null>();
    for (let i = 0; i < SYNTHETIC_STREET_CODES.length; i++) {
      let after: string | null = null;
      for (let k = 0; k < 19; k++) after = (await page({ org: `street:${street(i)}` }, after)).end;
      deep.set(street(i), after);
    }
    await add('auditEvents, org, 20th page (cursor)', async (i) => (await page({ org: `street:${street(i)}` }, deep.get(street(i)))).text);
    await add('subjectAccessReport (4,000 reads)', async (i) => {
      const r = await reader.subjectAccessReport(heavy(i));
      return `${r.totalAccesses} accesses, ${r.accesses.length} listed`;
    });
    await add('subjectAccessReport (~30 reads)', async (i) => {
      const r = await reader.subjectAccessReport(ordinary(i));
      return `${r.totalAccesses} accesses, ${r.accesses.length} listed`;
    });
    const delays = new Map([['grid-inspection', 30]]);
    await add('myDataAccess first page (4,000 reads)', async (i) => {
      const p = await residents.page(heavy(i), { first: 20, delays });
      return `${p.edges.length} reads${p.pageInfo.hasNextPage ? ', more' : ''}`;
    });
    await add('myDataAccess first page + totalCount (4,000 reads)', async (i) => {
      const p = await residents.page(heavy(i), { first: 20, delays });
      return `${p.edges.length} reads of ${await p.totalCount()}`;
    });
    const tenth = new Map<number, string | null>();
    for (let h = 0; h < AUDIT10M_HEAVY_PERSONS; h++) {
      let after: string | null = null;
      for (let k = 0; k < 9; k++) after = (await residents.page(heavy(h), { first: 20, after, delays })).pageInfo.endCursor;
      tenth.set(h, after);
    }
    await add('myDataAccess 10th page (4,000 reads)', async (i) => {
      const p = await residents.page(heavy(i), { first: 20, after: tenth.get(i % AUDIT10M_HEAVY_PERSONS), delays });
      return `${p.edges.length} reads`;
    });
    await add('myDataAccess first page (~30 reads)', async (i) => {
      const p = await residents.page(ordinary(i), { first: 20, delays });
      return `${p.edges.length} reads`;
    });
  } finally {
    await db.destroy();
  }
  return { store, cases, load: [load0, os.loadavg()[0]!] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runAudit10m((line) => console.error(line)).then(
    (r) => console.log(JSON.stringify(r)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
