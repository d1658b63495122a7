/**
 * The admission review's whole loop, clicked through in the console as each role would
 * (CONTRACT.md § Admission review, § Console): a department admin proposes a duty for a street, the
 * district reviewer admits it, the street admin asks for fields, the data owner approves narrower
 * (a field MASKED instead of FULL, one left out, an earlier end), a clerk reads exactly that, and
 * the security officer finds the read in the search, the chart and the person's access report.
 * Then the owner withdraws the grant and the next read is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ListeningGateway } from './browser-gateway.ts';
import { useConsoleSuite } from './console-suite.ts';
import { HAS_CHROMIUM, NOT_RUN, openView, settle } from './console-browser.ts';
import { NANJING_EAST } from '../setup.ts';

if (!HAS_CHROMIUM) process.stdout.write(`\n  ${NOT_RUN}\n\n`);

const DUTY = 'illegal-construction';

describe.skipIf(!HAS_CHROMIUM)('the admission loop in the console', () => {
  const suite = useConsoleSuite({ persons: 300 });
  const { session, as, expectClean } = suite;
  let gateway: ListeningGateway;
  let origin: string;
  beforeAll(() => {
    gateway = suite.gateway;
    origin = suite.origin;
  });

  it('propose → admit → request → approve narrower → read → found by the security officer → withdraw', async () => {
    const clerk = await gateway.gw.token({ sub: 'clerk-nanjing-east', org: NANJING_EAST, roles: ['street_staff'] });
    const read = (query: string) => gateway.gw.graphql(query, { token: clerk, purpose: DUTY });

    // Before: the street may not declare the duty at all.
    expect((await read('{ people(first: 1) { totalCount } }')).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // 1. The department admin proposes the duty for Nanjing East Road.
    const department = await as('admin-urban-management', 'dept:urban-management', ['department_admin']);
    await openView(department.page, `${origin}/console/department/delegations/new`);
    await department.page.selectOption('select[name="duty"]', DUTY);
    await department.page.check('input[name="street"][value="310101002"]');
    await department.page.fill('input[name="legalBasis"]', '沪城管规〔2026〕9号');
    await department.page.click('[data-test="propose"]');
    await department.page.waitForURL(/\/console\/department\/delegations\?state=PROPOSED/);
    await settle(department.page);
    const proposal = department.page.locator('[data-delegation]', { hasText: '沪城管规〔2026〕9号' });
    await proposal.waitFor();
    const delegationId = (await proposal.getAttribute('data-delegation'))!;
    await department.screenshot('loop-1-department-proposed');
    await expectClean(department);

    // 2. The Huangpu reviewer admits it.
    const reviewer = await as('reviewer-310101', 'district:310101', ['district_reviewer']);
    await openView(reviewer.page, `${origin}/console/reviewer/delegations`);
    const card = reviewer.page.locator(`[data-delegation="${delegationId}"]`);
    await card.locator('textarea[name="reason"]').fill('Street enforcement team trained and equipped');
    await card.locator('[data-test="admit"]').click();
    await reviewer.page.locator('.success', { hasText: delegationId }).waitFor();
    await reviewer.screenshot('loop-2-reviewer-admitted');
    await expectClean(reviewer);

    // 3. The street admin sees the duty in force and asks for three population fields.
    const street = await as('admin-nanjing-east', NANJING_EAST, ['street_admin']);
    await openView(street.page, `${origin}/console/street/duties`);
    expect(await street.page.textContent('[data-test="duties"]')).toContain(DUTY);
    await openView(street.page, `${origin}/console/street/requests/new?duty=${DUTY}&dataset=population`);
    await street.page.waitForSelector('[data-test="request-fields"] tr[data-field="population.name"]');
    await street.page.selectOption('select[name="ask:population.idNumber"]', 'FULL');
    await street.page.selectOption('select[name="ask:population.name"]', 'FULL');
    await street.page.selectOption('select[name="ask:population.phone"]', 'FULL');
    await street.page.fill('textarea[name="reason"]', 'Notify residents of buildings under enforcement');
    await street.page.fill('input[name="legalBasis"]', '沪城管规〔2026〕9号');
    await street.page.click('[data-test="submit-request"]');
    await street.page.waitForURL((url) => /^\/console\/street\/requests\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith('/new'));
    await settle(street.page);
    const requestId = decodeURIComponent(street.page.url().split('/').pop()!);
    expect(await street.page.getAttribute('[data-request]', 'data-state')).toBe('PENDING');
    await street.screenshot('loop-3-street-requested');
    await expectClean(street);

    // 4. The public security owner sees what it would change and approves narrower.
    const owner = await as('owner-psb', 'dept:public-security', ['data_owner']);
    await openView(owner.page, `${origin}/console/owner/requests`);
    const pending = owner.page.locator(`[data-request="${requestId}"]`);
    expect(await pending.locator('[data-test="changes"] tr.changed').count()).toBeGreaterThanOrEqual(3);
    // Another department's owner does not see it at all.
    const housing = await as('owner-housing', 'dept:housing', ['data_owner']);
    await openView(housing.page, `${origin}/console/owner/requests?state=`);
    expect(await housing.page.$(`[data-request="${requestId}"]`)).toBeNull();
    for (const dataset of await housing.page.$$eval('[data-request] dd code', (c) => c.map((x) => x.textContent))) expect(dataset).not.toBe('population');
    await expectClean(housing);
    await pending.locator('[data-test="review"]').click();
    await owner.page.waitForURL((url) => /^\/console\/owner\/requests\/[^/]+$/.test(url.pathname));
    await settle(owner.page);
    await owner.page.selectOption('select[name="approve:name"]', 'MASKED');
    await owner.page.selectOption('select[name="approve:phone"]', '');
    const earlier = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    await owner.page.fill('input[name="validUntil"]', earlier);
    await owner.page.fill('textarea[name="reason"]', 'Names masked and no phone numbers: a letter is enough');
    await owner.screenshot('loop-4-owner-review');
    await owner.page.click('[data-test="approve"]');
    await owner.page.waitForSelector('[data-request][data-state="APPROVED"]');
    await expectClean(owner);

    // 5. A clerk of the street reads exactly what was approved.
    const people = await read('query Enforcement { people(first: 3) { edges { node { idNumber name } } } }');
    expect(people.body.errors).toBeUndefined();
    const first = people.body.data.people.edges[0].node;
    expect(first.name).toMatch(/\*/);
    const phone = await read('{ people(first: 1) { edges { node { phone } } } }');
    expect(phone.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // 6. The security officer finds the read in the search, the chart and the subject report.
    const auditor = await as('auditor-1', 'office:security', ['auditor']);
    await openView(auditor.page, `${origin}/console/audit/events?purpose=${DUTY}&decision=allow`);
    expect(await auditor.page.textContent('[data-test="audit-events"]')).toContain('Enforcement');
    await openView(auditor.page, `${origin}/console/audit/events?actor=owner-psb`);
    expect(await auditor.page.textContent('[data-test="audit-events"]')).toContain('reviewAccessRequest');
    await openView(auditor.page, `${origin}/console/audit/timeline?by=purpose`);
    expect(Number(await auditor.page.textContent(`[data-test="timeline-totals"] tr[data-series="${DUTY}"] td.num`))).toBeGreaterThanOrEqual(2);
    await auditor.screenshot('loop-6-auditor-timeline');
    await openView(auditor.page, `${origin}/console/audit/subject?id=${first.idNumber}`);
    const accesses = await auditor.page.textContent('[data-test="subject-accesses"]');
    expect(accesses).toContain(DUTY);
    expect(accesses).toContain('clerk-nanjing-east');
    await auditor.screenshot('loop-6-auditor-subject');
    await expectClean(auditor);

    // 7. The owner withdraws the grant; the next read is refused.
    await openView(owner.page, `${origin}/console/owner/grants?duty=${DUTY}`);
    const grant = owner.page.locator('[data-test="grants"] tr[data-grant]').first();
    await grant.locator('[data-test="withdraw"]').click();
    await grant.locator('input[name="reason"]').fill('Enforcement finished');
    const grantId = (await grant.getAttribute('data-grant'))!;
    await grant.locator('[data-test="confirm-withdraw"]').click();
    await owner.page.locator('.success', { hasText: grantId }).waitFor();
    // The list reloads behind the message: the grant shows as withdrawn.
    await expect.poll(() => owner.page.textContent(`tr[data-grant="${grantId}"]`), { timeout: 15_000 }).toContain('withdrawn');
    expect((await read('{ people(first: 1) { edges { node { name } } } }')).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await expectClean(owner);
  });
});

if (!HAS_CHROMIUM) it.skip(NOT_RUN, () => {});
