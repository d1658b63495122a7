/**
 * An emergency clause through the admission review, clicked through in the console: the street
 * admin asks for fields and, in the form's emergency column, for two emergency fields for 45
 * minutes; the data owner sees what a session would open after approval and approves narrower (one
 * field, masked, 15 minutes); the grant shows the narrower clause to the owner and to the street,
 * and a clerk's session under it opens exactly that field for at most that long.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ListeningGateway } from './browser-gateway.ts';
import { useConsoleSuite } from './console-suite.ts';
import { HAS_CHROMIUM, NOT_RUN, openView, settle } from './console-browser.ts';
import { NANJING_EAST } from '../setup.ts';
import { emergencyCall, REASON, START } from '../integration/emergency-fixtures.ts';

if (!HAS_CHROMIUM) process.stdout.write(`\n  ${NOT_RUN}\n\n`);

const DUTY = 'minimum-living-assistance';

describe.skipIf(!HAS_CHROMIUM)('an emergency clause asked, narrowed and granted in the console', () => {
  const suite = useConsoleSuite({ persons: 200 });
  const { session, as, expectClean } = suite;
  let gateway: ListeningGateway;
  let origin: string;
  beforeAll(() => {
    gateway = suite.gateway;
    origin = suite.origin;
  });

  it('request with an emergency clause → approved narrower → shown on the grant → a session opens exactly that', async () => {
    // 1. The street admin asks for three fields and, for emergencies, phone and hukouAddress for 45 minutes.
    const street = await as('admin-nanjing-east', NANJING_EAST, ['street_admin']);
    await openView(street.page, `${origin}/console/street/requests/new?duty=${DUTY}&dataset=population`);
    await street.page.waitForSelector('[data-test="request-fields"] tr[data-field="population.name"]');
    await street.page.selectOption('select[name="ask:population.idNumber"]', 'FULL');
    await street.page.selectOption('select[name="ask:population.name"]', 'FULL');
    await street.page.selectOption('select[name="emergency:population.phone"]', 'FULL');
    await street.page.selectOption('select[name="emergency:population.hukouAddress"]', 'FULL');
    await street.page.fill('input[name="emergencyMinutes"]', '45');
    await street.page.fill('textarea[name="reason"]', 'Assistance reviews; reach a recipient who stops answering');
    await street.page.fill('input[name="legalBasis"]', '沪民规〔2026〕3号');
    await street.page.click('[data-test="submit-request"]');
    await street.page.waitForURL((url) => /^\/console\/street\/requests\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith('/new'));
    await settle(street.page);
    const requestId = decodeURIComponent(street.page.url().split('/').pop()!);
    const asked = street.page.locator('[data-test="asked-emergency"] [data-test="emergency-clause"]');
    expect(await asked.getAttribute('data-minutes')).toBe('45');
    expect(await asked.locator('li[data-field]').evaluateAll((items) => items.map((i) => i.getAttribute('data-field')).sort())).toEqual(['hukouAddress', 'phone']);
    await street.screenshot('emergency-clause-1-requested');
    await expectClean(street);

    // 2. The owner sees what a session would open, and approves narrower: phone only, masked, 15 minutes.
    const owner = await as('owner-psb', 'dept:public-security', ['data_owner']);
    await openView(owner.page, `${origin}/console/owner/requests/${encodeURIComponent(requestId)}`);
    await owner.page.waitForSelector('[data-test="review-emergency"]');
    const phoneChange = owner.page.locator('[data-test="changes"] tr[data-field="population.phone"]');
    expect(await phoneChange.getAttribute('class')).toBe('changed');
    expect(await phoneChange.locator('[data-test="after-emergency"] .access').getAttribute('class')).toContain('access-full');
    await owner.page.selectOption('select[name="approve-emergency:phone"]', 'MASKED');
    await owner.page.selectOption('select[name="approve-emergency:hukouAddress"]', '');
    await owner.page.fill('[data-test="review-emergency"] input[name="emergencyMinutes"]', '15');
    await owner.page.fill('textarea[name="reason"]', 'Masked phone for at most a quarter of an hour is enough to reach them');
    await owner.screenshot('emergency-clause-2-review');
    await owner.page.click('[data-test="approve"]');
    await owner.page.waitForSelector('[data-request][data-state="APPROVED"]');
    const approved = owner.page.locator('[data-test="approved-emergency"] [data-test="emergency-clause"]');
    expect(await approved.getAttribute('data-minutes')).toBe('15');
    expect(await approved.locator('li[data-field="phone"] .access').getAttribute('class')).toContain('access-masked');
    expect(await approved.locator('li[data-field="hukouAddress"]').count()).toBe(0);
    await expectClean(owner);

    // 3. The grant shows the narrower clause, to the owner and to the street.
    const grantId = `grant-${requestId}`;
    await openView(owner.page, `${origin}/console/owner/grants?duty=${DUTY}`);
    const ownerClause = owner.page.locator(`[data-test="grants"] tr[data-grant="${grantId}"] [data-test="emergency-clause"]`);
    expect(await ownerClause.getAttribute('data-minutes')).toBe('15');
    expect(await ownerClause.locator('li[data-field]').evaluateAll((items) => items.map((i) => i.getAttribute('data-field')))).toEqual(['phone']);
    await owner.screenshot('emergency-clause-3-owner-grants');
    await openView(street.page, `${origin}/console/street/grants`);
    const streetClause = street.page.locator(`[data-test="street-grant-list"] tr[data-grant="${grantId}"] [data-test="emergency-clause"]`);
    expect(await streetClause.getAttribute('data-minutes')).toBe('15');
    expect(await streetClause.locator('li[data-field="phone"] .access').getAttribute('class')).toContain('access-masked');
    await expectClean(owner);
    await expectClean(street);

    // 4. A clerk's session under the grant opens the approved field only, for at most 15 minutes.
    const call = emergencyCall(gateway.gw);
    const clerk = await gateway.gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
    expect((await call(clerk, START, { variables: { duty: DUTY, reason: REASON, caseRef: 'CASE-CONSOLE-1', minutes: 16 } })).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const started = await call(clerk, START, { variables: { duty: DUTY, reason: REASON, caseRef: 'CASE-CONSOLE-1' } });
    expect(started.body.errors, JSON.stringify(started.body.errors)).toBeUndefined();
    expect(started.body.data.startEmergencyAccess.fields).toEqual(['population.phone']);
  });
});

if (!HAS_CHROMIUM) it.skip(NOT_RUN, () => {});
