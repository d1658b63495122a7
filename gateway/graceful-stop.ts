/**
 * Draining an HTTP server on SIGTERM without losing a request a client already sent.
 *
 * Two Node behaviours would lose such requests:
 * - A connection the kernel has completed waits in the listen backlog until the event loop
 *   accepts it, and Node accepts one connection per loop turn (measured on Node 20): under load,
 *   with turns of 100 ms and more, dozens wait for seconds. Closing the listening socket resets
 *   them (the client gets ECONNRESET for a request it sent).
 * - `server.close()` (Node ≥ 19) also destroys every connection it considers idle, which includes
 *   one whose request bytes have arrived but not been parsed yet.
 *
 * So:
 * 1. Accept what is waiting: keep listening until three loop turns in a row accept nothing (at
 *    most `acceptWindowMs`), then stop listening; new clients are refused from then on. A load
 *    balancer should stop sending before that (take the instance out, e.g. on /readyz or a
 *    preStop delay); until then its requests are served rather than reset.
 * 2. Every answer from now on carries `Connection: close`, so a keep-alive connection ends with
 *    the response it is serving.
 * 3. Only after `idleGraceMs` (time for requests already on the wire to be read) are connections
 *    that still carry no request closed, then every 100 ms.
 * 4. After `forceAfterMs` whatever is left is cut.
 */
import net from 'node:net';
import type { Server } from 'node:http';

export interface DrainOptions {
  /** Longest time spent accepting connections already waiting in the backlog, ms. Default 5000. */
  readonly acceptWindowMs?: number;
  /** Wait before closing connections without a request in progress, ms. Default 1000. */
  readonly idleGraceMs?: number;
  /** Cut every remaining connection after this long, ms. Default 10000. */
  readonly forceAfterMs?: number;
  /** Called once the listening socket is closed (new clients are refused from then on). */
  readonly onListenerClosed?: (stats: { accepted: number; open: number }) => void;
  /** Called when connections without a request are closed after the grace period. */
  readonly onIdleClosed?: (stats: { open: number }) => void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves once `server` stopped listening and every connection of it has ended. */
export async function drainServer(server: Server, options: DrainOptions = {}): Promise<void> {
  const acceptWindowMs = options.acceptWindowMs ?? 5000;
  const idleGraceMs = options.idleGraceMs ?? 1000;
  const forceAfterMs = options.forceAfterMs ?? 10_000;
  server.prependListener('request', (_req, res) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });

  let accepted = 0;
  const count = () => accepted++;
  server.on('connection', count);
  const deadline = performance.now() + acceptWindowMs;
  for (let quiet = 0; quiet < 3 && performance.now() < deadline; ) {
    const before = accepted;
    await nextTurn();
    quiet = accepted === before ? quiet + 1 : 0;
  }
  server.off('connection', count);

  const closed = new Promise<void>((resolve) => {
    // net's close: stop listening and report when the last connection ends, without http's
    // immediate closeIdleConnections() (see the module comment).
    net.Server.prototype.close.call(server, () => resolve());
  });
  const open = () => new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n ?? 0)));
  if (options.onListenerClosed) options.onListenerClosed({ accepted, open: await open() });
  let idle: NodeJS.Timeout | undefined;
  const grace = setTimeout(() => {
    if (options.onIdleClosed) void open().then((n) => options.onIdleClosed!({ open: n }));
    server.closeIdleConnections();
    idle = setInterval(() => server.closeIdleConnections(), 100);
  }, idleGraceMs);
  const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
  try {
    await closed;
  } finally {
    clearTimeout(grace);
    clearTimeout(force);
    if (idle) clearInterval(idle);
  }
}
