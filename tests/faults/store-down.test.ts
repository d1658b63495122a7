/**
 * The gateway store (policies, audit) becomes unreachable and comes back, on real PostgreSQL: the
 * store's connections go through a TCP proxy that the test cuts and restores (the shared server
 * keeps running). While it is down every operation answers SERVICE_UNAVAILABLE and no data (no
 * data without an audit event), /readyz says 503 naming the store, the outage is logged once;
 * once it is back the same process serves again, without a restart.
 */
import { sql } from 'kysely';
import { listenGateway, type ListeningGateway } from '../fixtures/http-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, NANJING_EAST, type TestGateway } from '../setup.ts';
import { logCapture, REAL_POSTGRES, startTcpProxy, targetOf, throughPort, waitFor, type TcpProxy } from './fault-tools.ts';

const PEOPLE = `query People { people(first: 5) { edges { node { idNumber name } } } }`;
const ME = `query Me { me { sub org } }`;

describe.runIf(REAL_POSTGRES)('store down and back (real PostgreSQL)', () => {
  let proxy: TcpProxy;
  let gw: TestGateway;
  let capture: ReturnType<typeof logCapture>;
  let listening: ListeningGateway;
  let base: string;
  let clerk: string;

  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(process.env.TEST_DATABASE_URL!));
    capture = logCapture();
    gw = await createTestGateway({
      backend: 'postgres',
      logger: capture.logger,
      policyPollMs: 200,
      rewriteUrl: (setting, url) => (setting === 'DATABASE_URL' ? throughPort(url, proxy.port) : url),
    });
    clerk = await gw.token({ sub: 'clerk-store', org: NANJING_EAST, roles: ['street_staff'] });
    listening = await listenGateway(gw.gateway);
    base = listening.base;
  });
  afterAll(async () => {
    await proxy?.restore();
    await listening?.close();
    await gw?.close();
    await proxy?.close();
  });

  /** Counted on a direct connection (the sources' pool goes straight to the same database). */
  const allowedEvents = async () => {
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from audit_event where chain_id = ${gw.config.instanceId} and decision = 'allow'`.execute(gw.runtime.databases.population);
    return Number(rows[0]!.n);
  };
  const ask = (query: string) => gw.graphql(query, { token: clerk, purpose: 'elderly-allowance' });

  it('refuses with SERVICE_UNAVAILABLE and no data while down, reports it, and recovers without restart', async () => {
    let allowed = 0;
    const people = await ask(PEOPLE);
    expect(people.body.errors).toBeUndefined();
    allowed++;
    expect((await ask(ME)).body.errors).toBeUndefined();
    allowed++;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await allowedEvents()).toBe(allowed);

    await proxy.cut();
    // Both right away (the audit log cannot commit) and after the poll marked the policies stale.
    for (const wait of [0, 700]) {
      await new Promise((r) => setTimeout(r, wait));
      for (const query of [PEOPLE, ME]) {
        const { status, body } = await ask(query);
        expect(status).toBe(503);
        expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
        expect(body.data ?? null).toBeNull();
        expect(JSON.stringify(body)).not.toMatch(/\d{17}[\dX]/);
      }
    }
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      ready: false,
      checks: { store: 'unavailable', population: 'ok', housing: 'ok', social_security: 'ok' },
    });
    const during = await (await fetch(`${base}/metrics`)).text();
    expect(during).toMatch(/lianqiao_policy_up 0/);
    expect(during).toMatch(/lianqiao_audit_events_failed_total [1-9]/);
    expect(during).toMatch(/lianqiao_operations_total\{decision="error",code="SERVICE_UNAVAILABLE"\} [1-9]/);

    await proxy.restore();
    const recovered = await waitFor(
      async () => {
        const r = await ask(PEOPLE);
        return r.body.errors ? undefined : r;
      },
      10_000,
      'the gateway to serve again',
    );
    expect(recovered.body.data.people.edges.length).toBeGreaterThan(0);
    allowed++;
    expect((await ask(ME)).body.errors).toBeUndefined();
    allowed++;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await (await fetch(`${base}/metrics`)).text())).toMatch(/lianqiao_policy_up 1/);

    // Every answer that carried data has its audit event; nothing was answered without one.
    expect(await allowedEvents()).toBe(allowed);
    const integrity = await gw.runtime.verifyAudit();
    expect(integrity.intact).toBe(true);

    // The outage was logged once per state change, with its cause, not once per request or poll.
    const outage = capture.messages(/^audit log cannot store events/);
    const policy = capture.messages(/^policy reload failed/);
    expect(outage).toHaveLength(1);
    expect(outage[0]!.err).toBeDefined();
    expect(policy).toHaveLength(1);
    expect(capture.messages(/^audit log stores events again/)).toHaveLength(1);
    expect(capture.messages(/^policies reloaded again/)).toHaveLength(1);
    // ... while each refused operation has its own line.
    expect(capture.messages(/^operation$/).filter((r) => r.code === 'SERVICE_UNAVAILABLE').length).toBeGreaterThanOrEqual(4);
  });
});
