/**
 * The auditors' read side: search and keyset pagination, subject access reports through the
 * subject-hash index, anomaly findings (each with a fixture that triggers it and one that does
 * not), and the GraphQL API's role checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Kysely, sql } from 'kysely';
import { graphql } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { AuditLog } from '../../audit/audit-writer.ts';
import { subjectHasher } from '../../audit/audit-keys.ts';
import { AuditReader } from '../../audit/audit-reader.ts';
import type { AuditFinding } from '../../audit/audit-anomalies.ts';
import { verifyAudit } from '../../audit/audit-verifier.ts';
import type { AuditEventInput } from '../../audit/audit-event.ts';
import { auditResolvers, auditTypeDefs } from '../../schema/audit/audit-schema.ts';
import { requestState } from '../../gateway/pipeline/request-state.ts';
import { RESOLVER_CONTEXT } from '../../schema/resolver-context.ts';
import { type Role } from '../../core/identity.ts';
import { isGatewayError } from '../../core/errors.ts';
import { BACKENDS } from '../backends.ts';
import { auditTestKeys, openAuditStore } from './audit-fixtures.ts';

const { signingKey, subjectKey, trusted } = auditTestKeys('audit-reader');


/** A local time in Asia/Shanghai (UTC+8, no daylight saving). */
const cst = (isoLocal: string): Date => new Date(`${isoLocal}+08:00`);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const FROM = cst('2026-03-10T00:00:00');
const TO = cst('2026-03-11T00:00:00');

const person = (n: number): string => `310104198${String(n).padStart(5, '0')}${String(n % 1000).padStart(3, '0')}X`.slice(0, 18);
const persons = (start: number, count: number): string[] => Array.from({ length: count }, (_, i) => person(start + i));

interface Item {
  readonly at: Date;
  readonly event: AuditEventInput;
}

function item(at: Date, sub: string, over: Partial<AuditEventInput> = {}): Item {
  return {
    at,
    event: {
      time: at,
      durationMs: 8,
      actor: { sub, org: sub === 'steady' ? 'street:310104004' : 'street:310104003', roles: ['street_staff'] },
      purpose: 'elderly-allowance',
      operationType: 'query',
      operationName: 'Review',
      operationHash: 'c'.repeat(64),
      fields: ['population.name'],
      decision: 'allow',
      reason: 'grants: g-3',
      rows: over.subjects?.length ?? 1,
      subjects: [],
      requestId: `${sub}-${at.getTime()}`,
      ...over,
    },
  };
}

const forbidden = (at: Date, sub: string): Item =>
  item(at, sub, { decision: 'deny', reason: 'FORBIDDEN: population.phone is not granted for elderly-allowance', rows: 0 });

