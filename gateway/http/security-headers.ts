/**
 * Security headers (helmet) on every HTTP answer, with one Content-Security-Policy per kind of answer:
 *
 * - The API's answers are JSON: their CSP allows nothing at all.
 * - The console's pages (`/console`, the browser application in `console/`): scripts, styles, images
 *   and fonts from the gateway itself, requests to the gateway itself, nothing inline, nothing from
 *   another origin. A page that tried to load or call anything else would be stopped by the browser.
 * - GraphiQL's page on `/graphql`: the same, except that its editor (Monaco) writes `<style>`
 *   elements at run time and runs its language services in same-origin web workers, so that page
 *   alone also allows inline styles (never inline scripts) and `worker-src 'self'`.
 *
 * Every asset is served by the gateway (gateway/http/console-route.ts), so none of these policies
 * names another origin: the console and GraphiQL work on a network with no internet.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import helmet from 'helmet';

/** A browser asking for the GraphiQL page (yoga answers such a GET with HTML). */
export function wantsGraphiQLPage(req: express.Request, graphqlPath: string): boolean {
  return req.method === 'GET' && req.path === graphqlPath && (req.get('accept') ?? '').includes('text/html');
}

/** The console's paths: the application's pages and every asset it loads. */
export function isConsolePath(path: string): boolean {
  return path === '/console' || path.startsWith('/console/');
}

/** The directives shared by the console and GraphiQL: only the gateway's own origin. */
const SELF_ONLY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  manifestSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
} as const;

/** The console's policy, as sent in `Content-Security-Policy` (exported for the tests). */
export const CONSOLE_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = SELF_ONLY;

/** GraphiQL's policy: the console's, plus Monaco's run-time styles and its same-origin workers. */
export const GRAPHIQL_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  ...SELF_ONLY,
  styleSrc: ["'self'", "'unsafe-inline'"],
  workerSrc: ["'self'"],
};

/** One policy's headers as helmet sets them: the headers it removes, then those it sets. */
interface RecordedHeaders {
  readonly removed: readonly string[];
  readonly set: readonly (readonly [string, string])[];
}

/**
 * One policy's headers, computed once: helmet runs a single time against a recorder at start-up and
 * every answer then gets the recorded headers (the same names and values helmet would set), so no
 * request pays for helmet's middleware chain and header formatting.
 */
function record(directives: Readonly<Record<string, readonly string[]>>): RecordedHeaders {
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> },
    frameguard: { action: 'deny' },
  }) as unknown as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
  const set: [string, string][] = [];
  const removed: string[] = [];
  let done = false;
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void set.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
    getHeader: () => undefined,
  };
  middleware({ method: 'GET', url: '/', headers: {} }, recorder, (error) => {
    if (error) throw error;
    done = true;
  });
  // helmet's middlewares are synchronous; if a future one were not, fail at start-up, not per request.
  if (!done) throw new TypeError('security headers: helmet did not finish synchronously');
  return { removed, set };
}

function apply(headers: RecordedHeaders, res: ServerResponse): void {
  for (const name of headers.removed) res.removeHeader(name);
  for (const [name, value] of headers.set) res.setHeader(name, value);
}

/**
 * The security headers of an answer on the GraphQL endpoint itself, for the HTTP listener that hands
 * that endpoint straight to yoga (gateway/http/app.ts): the same recorded sets the express
 * middleware applies, chosen the same way (GraphiQL's page or the API's JSON).
 */
export function graphqlSecurityHeaders(graphqlPath: string): (req: IncomingMessage, pathname: string, res: ServerResponse) => void {
  const api = record(API_CSP_DIRECTIVES);
  const graphiql = record(GRAPHIQL_CSP_DIRECTIVES);
  return (req, pathname, res) => {
    const page = req.method === 'GET' && pathname === graphqlPath && (req.headers.accept ?? '').includes('text/html');
    apply(page ? graphiql : api, res);
  };
}

/** The API's policy: JSON answers load nothing. */
const API_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] };

export function securityHeaders(graphqlPath: string): express.RequestHandler {
  const api = record(API_CSP_DIRECTIVES);
  const consolePages = record(CONSOLE_CSP_DIRECTIVES);
  const graphiql = record(GRAPHIQL_CSP_DIRECTIVES);
  return (req, res, next) => {
    apply(wantsGraphiQLPage(req, graphqlPath) ? graphiql : isConsolePath(req.path) ? consolePages : api, res);
    next();
  };
}
