/**
 * Driving the console in Chromium (playwright-core, Debian's /usr/bin/chromium, no browser
 * download): one browser per test file, one context per user, and a watch on every page for what
 * the console must never do: ask another origin, log an error, or trip the Content-Security-Policy.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_USERS } from '../../gateway/cli/demo-tokens.ts';
import { signToken } from '../../gateway/auth/token-signer.ts';
import { TEST_SECRET } from '../backends.ts';
import type { Role } from '../../core/identity.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
export const NOT_RUN = `browser tests not run: no Chromium at ${CHROMIUM}`;
export const ARTIFACTS = path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** What a page did that the console must not do, and every request it made to the gateway. */
export interface Watch {
  readonly foreign: string[];
  readonly errors: string[];
  readonly cspViolations: string[];
  readonly gatewayRequests: { method: string; path: string; status?: number }[];
}

export interface ConsoleSession {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly watch: Watch;
  /** Saves a screenshot under tests/browser/artifacts/ (gitignored). */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openSession(browser: Browser, origin: string, options: { locale?: string } = {}): Promise<ConsoleSession> {
  const context = await browser.newContext({ locale: options.locale ?? 'en-GB', viewport: { width: 1360, height: 860 }, acceptDownloads: true });
  // Reported from inside the page: CSP violations never reach the network, and some are not logged.
  await context.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const watch: Watch = { foreign: [], errors: [], cspViolations: [], gatewayRequests: [] };
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (url.origin !== origin) watch.foreign.push(request.url());
    else watch.gatewayRequests.push({ method: request.method(), path: url.pathname });
  });
  context.on('response', (response) => {
    const url = new URL(response.url());
    const entry = [...watch.gatewayRequests].reverse().find((r) => r.path === url.pathname && r.status === undefined);
    if (entry) entry.status = response.status();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(message.text());
  });
  page.on('pageerror', (error) => watch.errors.push(`uncaught: ${error.message}`));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    watch,
    async screenshot(name) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      const violations = await page.evaluate(() => (window as any).__cspViolations ?? []).catch(() => []);
      watch.cspViolations.push(...violations);
      await context.close();
    },
  };
}

/** The CSP violations the current page has seen so far. */
export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as any).__cspViolations ?? []);
}

/** Users of the admission review's roles, as the admission demo data names them. */
export const MORE_USERS: readonly { sub: string; org: string; roles: Role[] }[] = [
  { sub: 'admin-urban-management', org: 'dept:urban-management', roles: ['department_admin' as Role] },
  { sub: 'reviewer-310101', org: 'district:310101', roles: ['district_reviewer' as Role] },
];

/**
 * Signs in as one of the demo users and waits for the role's first view (or `next`): through the
 * picker in the embedded demo, else by pasting a token with the demo user's claims.
 */
export async function signInAs(session: ConsoleSession, origin: string, sub: string, next?: string): Promise<void> {
  await session.page.goto(next ? `${origin}/console/sign-in?next=${encodeURIComponent(next)}` : `${origin}/`);
  await session.page.waitForURL(/\/console\/sign-in/);
  await session.page.waitForLoadState('networkidle');
  if (await session.page.$(`[data-demo-user="${sub}"]`)) {
    await session.page.click(`[data-demo-user="${sub}"]`);
  } else {
    // Not embedded (no picker), or a user the demo does not list: the same claims, as a token.
    const user = [...DEMO_USERS, ...MORE_USERS].find((u) => u.sub === sub);
    if (!user) throw new Error(`no demo user ${sub}`);
    await session.page.fill('textarea[name="token"]', await signToken(TEST_SECRET, { sub: user.sub, org: user.org, roles: user.roles }, '1h'));
    await session.page.click('.token-form button[type="submit"]');
  }
  await session.page.waitForSelector('[data-test="who"]');
}

/** Signs in by pasting a token into the form (users the demo picker does not list). */
export async function signInWithToken(session: ConsoleSession, origin: string, token: string): Promise<void> {
  await session.page.goto(`${origin}/console/sign-in`);
  await session.page.fill('textarea[name="token"]', token);
  await session.page.click('.token-form button[type="submit"]');
  await session.page.waitForSelector('[data-test="who"]');
}

/** Opens a console URL and waits until its data has arrived (no loading indicator left). */
export async function openView(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await settle(page);
}

/**
 * Waits until the view has its data: a moment for a navigation inside the page to start its calls,
 * then no GraphQL call in flight (`<html data-busy>`) and no loading indicator.
 */
export async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.waitForTimeout(150);
  await page.waitForFunction(
    () => (document.documentElement.dataset.busy ?? '0') === '0' && !document.querySelector('.loading'),
    undefined,
    { timeout: 20_000 },
  );
}

/** The ids of the views in the navigation. */
export async function navViews(page: Page): Promise<string[]> {
  return page.$$eval('[data-view-link]', (links) => links.map((a) => a.getAttribute('data-view-link')!));
}