/** The story of a few days: who read what, when. */
function fixture(): Item[] {
  const items: Item[] = [];
  // Usual volumes over the 28 days before the window.
  for (let d = 1; d <= 27; d++) items.push(item(new Date(FROM.getTime() - d * DAY + 11 * HOUR), 'harvester', { subjects: persons(d * 10, 10) }));
  for (let d = 1; d <= 28; d++) items.push(item(new Date(FROM.getTime() - d * DAY + 10 * HOUR), 'steady', { subjects: persons(5000 + d, 200) }));
  // The day under review.
  for (let k = 0; k < 5; k++) items.push(item(cst(`2026-03-10T10:0${k}:00`), 'harvester', { subjects: persons(20_000 + k * 120, 120) }));
  items.push(item(cst('2026-03-10T10:30:00'), 'steady', { subjects: persons(5001, 250) }));
  items.push(item(cst('2026-03-10T11:00:00'), 'newbie', { subjects: persons(30_000, 50) }));
  items.push(item(cst('2026-03-10T02:00:00'), 'night-owl', { subjects: [person(10)], purpose: 'grid-inspection' }));
  items.push(item(cst('2026-03-10T23:30:00'), 'night-owl', { subjects: [person(11)] }));
  items.push(item(cst('2026-03-10T09:00:00'), 'day-worker', { subjects: [person(12)] }));
  for (let k = 0; k < 12; k++) items.push(forbidden(new Date(cst('2026-03-10T14:00:00').getTime() + k * 10_000), 'prober'));
  for (let k = 0; k < 3; k++) items.push(forbidden(new Date(cst('2026-03-10T14:10:00').getTime() + k * 10_000), 'clumsy'));
  for (let k = 0; k < 12; k++) items.push(forbidden(new Date(cst('2026-03-10T15:00:00').getTime() + k * 10 * 60_000), 'slow'));
  items.push(item(cst('2026-03-10T15:00:00'), 'bulk', { subjects: persons(40_000, 600), operationName: 'ExportAll' }));
  items.push(item(cst('2026-03-10T15:30:00'), 'medium', { subjects: persons(41_000, 80) }));
  return items.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Appends in time order with the log's clock set to each item's time. */
async function load(db: Kysely<any>, items: readonly Item[]): Promise<void> {
  let clock = items[0].at;
  const log = await AuditLog.open({ db, chainId: 'reader-fixture', signingKey, subjectKey, checkpointEveryMs: 0, now: () => clock });
  for (const { at, event } of items) {
    clock = at;
    await log.append(event);
  }
  await log.close();
}

describe.each(BACKENDS)('audit reader on %s', (backend) => {
  let store: { db: Kysely<any>; close(): Promise<void> };
  let reader: AuditReader;
  const items = fixture();

  beforeAll(async () => {
    store = await openAuditStore(backend, 'lianqiao_audit_reader');
    await load(store.db, items);
    reader = new AuditReader({ db: store.db, subjectKey });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('pages through every event newest first with keyset cursors', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await reader.searchEvents({}, 7, after);
      seen.push(...page.edges.map((e) => e.node.seq));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(items.length);
    expect(new Set(seen).size).toBe(items.length);
    expect(seen).toEqual([...seen].sort((a, b) => b - a)); // one chain: newest first = highest seq first
    expect(pages).toBe(Math.ceil(items.length / 7));
    expect(await (await reader.searchEvents({}, 1)).totalCount()).toBe(items.length);
  });

  it('filters by time, actor, org, purpose, decision and subject', async () => {
    const count = async (filter: object) => (await reader.searchEvents(filter, 500)).edges.length;
    expect(await count({ actor: 'prober' })).toBe(12);
    expect(await count({ decision: 'deny' })).toBe(27);
    expect(await count({ org: 'street:310104004' })).toBe(29);
    expect(await count({ purpose: 'grid-inspection' })).toBe(1);
    expect(await count({ from: FROM.toISOString(), to: TO.toISOString(), actor: 'harvester' })).toBe(5);
    expect(await count({ from: '2026-03-10T10:00:00+08:00', to: '2026-03-10T10:02:00+08:00' })).toBe(2);
    expect(await count({ subjectIdNumber: person(10) })).toBe(2); // harvester's first baseline day and night-owl
    const page = await reader.searchEvents({ actor: 'prober', decision: 'deny' }, 5);
    expect(await page.totalCount()).toBe(12);
    expect(page.edges).toHaveLength(5);
  });

  it('refuses bad input with BAD_USER_INPUT', async () => {
    for (const attempt of [
      () => reader.searchEvents({}, 10, 'not-a-cursor'),
      () => reader.searchEvents({ from: 'yesterday' }, 10),
      () => reader.searchEvents({ to: '2026-03-10T10:00:00' }, 10), // no zone: ambiguous
      () => reader.searchEvents({}, 100_000),
      () => reader.subjectAccessReport('  '),
      () => reader.anomalies(TO, FROM),
    ]) {
      await expect(attempt()).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'BAD_USER_INPUT');
    }
  });

  it("reports who read a person's data, when and for which purpose", async () => {
    const report = await reader.subjectAccessReport(person(10));
    expect(report.totalAccesses).toBe(2);
    expect(report.truncated).toBe(false);
    expect(report.accesses.map((a) => [a.actorSub, a.purpose, a.operationName, a.decision])).toEqual([
      ['night-owl', 'grid-inspection', 'Review', 'allow'],
      ['harvester', 'elderly-allowance', 'Review', 'allow'],
    ]);
    expect(report.accesses[0].time.toISOString()).toBe(cst('2026-03-10T02:00:00').toISOString());
    expect((await reader.subjectAccessReport(person(10).toLowerCase())).totalAccesses).toBe(2);
    expect((await reader.subjectAccessReport('110101199001011234')).totalAccesses).toBe(0);
  });

  it('finds subjects through the subject-hash index', async () => {
    const hash = subjectHasher(subjectKey)(person(10));
    await sql`set enable_seqscan = off`.execute(store.db);
    try {
      const { rows } = await sql<Record<string, string>>`
        explain select * from audit_event where subject_hashes @> array[${hash}]::text[]`.execute(store.db);
      const plan = rows.map((r) => Object.values(r)[0]).join('\n');
      expect(plan).toMatch(/Bitmap Index Scan on \S*subject/);
    } finally {
      await sql`set enable_seqscan = on`.execute(store.db);
    }
  });

  describe('anomalies', () => {
    let findings: AuditFinding[];
    const of = (kind: string) => findings.filter((f) => f.kind === kind);
    beforeAll(async () => {
      findings = await reader.anomalies(FROM, TO);
    });

    it('flags an actor reading far more persons than usual, not a steady one or a light newcomer', () => {
      const volume = of('volume-outlier');
      expect(volume.map((f) => f.actorSub).sort()).toEqual(['bulk', 'harvester']);
      const harvester = volume.find((f) => f.actorSub === 'harvester')!;
      expect(harvester.metric).toBe(600);
      expect(harvester.eventCount).toBe(5);
      expect(harvester.events).toHaveLength(5);
      expect(harvester.events.every((e) => e.actorSub === 'harvester')).toBe(true);
      expect(harvester.message).toMatch(/harvester read 600 persons on 2026-03-10/);
    });

    it('flags access between 22:00 and 06:00 Asia/Shanghai, not daytime access', () => {
      const night = of('night-access');
      expect(night.map((f) => f.actorSub)).toEqual(['night-owl']);
      expect(night[0].eventCount).toBe(2);
      expect(night[0].events.map((e) => e.time.toISOString())).toEqual([
        cst('2026-03-10T02:00:00').toISOString(),
        cst('2026-03-10T23:30:00').toISOString(),
      ]);
    });

    it('flags a burst of FORBIDDEN for one actor, not a few denials or denials spread out', () => {
      const bursts = of('forbidden-burst');
      expect(bursts.map((f) => f.actorSub)).toEqual(['prober']);
      expect(bursts[0].metric).toBe(12);
      expect(bursts[0].events).toHaveLength(12);
      expect(bursts[0].events.every((e) => e.decision === 'deny')).toBe(true);
    });

    it('flags one operation returning more persons than the limit, not a smaller one', () => {
      const large = of('large-operation');
      expect(large).toHaveLength(1);
      expect(large[0]).toMatchObject({ actorSub: 'bulk', metric: 600, threshold: 500, eventCount: 1 });
      expect(large[0].events[0].operationName).toBe('ExportAll');
    });

    it('follows configured thresholds', async () => {
      const strict = await reader.anomalies(FROM, TO, { maxPersonsPerOperation: 60, forbiddenBurstCount: 3 });
      expect(strict.filter((f) => f.kind === 'large-operation').map((f) => f.actorSub).sort()).toEqual([
        'bulk',
        'harvester',
        'harvester',
        'harvester',
        'harvester',
        'harvester',
        'medium',
        'steady',
      ]);
      expect(strict.filter((f) => f.kind === 'forbidden-burst').map((f) => f.actorSub).sort()).toEqual(['clumsy', 'prober']);
    });
  });

  describe('GraphQL API', () => {
    const schema = () =>
      makeExecutableSchema({
        typeDefs: ['type Query { ping: Boolean }', auditTypeDefs],
        resolvers: auditResolvers({ reader, verify: () => verifyAudit(store.db, trusted) }) as never,
      });
    const run = async (roles: Role[], source: string) => {
      const contextValue: Record<string, unknown> = {};
      const state = requestState(new Request('http://gateway.test/graphql'));
      state.viewer = { sub: `user-${roles.join('-')}`, org: 'office:security', roles };
      contextValue[RESOLVER_CONTEXT] = state;
      return graphql({ schema: schema(), source, contextValue });
    };
    const QUERIES = [
      '{ auditEvents(first: 2) { totalCount } }',
      `{ subjectAccessReport(idNumber: "${person(10)}") { totalAccesses } }`,
      '{ auditIntegrity { intact } }',
      `{ auditAnomalies(from: "${FROM.toISOString()}", to: "${TO.toISOString()}") { kind } }`,
    ];

    it('refuses street staff, street admins, data owners and platform admins', async () => {
      for (const roles of [['street_staff'], ['street_admin'], ['data_owner'], ['platform_admin'], []] as Role[][]) {
        for (const query of QUERIES) {
          const result = await run(roles, query);
          expect(result.data).toBeNull();
          expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        }
      }
    });

    it('answers auditors, without subject hashes or idNumbers', async () => {
      const result = await run(
        ['auditor'],
        `{
          auditEvents(filter: { actor: "harvester", from: "${FROM.toISOString()}" }, first: 2) {
            edges { cursor node { seq time actor { sub org roles } purpose decision subjectCount rows hash } }
            pageInfo { hasNextPage endCursor }
            totalCount
          }
          subjectAccessReport(idNumber: "${person(10)}") { idNumber totalAccesses truncated accesses { time actorSub actorOrg purpose operationName decision } }
          auditIntegrity { intact events chains { chainId events checkpoints unsignedTail firstProblem { seq kind } } }
          auditAnomalies(from: "${FROM.toISOString()}", to: "${TO.toISOString()}") { kind actorSub eventCount events { seq } }
        }`,
      );
      expect(result.errors).toBeUndefined();
      const data = result.data as any;
      expect(data.auditEvents.totalCount).toBe(5);
      expect(data.auditEvents.edges).toHaveLength(2);
      expect(data.auditEvents.edges[0].node).toMatchObject({ actor: { sub: 'harvester' }, subjectCount: 120, decision: 'allow' });
      expect(data.auditEvents.pageInfo.hasNextPage).toBe(true);
      expect(data.subjectAccessReport.accesses[0]).toMatchObject({ actorSub: 'night-owl', purpose: 'grid-inspection' });
      expect(data.auditIntegrity).toMatchObject({ intact: true, events: items.length });
      expect(data.auditAnomalies.length).toBeGreaterThanOrEqual(5);
      const text = JSON.stringify(data);
      expect(text).not.toContain(subjectHasher(subjectKey)(person(10)));
      expect(text.replace(`"idNumber":"${person(10)}"`, '')).not.toContain(person(10));
    });

    it('answers bad arguments with BAD_USER_INPUT', async () => {
      const result = await run(['auditor'], '{ auditAnomalies(from: "last week", to: "now") { kind } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});
