/**
 * How the gateway serves the console and GraphiQL, without a browser: the pages and assets, the
 * fixed list of vendored files (nothing else of node_modules), no way out of console/, the demo
 * users only in the embedded demo, and the Content-Security-Policy of each kind of answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import http, { type Server } from 'node:http';
import { consoleRoute, graphiqlPage } from '../../gateway/http/console-route.ts';
import { securityHeaders } from '../../gateway/http/security-headers.ts';
import { ROLES } from '../../core/identity.ts';

type Catalogue = Record<string, string>;
// Plain browser modules: loaded by a path TypeScript does not follow.
const load = async (name: string): Promise<Catalogue> => ((await import(`../../console/i18n/${name}.js` as string)) as { default: Catalogue }).default;

async function serve(options: Parameters<typeof consoleRoute>[0]): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(securityHeaders('/graphql'));
  app.use(consoleRoute(options));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describe('the console route', () => {
  let embedded: { url: string; close(): Promise<void> };
  let production: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    embedded = await serve({ demoUsers: async () => [{ label: 'Security officer', token: 'demo.token.value' }] });
    production = await serve({});
  });
  afterAll(async () => {
    await embedded.close();
    await production.close();
  });

  it('/ leads to /console, and every view path is the one page', async () => {
    const root = await fetch(`${embedded.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console');
    for (const path of ['/console', '/console/', '/console/audit/events', '/console/owner/requests/req-1']) {
      const page = await fetch(`${embedded.url}${path}?decision=deny`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<script type="module" src="/console/app.js"></script>');
      // No inline script: every <script> has a src.
      expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    }
  });

  it('serves the application and the listed libraries as JavaScript, nothing else of node_modules', async () => {
    for (const path of ['/console/app.js', '/console/vendor/preact.mjs', '/console/vendor/htm.mjs', '/console/vendor/uplot.mjs', '/console/vendor/graphiql/yoga-graphiql.umd.js']) {
      const response = await fetch(`${embedded.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // preact/hooks' bare import is resolved to the vendored preact, as an import map would.
    const hooks = await (await fetch(`${embedded.url}/console/vendor/preact-hooks.mjs`)).text();
    expect(hooks).toContain('from"./preact.mjs"');
    expect(hooks).not.toContain('from"preact"');
    for (const path of ['/console/vendor/preact/package.json', '/console/vendor/../../package.json', '/console/vendor/graphql/index.js']) {
      expect((await fetch(`${embedded.url}${path}`)).status, path).toBe(404);
    }
  });

  it('never serves a file outside console/', async () => {
    // Sent as written (fetch would normalise the dots away before sending).
    const raw = async (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(embedded.url);
        http
          .get({ host: url.hostname, port: url.port, path }, (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    for (const path of ['/console/../package.json', '/console/../../package.json', '/console/vendor/../../gateway/config.ts', '/console/lib/../../package.json']) {
      const response = await raw(path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain('"dependencies"');
    }
    for (const path of ['/console/..%2f..%2fpackage.json', '/console/%2e%2e/%2e%2e/package.json', '/console/..%2fgateway%2fconfig.ts', '/console/x/..%2f..%2f..%2f.gitignore.js']) {
      const response = await fetch(`${embedded.url}${path}`);
      expect([200, 404], path).toContain(response.status);
      const text = await response.text();
      expect(text, path).not.toContain('"dependencies"');
      expect(text, path).not.toContain('loadConfig');
    }
  });

  it('lists the demo users only in the embedded demo', async () => {
    const demo = await fetch(`${embedded.url}/console/demo-users.json`);
    expect(demo.headers.get('cache-control')).toBe('no-store');
    expect((await demo.json()).users).toEqual([{ label: 'Security officer', token: 'demo.token.value' }]);
    const none = await fetch(`${production.url}/console/demo-users.json`);
    expect((await none.json()).users).toEqual([]);
  });

  it("the console's CSP allows only the gateway's own origin and no inline script or style", async () => {
    const csp = directives((await fetch(`${embedded.url}/console/audit/events`)).headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    for (const values of csp.values()) for (const v of values) expect(v).not.toMatch(/^https?:|unsafe-inline|unsafe-eval|\*/);
  });

  it('the GraphiQL page loads everything from the gateway, with no inline script', () => {
    const html = graphiqlPage({ title: 'Lianqiao <test>', headers: '{"X-Purpose":"elderly-allowance"}' });
    expect(html).not.toMatch(/https?:\/\//);
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    expect(html).toContain('<title>Lianqiao &lt;test&gt;</title>');
    // yoga's options travel escaped in a data attribute.
    expect(html).toContain('data-options="{&quot;endpoint&quot;:&quot;/graphql&quot;');
    expect(html).not.toContain('__TITLE__');
  });
});

describe('the console catalogues', () => {
  let en: Catalogue;
  let zh: Catalogue;
  beforeAll(async () => {
    en = await load('en');
    zh = await load('zh');
  });

  it('Chinese and English have the same keys, and no empty string', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, value] of [...Object.entries(en), ...Object.entries(zh)]) expect(value, key).not.toBe('');
  });

  it('every key the console uses is in the catalogues', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const root = path.resolve(import.meta.dirname, '../../console');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (full.endsWith('.js') && !full.includes(`${path.sep}i18n${path.sep}`)) files.push(full);
      }
    };
    walk(root);
    const used = new Set<string>();
    for (const file of files) for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1]);
    expect(used.size).toBeGreaterThan(100);
    // Keys made from values: every role, decision, state and dataset has its words.
    for (const role of ROLES) used.add(`role.${role}`);
    for (const d of ['allow', 'deny', 'error']) used.add(`decision.${d}`);
    for (const s of ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'PROPOSED', 'ADMITTED', 'WITHDRAWN', 'EXPIRED']) used.add(`state.${s}`);
    for (const d of ['population', 'housing', 'social_security']) used.add(`dataset.${d}`);
    for (const key of used) expect(Object.hasOwn(en, key), key).toBe(true);
  });
});
