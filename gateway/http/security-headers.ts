/**
 * Security headers (helmet) on every HTTP answer. The API's answers are JSON: their CSP allows
 * nothing at all. GraphiQL's page is the one exception: yoga serves it with inline scripts and
 * pulls its bundle, styles and editor workers from unpkg, so that page alone gets a CSP that
 * allows those (and only those); with no network it shows "Loading" and the API is unaffected.
 */
import type express from 'express';
import helmet from 'helmet';

/** Where yoga's GraphiQL page loads its assets from. */
const GRAPHIQL_ASSETS = 'https://unpkg.com';
const GRAPHIQL_FAVICON = 'https://raw.githubusercontent.com';

/** A browser asking for the GraphiQL page (yoga answers such a GET with HTML). */
export function wantsGraphiQLPage(req: express.Request, graphqlPath: string): boolean {
  return req.method === 'GET' && req.path === graphqlPath && (req.get('accept') ?? '').includes('text/html');
}

export function securityHeaders(graphqlPath: string): express.RequestHandler {
  const api = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    frameguard: { action: 'deny' },
  });
  const graphiql = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'", GRAPHIQL_ASSETS],
        styleSrc: ["'self'", "'unsafe-inline'", GRAPHIQL_ASSETS],
        fontSrc: ["'self'", 'data:', GRAPHIQL_ASSETS],
        imgSrc: ["'self'", 'data:', GRAPHIQL_FAVICON],
        connectSrc: ["'self'", GRAPHIQL_ASSETS],
        workerSrc: ["'self'", 'blob:'],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
  });
  return (req, res, next) => (wantsGraphiQLPage(req, graphqlPath) ? graphiql(req, res, next) : api(req, res, next));
}
