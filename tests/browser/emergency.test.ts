/**
 * Emergency access and the resident's page, clicked through in Chromium as each person would:
 * a clerk starts a session (live reason counter, the clause's fields and minutes), sees the banner
 * and its countdown on every view, reads once normally and once under the session (X-Emergency only
 * on the read chosen for it), and ends it; a session left open ends by itself at its expiry; a
 * data owner reviews the session from the queue with what was read under it; reviewing one's own
 * session is refused visibly; and the person read sees both reads on a phone-sized screen, the
 * emergency one marked, in English and Chinese, a page at a time.
 * On every page: no request to another origin, no console error, no CSP violation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { sql } from 'kysely';
import type { ListeningGateway } from './browser-gateway.ts';
import { useConsoleSuite } from './console-suite.ts';
import { HAS_CHROMIUM, NOT_RUN, openView, settle, signInAs, signInWithToken } from './console-browser.ts';
import { NANJING_EAST } from '../setup.ts';

if (!HAS_CHROMIUM) process.stdout.write(`\n  ${NOT_RUN}\n\n`);

const REASON = 'Resident aged 82 missed two home visits; neighbours report no answer at the door.';
const CASE = 'CASE-2026-BROWSER-01';
const PHONE_VIEWPORT = { width: 375, height: 812 };

describe.skipIf(!HAS_CHROMIUM)('emergency access and the resident page in the console', () => {
  const suite = useConsoleSuite({ persons: 300 });
  const { session, expectClean } = suite;
  let gateway: ListeningGateway;
  let origin: string;
  let person: string;
  let sessionId: string;

  /** One GraphQL call over HTTP, as any client would make it. */
  async function api(token: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return response.json() as Promise<any>;
  }

  beforeAll(async () => {
    gateway = suite.gateway;
    origin = suite.origin;
    // An elderly resident of Nanjing East: whom the clerk reads.
    const clerk = await gateway.gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
    const people = await api(clerk, '{ people(first: 1) { edges { node { idNumber } } } }', {}, { 'x-purpose': 'elderly-allowance' });
    person = people.data.people.edges[0].node.idNumber;
  });


  /** The X-Emergency header of every GraphQL call the page makes from now on (null: not sent). */
  function emergencyHeaders(page: Page): { operation: string; emergency: string | null }[] {
    const seen: { operation: string; emergency: string | null }[] = [];
    page.on('request', (request) => {
      if (!request.url().endsWith('/graphql') || request.method() !== 'POST') return;
      const operation = /(?:query|mutation)\s+(\w+)/.exec(JSON.parse(request.postData() ?? '{}').query ?? '')?.[1] ?? '?';
      seen.push({ operation, emergency: request.headers()['x-emergency'] ?? null });
    });
    return seen;
  }

  const countdown = async (page: Page) => Number(await page.getAttribute('[data-test="emergency-countdown"]', 'data-seconds'));

  it('a clerk starts a session, sees the banner count down on every view, reads under it only when chosen, and ends it', async () => {
    const s = await session();
    const headers = emergencyHeaders(s.page);
    await signInAs(s, origin, 'clerk-nanjing-east', '/console/street/emergency');
    await settle(s.page);
    expect(await s.page.$('[data-test="emergency-banner"]')).toBeNull();
    // The clause's fields and its longest session.
    expect(await s.page.textContent('[data-test="emergency-fields"]')).toContain('population.phone');
    expect(await s.page.inputValue('input[name="minutes"]')).toBe('60');
    expect(await s.page.getAttribute('input[name="minutes"]', 'max')).toBe('60');
    // The reason is counted as it is typed; too short, nothing can be started.
    await s.page.fill('input[name="caseRef"]', CASE);
    await s.page.fill('textarea[name="reason"]', 'No answer at door');
    expect(await s.page.textContent('[data-test="reason-counter"]')).toContain('17');
    expect(await s.page.isDisabled('[data-test="emergency-start"]')).toBe(true);
    await s.page.fill('textarea[name="reason"]', REASON);
    expect(await s.page.textContent('[data-test="reason-counter"]')).toContain(String([...REASON].length));
    await s.page.fill('input[name="minutes"]', '5');
    await s.page.click('[data-test="emergency-start"]');
    await s.page.waitForSelector('[data-test="emergency-banner"]');
    sessionId = (await s.page.getAttribute('[data-test="emergency-banner"]', 'data-session'))!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await s.page.textContent('[data-test="emergency-banner"]')).toContain(CASE);
    const first = await countdown(s.page);
    expect(first).toBeGreaterThan(4 * 60);
    expect(first).toBeLessThanOrEqual(5 * 60);
    await s.page.waitForFunction((before) => Number(document.querySelector('[data-test="emergency-countdown"]')?.getAttribute('data-seconds')) < before, first, { timeout: 5000 });
    await s.screenshot('emergency-banner');

    // On every view, and the console's own reads do not send the session unasked.
    await openView(s.page, `${origin}/console/street/duties`);
    await s.page.waitForSelector('[data-test="emergency-banner"]');
    await openView(s.page, `${origin}/console/street/lookup`);
    await s.page.waitForSelector('[data-test="emergency-banner"]');
    await s.page.selectOption('select[name="duty"]', 'elderly-allowance');
    await s.page.fill('input[name="idNumber"]', person);
    expect(await s.page.isChecked('[data-test="under-session"]')).toBe(false);
    await s.page.click('[data-test="lookup-submit"]');
    await s.page.waitForSelector('[data-test="lookup-result"]');
    expect(await s.page.getAttribute('[data-test="lookup-result"]', 'data-emergency')).toBe('false');
    expect(await s.page.$('[data-test="lookup-result"] [data-field="phone"]')).toBeNull();
    // Chosen for this read: the session's fields, and the read says it is flagged.
    await s.page.check('[data-test="under-session"]');
    await s.page.fill('input[name="caseRef"]', CASE);
    await s.page.click('[data-test="lookup-submit"]');
    await s.page.waitForSelector('[data-test="read-flagged"]');
    expect(await s.page.textContent('[data-test="lookup-result"] [data-field="phone"]')).toMatch(/\d/);
    await s.screenshot('emergency-read');
    const lookups = headers.filter((h) => h.operation === 'ConsolePersonLookup');
    expect(lookups.map((h) => h.emergency)).toEqual([null, sessionId]);
    // Nothing but the read chosen for it carried the session.
    expect(headers.filter((h) => h.emergency !== null)).toHaveLength(1);

    await s.page.click('[data-test="emergency-end"]');
    await s.page.waitForSelector('[data-test="emergency-over"]');
    expect(await s.page.$('[data-test="emergency-banner"]')).toBeNull();
    await openView(s.page, `${origin}/console/street/lookup`);
    expect(await s.page.$('[data-test="under-session"]')).toBeNull();
    const stops = (await sql<{ n: string }>`select count(*)::bigint as n from audit_event where change->>'action' = 'emergency-stop' and change->>'session' = ${sessionId}`.execute(gateway.gw.runtime.databases.store)).rows;
    expect(Number(stops[0].n)).toBe(1);
    await expectClean(s);
  });

  it("a one-person session's banner, on every page, is no look-up of that person", async () => {
    const clerk = await gateway.gw.token({ sub: 'clerk-one-person', org: NANJING_EAST, roles: ['street_staff'] });
    const people = await api(clerk, '{ people(first: 2) { edges { node { idNumber } } } }', {}, { 'x-purpose': 'elderly-allowance' });
    const subject = people.data.people.edges[1].node.idNumber as string;
    const s = await session();
    await signInWithToken(s, origin, clerk);
    await openView(s.page, `${origin}/console/street/emergency`);
    await s.page.fill('input[name="subject"]', subject);
    await s.page.fill('textarea[name="reason"]', REASON);
    await s.page.fill('input[name="caseRef"]', 'CASE-ONE-PERSON');
    await s.page.click('[data-test="emergency-start"]');
    await s.page.waitForSelector('[data-test="emergency-one-person"]');
    expect(await s.page.textContent('[data-test="emergency-one-person"]')).toContain(subject);
    for (const view of ['/console/street/duties', '/console/street/grants', '/console/street/lookup']) {
      await openView(s.page, `${origin}${view}`);
      await s.page.waitForSelector('[data-test="emergency-one-person"]');
    }
    await s.page.click('[data-test="emergency-end"]');
    await s.page.waitForSelector('[data-test="emergency-over"]');
    await gateway.gw.runtime.audit.flush();
    // What the person's page lists: the session's START and STOP, never an empty "read" per page shown.
    const resident = await gateway.gw.token({ sub: subject, org: 'resident', roles: ['resident'] });
    const reads = await api(resident, '{ myDataAccess(first: 50) { edges { node { time fields duty { id } caseRef } } } }');
    for (const { node } of reads.data.myDataAccess.edges) expect(node.fields.length).toBeGreaterThan(0);
    await expectClean(s);
  });

  it('a session left open ends by itself at its expiry: the banner goes, and the expiry is in the trail', async () => {
    const token = await gateway.gw.token({ sub: 'clerk-expiring', org: NANJING_EAST, roles: ['street_staff'] });
    const start = await api(token, `mutation { startEmergencyAccess(duty: "elderly-allowance", reason: "${REASON}", caseRef: "CASE-EXPIRING") { id } }`);
    const id = start.data.startEmergencyAccess.id as string;
    await sql`update emergency_session set expires_at = now() + interval '6 seconds' where id = ${id}`.execute(gateway.gw.runtime.databases.store);
    const s = await session();
    await signInWithToken(s, origin, token);
    await s.page.waitForSelector('[data-test="emergency-banner"]');
    expect(await countdown(s.page)).toBeLessThanOrEqual(6);
    await s.page.waitForSelector('[data-test="emergency-over"]', { timeout: 12_000 });
    expect(await s.page.$('[data-test="emergency-banner"]')).toBeNull();
    await gateway.gw.runtime.emergencyExpiry.sweep();
    const stops = (await sql<{ reason: string }>`select change->>'stopReason' as reason from audit_event where change->>'action' = 'emergency-stop' and change->>'session' = ${id}`.execute(gateway.gw.runtime.databases.store)).rows;
    expect(stops.map((r) => r.reason)).toEqual(['expired']);
    await expectClean(s);
  });

  it('a data owner reviews the session from the queue, with the reads made under it', async () => {
    const s = await session();
    await signInAs(s, origin, 'owner-psb', '/console/emergency/sessions');
    await settle(s.page);
    const card = `[data-test="emergency-session"][data-session="${sessionId}"]`;
    await s.page.waitForSelector(card);
    expect(await s.page.textContent(`${card} [data-test="user"]`)).toBe('clerk-nanjing-east');
    expect(await s.page.textContent(`${card} [data-test="reason"]`)).toBe(REASON);
    expect(await s.page.textContent(`${card} [data-test="subject"]`)).toContain('none');
    expect(await s.page.textContent(`${card} [data-test="activity"]`)).toContain('1 allowed');
    expect(await s.page.textContent(`${card} [data-test="activity"]`)).toContain('population.phone');
    expect(await s.page.getAttribute(card, 'data-overdue')).toBe('false');
    await s.screenshot('emergency-queue');
    await s.page.selectOption(`${card} select[name="verdict"]`, 'JUSTIFIED');
    await s.page.fill(`${card} textarea[name="note"]`, 'Resident found unwell at home; the call was justified.');
    await s.page.click(`${card} [data-test="review-submit"]`);
    await s.page.waitForSelector('[data-test="review-done"]');
    await settle(s.page);
    expect(await s.page.$(card)).toBeNull();
    await s.page.selectOption('select[name="review"]', 'REVIEWED');
    await settle(s.page);
    expect(await s.page.textContent(`${card} [data-test="review"]`)).toContain('owner-psb');
    await expectClean(s);
  });

  it('an overdue session is marked in the queue', async () => {
    const token = await gateway.gw.token({ sub: 'clerk-overdue', org: NANJING_EAST, roles: ['street_staff'] });
    const start = await api(token, `mutation { startEmergencyAccess(duty: "elderly-allowance", reason: "${REASON}", caseRef: "CASE-OLD") { id } }`);
    const id = start.data.startEmergencyAccess.id as string;
    await sql`update emergency_session set started_at = started_at - interval '4 days', expires_at = expires_at - interval '4 days' where id = ${id}`.execute(gateway.gw.runtime.databases.store);
    const s = await session();
    await signInAs(s, origin, 'auditor-1', '/console/emergency/sessions?review=OVERDUE');
    await settle(s.page);
    const card = `[data-test="emergency-session"][data-session="${id}"]`;
    await s.page.waitForSelector(`${card} [data-test="overdue"]`);
    expect(await s.page.getAttribute(card, 'data-overdue')).toBe('true');
    await expectClean(s);
  });

  it("reviewing one's own session is refused, and the refusal is shown", async () => {
    const both = { sub: 'clerk-and-auditor', org: NANJING_EAST, roles: ['street_staff', 'auditor'] as const };
    const token = await gateway.gw.token({ ...both, roles: [...both.roles] });
    const start = await api(token, `mutation { startEmergencyAccess(duty: "elderly-allowance", reason: "${REASON}", caseRef: "CASE-SELF") { id } }`);
    const id = start.data.startEmergencyAccess.id as string;
    const s = await session();
    await signInWithToken(s, origin, token);
    await openView(s.page, `${origin}/console/emergency/sessions`);
    const card = `[data-test="emergency-session"][data-session="${id}"]`;
    await s.page.waitForSelector(`${card} [data-test="own-session"]`);
    await s.page.fill(`${card} textarea[name="note"]`, 'Looks fine to me.');
    await s.page.click(`${card} [data-test="review-submit"]`);
    await s.page.waitForSelector(`${card} .error[data-code="FORBIDDEN"]`);
    expect(await s.page.textContent(`${card} .error`)).toContain('nobody reviews their own emergency session');
    await s.screenshot('emergency-self-review');
    const row = (await sql<{ reviewed_at: Date | null }>`select reviewed_at from emergency_session where id = ${id}`.execute(gateway.gw.runtime.databases.store)).rows[0];
    expect(row.reviewed_at).toBeNull();
    // The error is a gateway answer the page shows, not a page error.
    await expectClean(s);
  });

  it("the person read sees the clerk's reads on a phone-sized screen, the emergency one marked, a page at a time, in English and Chinese", async () => {
    // More reads than one page holds: ordinary reads with a case reference, by the clerk.
    const clerk = await gateway.gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
    for (let i = 0; i < 11; i++) {
      const r = await api(clerk, 'query($id: ID!) { person(idNumber: $id) { idNumber name } }', { id: person }, { 'x-purpose': 'elderly-allowance', 'x-case-ref': `CASE-VISIT-${i}` });
      expect(r.errors).toBeUndefined();
    }
    await gateway.gw.runtime.audit.flush();
    const resident = await gateway.gw.token({ sub: person, org: 'resident', roles: ['resident'] });
    const s = await session();
    await s.page.setViewportSize(PHONE_VIEWPORT);
    await signInWithToken(s, origin, resident);
    await openView(s.page, `${origin}/console/resident/reads`);
    const noHorizontalScroll = () => s.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(await noHorizontalScroll()).toBe(true);
    const entries = () => s.page.$$eval('[data-test="read-entry"]', (els) => els.map((e) => ({ emergency: e.getAttribute('data-emergency'), text: e.textContent ?? '', width: e.getBoundingClientRect().width, font: parseFloat(getComputedStyle(e).fontSize) })));
    const page1 = await entries();
    expect(page1).toHaveLength(10);
    for (const e of page1) {
      expect(e.width).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
      expect(e.font).toBeGreaterThanOrEqual(13);
      expect(e.text).toContain('Nanjing East');
    }
    expect(page1[0].text).toContain('CASE-VISIT-10');
    expect(await s.page.textContent('[data-test="disclosure-delay"]')).toContain('delay');
    await s.screenshot('resident-phone');
    await s.page.click('[data-test="next-page"]');
    await settle(s.page);
    expect(await noHorizontalScroll()).toBe(true);
    const page2 = await entries();
    expect(page2.length).toBeGreaterThanOrEqual(3);
    // The clerk's two reads in the console: the ordinary one and the emergency one, marked.
    const emergency = page2.filter((e) => e.emergency === 'true');
    expect(emergency).toHaveLength(1);
    expect(emergency[0].text).toContain(CASE);
    expect(emergency[0].text).toContain('population.phone');
    expect(emergency[0].text).toContain('emergency');
    expect(page2.filter((e) => e.emergency === 'false').length).toBeGreaterThanOrEqual(2);
    await s.screenshot('resident-phone-emergency');
    await s.page.click('[data-lang="zh"]');
    await settle(s.page);
    expect(await s.page.textContent('[data-test="emergency-read"]')).toBe('紧急访问');
    expect(await s.page.textContent('h1')).toBe('谁查看了我的数据');
    expect(await noHorizontalScroll()).toBe(true);
    await expectClean(s);
  });
});

if (!HAS_CHROMIUM) it.skip(NOT_RUN, () => {});
