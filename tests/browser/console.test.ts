/**
 * The console in a real browser, as each role works with it: sign-in (demo picker and token),
 * each role's views and no other's, the auditors' search, paging, event details, chart, subject
 * report, integrity and export, the owners' simulator, the street's field table, and GraphiQL, all
 * served locally. On every page: no request to another origin, no console error, no CSP violation.
 * Screenshots go to tests/browser/artifacts/.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ListeningGateway } from './browser-gateway.ts';
import { useConsoleSuite } from './console-suite.ts';
import {
  HAS_CHROMIUM,
  NOT_RUN,
  launchChromium,
  navViews,
  openSession,
  openView,
  settle,
  signInAs,
  signInWithToken,
  cspViolations,
  type ConsoleSession,
} from './console-browser.ts';
import { NANJING_EAST } from '../setup.ts';
import { DEMO_USERS } from '../../gateway/cli/demo-tokens.ts';

if (!HAS_CHROMIUM) process.stdout.write(`\n  ${NOT_RUN}\n\n`);

/** The views each demo user's navigation lists: exactly these, no others. */
const NAV: Record<string, string[]> = {
  'clerk-nanjing-east': ['street-duties', 'street-grants', 'street-lookup', 'street-emergency'],
  'admin-nanjing-east': ['street-duties', 'street-grants', 'street-requests', 'street-request-new'],
  'owner-psb': ['owner-requests', 'owner-grants', 'owner-expiring', 'owner-simulator', 'emergency-sessions'],
  'auditor-1': ['emergency-sessions', 'audit-events', 'audit-timeline', 'audit-anomalies', 'audit-subject', 'audit-integrity', 'audit-export'],
  'platform-admin': ['duties'],
  'admin-urban-management': ['department-delegations', 'department-propose'],
  'reviewer-310101': ['reviewer-delegations'],
};
const VIEW_URLS: Record<string, string> = {
  'street-duties': '/console/street/duties',
  'street-grants': '/console/street/grants',
  'street-requests': '/console/street/requests',
  'street-request-new': '/console/street/requests/new',
  'street-lookup': '/console/street/lookup',
  'street-emergency': '/console/street/emergency',
  'emergency-sessions': '/console/emergency/sessions',
  'owner-requests': '/console/owner/requests',
  'owner-grants': '/console/owner/grants',
  'owner-expiring': '/console/owner/expiring',
  'owner-simulator': '/console/owner/simulator?street=310101002&duty=elderly-allowance',
  'audit-events': '/console/audit/events',
  'audit-timeline': '/console/audit/timeline',
  'audit-anomalies': '/console/audit/anomalies',
  'audit-subject': '/console/audit/subject',
  'audit-integrity': '/console/audit/integrity',
  'audit-export': '/console/audit/export',
  duties: '/console/duties',
  'department-delegations': '/console/department/delegations',
  'department-propose': '/console/department/delegations/new',
  'reviewer-delegations': '/console/reviewer/delegations',
};
describe.skipIf(!HAS_CHROMIUM)('the console in Chromium', () => {
  const suite = useConsoleSuite({ persons: 300 });
  const { session, as, expectClean } = suite;
  let gateway: ListeningGateway;
  let origin: string;
  beforeAll(() => {
    gateway = suite.gateway;
    origin = suite.origin;
  });

  it('/ leads to the sign-in; the language follows the browser and the switch changes it on every page', async () => {
    const s = await session('zh-CN');
    await s.page.goto(`${origin}/`);
    await s.page.waitForURL(/\/console\/sign-in/);
    expect(await s.page.textContent('h1')).toBe('登录连桥');
    expect(await s.page.getAttribute('html', 'lang')).toBe('zh-CN');
    // The demo picker lists the embedded demo's users, and exists only in the embedded demo.
    await s.page.waitForLoadState('networkidle');
    const users = await s.page.$$eval('[data-demo-user]', (b) => b.map((x) => x.getAttribute('data-demo-user')));
    if (gateway.gw.config.embedded) expect(users).toEqual(DEMO_USERS.map((u) => u.sub));
    else expect(users).toEqual([]);
    await s.page.click('[data-lang="en"]');
    expect(await s.page.textContent('h1')).toBe('Sign in to Lianqiao');
    // The choice is kept, and the switch is on the signed-in pages too.
    await signInAs(s, origin, 'auditor-1');
    await settle(s.page);
    expect(await s.page.textContent('h1')).toBe('Event search');
    await s.page.click('[data-lang="zh"]');
    expect(await s.page.textContent('h1')).toBe('审计事件查询');
    await s.screenshot('sign-in-and-language');
    await expectClean(s);
  });

  it('a view names its filters and page in the URL, and a deep link works after sign-in', async () => {
    const s = await session();
    await s.page.goto(`${origin}/console/audit/events?decision=deny`);
    await s.page.waitForURL(/\/console\/sign-in\?next=/);
    const next = new URL(s.page.url()).searchParams.get('next')!;
    expect(next).toBe('/console/audit/events?decision=deny');
    await signInAs(s, origin, 'auditor-1', next);
    await s.page.waitForURL(/\/console\/audit\/events\?decision=deny/);
    await settle(s.page);
    expect(await s.page.inputValue('select[name="decision"]')).toBe('deny');
    await expectClean(s);
  });

  for (const [sub, expected] of Object.entries(NAV)) {
    it(`${sub} sees exactly their own views, each without an error, and not another role's`, async () => {
      const s = await session();
      await signInAs(s, origin, sub);
      await settle(s.page);
      expect((await navViews(s.page)).sort()).toEqual([...expected].sort());
      for (const view of expected) {
        await openView(s.page, `${origin}${VIEW_URLS[view]}`);
        expect(await s.page.$('.error'), `${sub} ${view}`).toBeNull();
        await s.screenshot(`${sub}-${view}`);
      }
      // Another role's view: refused by the console itself, without asking the gateway. (A street
      // clerk's page, whatever view it shows, asks for their open emergency session: the banner.)
      const other = Object.keys(VIEW_URLS).find((v) => !expected.includes(v))!;
      const asked: string[] = [];
      const onRequest = (request: { url(): string; method(): string; postData(): string | null }) => {
        if (request.url().endsWith('/graphql') && request.method() === 'POST') asked.push(/(?:query|mutation)\s+(\w+)/.exec(JSON.parse(request.postData() ?? '{}').query ?? '')?.[1] ?? '?');
      };
      s.page.on('request', onRequest);
      await openView(s.page, `${origin}${VIEW_URLS[other]}`);
      await s.page.waitForSelector('[data-view="not-for-role"]');
      await s.page.waitForTimeout(300);
      s.page.off('request', onRequest);
      expect(asked).toEqual(expected.includes('street-emergency') ? ['ConsoleMyEmergencySession'] : []);
      await expectClean(s);
    });
  }

  it('a token pasted into the form signs in; an invalid one is refused with a clear message', async () => {
    const s = await session();
    await s.page.goto(`${origin}/console/sign-in`);
    await s.page.fill('textarea[name="token"]', 'not-a-token');
    await s.page.click('.token-form button[type="submit"]');
    await s.page.waitForSelector('.error[data-code="UNAUTHENTICATED"]');
    const token = await gateway.gw.token({ sub: 'pasted-auditor', org: 'office:security', roles: ['auditor'] });
    await signInWithToken(s, origin, token);
    expect(await s.page.textContent('[data-test="who"] .sub')).toBe('pasted-auditor');
    await expectClean(s);
  });

  describe('security officer', () => {
    let idNumber: string;

    beforeAll(async () => {
      // A street clerk reads some people (allowed) and asks for a field it has no grant for (denied).
      const clerk = await gateway.gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
      const read = await gateway.gw.graphql('query ElderlyReview { people(first: 5) { edges { node { idNumber name } } } }', {
        token: clerk,
        purpose: 'elderly-allowance',
      });
      idNumber = read.body.data.people.edges[0].node.idNumber;
      for (let i = 0; i < 3; i++) {
        await gateway.gw.graphql('query Phones { people(first: 5) { edges { node { phone } } } }', { token: clerk, purpose: 'elderly-allowance' });
      }
    });

    it('searches with filters and paging, and opens an event', async () => {
      const s = await session();
      await signInAs(s, origin, 'auditor-1');
      await openView(s.page, `${origin}/console/audit/events?decision=deny`);
      const decisions = await s.page.$$eval('[data-test="audit-events"] .decision', (d) => d.map((x) => x.className));
      expect(decisions.length).toBeGreaterThanOrEqual(3);
      for (const d of decisions) expect(d).toContain('decision-deny');
      // The filter form writes the URL.
      await s.page.fill('input[name="org"]', NANJING_EAST);
      await s.page.selectOption('select[name="decision"]', 'allow');
      await s.page.click('form.filters button[type="submit"]');
      await s.page.waitForURL(/decision=allow/);
      expect(new URL(s.page.url()).searchParams.get('org')).toBe(NANJING_EAST);
      await settle(s.page);
      const orgs = await s.page.$$eval('[data-test="audit-events"] tbody tr td:nth-child(3)', (c) => c.map((x) => x.textContent));
      expect(orgs.length).toBeGreaterThan(0);
      for (const o of orgs) expect(o).toBe(NANJING_EAST);
      // Paging: two per page, the next page in the URL, back in the browser's history.
      // (The clerk's events only: every search of the auditor's is itself a new event.)
      await openView(s.page, `${origin}/console/audit/events?first=2&org=${NANJING_EAST}`);
      const rows = () => s.page.$$eval('[data-test="audit-events"] tbody tr', (r) => r.map((x) => x.textContent));
      const firstPage = await rows();
      expect(firstPage).toHaveLength(2);
      await s.page.click('[data-test="next-page"]');
      await s.page.waitForURL(/after=/);
      // The view re-renders in place (no page load): wait for the other page's rows.
      await expect.poll(rows, { timeout: 15_000 }).not.toEqual(firstPage);
      await settle(s.page);
      expect(await rows()).toHaveLength(2);
      await s.page.goBack();
      await s.page.waitForURL((url) => !url.searchParams.has('after'));
      await expect.poll(rows, { timeout: 15_000 }).toEqual(firstPage);
      // An event's details, by its own URL.
      await openView(s.page, `${origin}/console/audit/events?decision=deny&purpose=elderly-allowance`);
      await s.page.click('[data-test="audit-events"] tbody tr:first-child a');
      await s.page.waitForURL(/\/console\/audit\/event\?/);
      await settle(s.page);
      const details = await s.page.textContent('[data-test="audit-event"]');
      expect(details).toContain('population.phone');
      expect(details).toContain('FORBIDDEN');
      await s.screenshot('auditor-event');
      await expectClean(s);
    });

    it('draws operations over time by decision, purpose and street', async () => {
      const s = await session();
      await signInAs(s, origin, 'auditor-1');
      await openView(s.page, `${origin}/console/audit/timeline`);
      expect(await s.page.$('[data-test="timeline-chart"] canvas')).not.toBeNull();
      const count = async (key: string) => Number(await s.page.textContent(`[data-test="timeline-totals"] tr[data-series="${key}"] td.num`));
      expect(await count('allow')).toBeGreaterThanOrEqual(1);
      expect(await count('deny')).toBeGreaterThanOrEqual(3);
      await s.screenshot('auditor-timeline');
      await s.page.selectOption('select[name="by"]', 'purpose');
      await s.page.click('form.filters button[type="submit"]');
      await s.page.waitForURL(/by=purpose/);
      await settle(s.page);
      expect(await count('elderly-allowance')).toBeGreaterThanOrEqual(4);
      await openView(s.page, `${origin}/console/audit/timeline?by=street&bucket=hour`);
      expect(await count('310101002')).toBeGreaterThanOrEqual(4);
      // Today by the hour (city time), for the README.
      const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
      await openView(s.page, `${origin}/console/audit/timeline?by=decision&bucket=hour&from=${today}&to=${today}`);
      expect(await count('deny')).toBeGreaterThanOrEqual(3);
      await s.screenshot('auditor-timeline-today');
      await expectClean(s);
    });

    it('reports who read a person, checks the trail and exports it', async () => {
      const s = await session();
      await signInAs(s, origin, 'auditor-1');
      await openView(s.page, `${origin}/console/audit/subject`);
      await s.page.fill('input[name="id"]', idNumber);
      await s.page.click('form.filters button[type="submit"]');
      await s.page.waitForURL(new RegExp(`id=${idNumber}`));
      await settle(s.page);
      const rows = await s.page.$$eval('[data-test="subject-accesses"] tbody tr', (r) => r.map((x) => x.textContent ?? ''));
      expect(rows.some((r) => r.includes('clerk-nanjing-east') && r.includes('elderly-allowance'))).toBe(true);
      await s.screenshot('auditor-subject');

      await openView(s.page, `${origin}/console/audit/integrity`);
      await s.page.click('[data-test="check-integrity"]');
      await s.page.waitForSelector('[data-test="integrity"]');
      expect(await s.page.getAttribute('[data-test="integrity"]', 'data-intact')).toBe('true');

      await openView(s.page, `${origin}/console/audit/export`);
      const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.click('[data-test="export"]')]);
      expect(download.suggestedFilename()).toMatch(/^audit-.*\.jsonl$/);
      const lines = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(3);
      expect(() => lines.map((l) => JSON.parse(l))).not.toThrow();
      expect(s.watch.gatewayRequests.some((r) => r.path === '/audit/export' && r.status === 200)).toBe(true);
      await s.page.waitForSelector('.success');
      await expectClean(s);
    });

    it('anomalies come with the events behind them', async () => {
      const s = await session();
      await signInAs(s, origin, 'auditor-1');
      await openView(s.page, `${origin}/console/audit/anomalies`);
      expect(await s.page.$('.error')).toBeNull();
      expect((await s.page.$('[data-test="anomalies"]')) ?? (await s.page.$('.empty'))).not.toBeNull();
      await expectClean(s);
    });
  });

  it("a data owner's access simulator shows each field's decision and the grant that decided it", async () => {
    const s = await session();
    await signInAs(s, origin, 'owner-psb', '/console/owner/simulator');
    await settle(s.page);
    await s.page.fill('input[name="street"]', '310101002');
    await s.page.selectOption('select[name="duty"]', 'elderly-allowance');
    await s.page.click('form.filters button[type="submit"]');
    await s.page.waitForURL(/street=310101002/);
    await settle(s.page);
    const row = (field: string) => s.page.textContent(`[data-test="simulation"] tr[data-field="${field}"]`);
    expect(await s.page.getAttribute('[data-test="simulation"] tr[data-field="population.name"] .access', 'class')).toContain('access-full');
    expect(await row('population.name')).toContain('population-elderly-allowance');
    expect(await row('population.name')).toContain('age ≥ 65');
    expect(await s.page.getAttribute('[data-test="simulation"] tr[data-field="population.phone"] .access', 'class')).toContain('access-denied');
    await s.screenshot('owner-simulator');
    // The grants of the department's own datasets only, filtered in the URL.
    await openView(s.page, `${origin}/console/owner/grants?duty=elderly-allowance`);
    const datasets = await s.page.$$eval('[data-test="grants"] tbody tr td:nth-child(2)', (c) => c.map((x) => x.textContent));
    expect(datasets.length).toBeGreaterThan(0);
    for (const d of datasets) expect(d).toBe('population');
    await expectClean(s);
  });

  it("a street's field table shows full, masked and not granted per duty in force", async () => {
    const s = await session();
    await signInAs(s, origin, 'admin-nanjing-east');
    await openView(s.page, `${origin}/console/street/grants`);
    const cell = (field: string, duty: string) => s.page.getAttribute(`tr[data-field="${field}"] td[data-duty="${duty}"] .access`, 'class');
    expect(await cell('population.name', 'elderly-allowance')).toContain('access-full');
    expect(await cell('population.hukouAddress', 'elderly-allowance')).toContain('access-masked');
    expect(await cell('population.phone', 'elderly-allowance')).toContain('access-denied');
    await s.screenshot('street-admin-grants');
    await expectClean(s);
  });

  it('GraphiQL is served locally and starts with the signed-in token', async () => {
    const s = await session();
    await signInAs(s, origin, 'auditor-1');
    // GraphiQL introspects the schema with the token it was given: a POST answered 200.
    const introspected = s.page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST', { timeout: 30_000 });
    await s.page.click('a.graphiql');
    await s.page.waitForURL(/\/graphql$/);
    await s.page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    expect((await introspected).status()).toBe(200);
    expect(await s.page.textContent('#root')).not.toContain('Loading');
    await s.screenshot('graphiql');
    const introspection = s.watch.gatewayRequests.filter((r) => r.path === '/graphql' && r.method === 'POST');
    expect(introspection.length).toBeGreaterThan(0);
    for (const r of introspection) expect(r.status).toBe(200);
    await expectClean(s);
  });
});

if (!HAS_CHROMIUM) it.skip(NOT_RUN, () => {});
