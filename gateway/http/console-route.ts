/**
 * The web console and GraphiQL, served by the gateway itself: no CDN, so both work on a government
 * network with no internet, under the strict CSP of gateway/http/security-headers.ts.
 *
 * - `/` leads to `/console`.
 * - `/console/<file>.<ext>`: the browser application in `console/` (static ES modules, no build step).
 * - `/console/vendor/…`: the libraries it uses, straight from node_modules (a fixed list, nothing
 *   else of node_modules is reachable).
 * - any other `/console/…` path: the application's one page, so that every view has its own URL.
 * - `/console/demo-users.json`: in the embedded demo only, the demo users and fresh tokens for the
 *   sign-in picker (the same tokens `npm start` prints); an empty list in any other mode.
 * - {@link graphiqlPage}: yoga's GraphiQL page rewritten to load its bundle, styles and editor
 *   workers from `/console/vendor/graphiql/` with no inline script.
 *
 * The console has no endpoint of its own that reads data: it calls `/graphql` and `/audit/export`
 * with the user's token, like any client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONSOLE_DIR = path.join(PROJECT_ROOT, 'console');
const NODE_MODULES = path.join(PROJECT_ROOT, 'node_modules');

/** One demo user of the sign-in picker. */
export interface ConsoleDemoUser {
  readonly label: string;
  readonly token: string;
}

export interface ConsoleRouteOptions {
  /** Embedded demo mode only: the demo users with fresh tokens. Omit it everywhere else. */
  readonly demoUsers?: () => Promise<readonly ConsoleDemoUser[]>;
}

/**
 * The vendored files, by the URL under `/console/vendor/`. preact/hooks imports the bare specifier
 * `preact`; browsers resolve bare specifiers only through an import map, and an import map is an
 * inline script, which `script-src 'self'` forbids. So that one specifier is resolved here, as the
 * import map would have done, and the file is otherwise served as it is.
 */
const VENDOR: Readonly<Record<string, { file: string; rewrite?: readonly [string, string] }>> = {
  'preact.mjs': { file: 'preact/dist/preact.mjs' },
  'preact-hooks.mjs': { file: 'preact/hooks/dist/hooks.mjs', rewrite: ['from"preact"', 'from"./preact.mjs"'] },
  'htm.mjs': { file: 'htm/dist/htm.mjs' },
  'uplot.mjs': { file: 'uplot/dist/uPlot.esm.js' },
  'uplot.css': { file: 'uplot/dist/uPlot.min.css' },
  'graphiql/yoga-graphiql.umd.js': { file: '@graphql-yoga/graphiql/dist/yoga-graphiql.umd.js' },
  'graphiql/graphiql.css': { file: '@graphql-yoga/graphiql/dist/graphiql.css' },
  'graphiql/editor.worker.js': { file: '@graphql-yoga/graphiql/dist/monacoeditorwork/editor.worker.bundle.js' },
  'graphiql/json.worker.js': { file: '@graphql-yoga/graphiql/dist/monacoeditorwork/json.worker.bundle.js' },
  'graphiql/graphql.worker.js': { file: '@graphql-yoga/graphiql/dist/monacoeditorwork/graphql.worker..bundle.js' },
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.html': 'text/html; charset=utf-8',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
}

/** Reads every vendored file once; a missing one or a rewrite that no longer applies fails at start-up. */
function loadVendor(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [url, { file, rewrite }] of Object.entries(VENDOR)) {
    let body = fs.readFileSync(path.join(NODE_MODULES, file));
    if (rewrite) {
      const text = body.toString('utf8');
      if (!text.includes(rewrite[0])) throw new Error(`console: ${file} no longer imports ${rewrite[0]}; update VENDOR in console-route.ts`);
      body = Buffer.from(text.split(rewrite[0]).join(rewrite[1]), 'utf8');
    }
    assets.set(url, { body, type: contentType(file) });
  }
  return assets;
}

/** A path below the console directory, or undefined for anything that would leave it. */
function consoleFile(relative: string): string | undefined {
  const resolved = path.resolve(CONSOLE_DIR, '.' + path.posix.normalize('/' + relative));
  return resolved.startsWith(CONSOLE_DIR + path.sep) ? resolved : undefined;
}

function send(res: express.Response, asset: Asset, cache: string): void {
  res.status(200).set({ 'Content-Type': asset.type, 'Cache-Control': cache, 'X-Content-Type-Options': 'nosniff' }).send(asset.body);
}

/** The express router for `/`, `/console` and everything below it. */
export function consoleRoute(options: ConsoleRouteOptions = {}): express.Router {
  const vendor = loadVendor();
  const indexHtml: Asset = { body: fs.readFileSync(path.join(CONSOLE_DIR, 'index.html')), type: CONTENT_TYPES['.html'] };
  const router = express.Router();

  router.get('/', (_req, res) => res.redirect(302, '/console'));

  router.get('/console/demo-users.json', async (_req, res, next) => {
    try {
      // Outside the embedded demo the list is empty: the picker is not shown, and no token exists.
      const users = options.demoUsers ? await options.demoUsers() : [];
      res.status(200).set({ 'Cache-Control': 'no-store' }).json({ users });
    } catch (error) {
      next(error);
    }
  });

  router.get('/console/vendor/*path', (req, res, next) => {
    const name = ([] as string[]).concat((req.params as { path: string | string[] }).path).join('/');
    const asset = vendor.get(name);
    if (!asset) return next();
    send(res, asset, 'public, max-age=3600');
  });

  router.get(['/console', '/console/*path'], (req, res, next) => {
    const relative = req.path.slice('/console'.length).replace(/^\//, '');
    // A path with an extension is a file of the application; any other path is one of its views.
    if (path.posix.extname(relative) === '') {
      send(res, indexHtml, 'no-cache');
      return;
    }
    const file = consoleFile(relative);
    if (!file || !CONTENT_TYPES[path.extname(file)]) return next();
    fs.readFile(file, (error, body) => {
      if (error) return next();
      send(res, { body, type: contentType(file) }, 'no-cache');
    });
  });

  return router;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * yoga's `renderGraphiQL`: the GraphiQL page with every asset from the gateway and no inline script.
 * yoga's options travel in a data attribute, read by `console/graphiql/start.js`.
 */
export function graphiqlPage(options: Record<string, unknown> = {}): string {
  const title = typeof options.title === 'string' ? options.title : 'GraphiQL';
  const json = escapeHtml(JSON.stringify({ endpoint: '/graphql', ...options }));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="/console/favicon.svg">
<link rel="stylesheet" href="/console/vendor/graphiql/graphiql.css">
<link rel="stylesheet" href="/console/graphiql/graphiql-page.css">
</head>
<body class="no-focus-outline">
<div id="root" data-options="${json}">Loading ${escapeHtml(title)}…</div>
<script src="/console/graphiql/monaco-environment.js"></script>
<script src="/console/vendor/graphiql/yoga-graphiql.umd.js"></script>
<script src="/console/graphiql/start.js"></script>
</body>
</html>
`;
}
