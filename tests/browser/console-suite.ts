/**
 * One set-up for every browser test file: a listening gateway, one Chromium, the tabs opened on it,
 * and the one check every view must pass (no foreign request, no console error, no CSP violation,
 * and no call but to /graphql and /audit/export). Call inside a `describe`: it registers the
 * suite's beforeAll/afterAll there.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser } from 'playwright-core';
import { listeningGateway, type ListeningGateway } from './browser-gateway.ts';
import { cspViolations, launchChromium, openSession, settle, signInWithToken, type ConsoleSession } from './console-browser.ts';

export interface ConsoleSuite {
  /** The gateway (set in the suite's beforeAll). */
  readonly gateway: ListeningGateway;
  /** Its origin, e.g. `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** A fresh tab, not signed in. */
  session(locale?: string): Promise<ConsoleSession>;
  /** A tab signed in with a token for these claims (the token form, as any user can). */
  as(sub: string, org: string, roles: string[]): Promise<ConsoleSession>;
  /** Nothing from another origin, no console error, no CSP violation, no call but the API's. */
  expectClean(s: ConsoleSession): Promise<void>;
}

export function useConsoleSuite(options: { persons: number }): ConsoleSuite {
  let gateway: ListeningGateway | undefined;
  let browser: Browser | undefined;
  const sessions: ConsoleSession[] = [];

  beforeAll(async () => {
    gateway = await listeningGateway({ persons: options.persons });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await browser?.close();
    await gateway?.close();
  });

  const suite: ConsoleSuite = {
    get gateway() {
      if (!gateway) throw new Error('the console suite has not started (use it inside a describe, after its beforeAll)');
      return gateway;
    },
    get origin() {
      return suite.gateway.url;
    },
    async session(locale) {
      const s = await openSession(browser!, suite.origin, { locale });
      sessions.push(s);
      return s;
    },
    async as(sub, org, roles) {
      const s = await suite.session();
      await signInWithToken(s, suite.origin, await suite.gateway.gw.token({ sub, org, roles: roles as never }));
      await settle(s.page);
      return s;
    },
    async expectClean(s) {
      expect(s.watch.foreign).toEqual([]);
      expect(s.watch.errors).toEqual([]);
      expect(await cspViolations(s.page)).toEqual([]);
      // The console talks to /graphql and /audit/export only; everything else it loads is its own assets.
      const paths = s.watch.gatewayRequests.map((r) => r.path).filter((p) => !p.startsWith('/console'));
      for (const p of paths) expect(['/', '/graphql', '/audit/export']).toContain(p);
    },
  };
  return suite;
}
