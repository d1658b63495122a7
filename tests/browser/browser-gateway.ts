/**
 * A real gateway listening on a free port of 127.0.0.1 for the browser tests (and, run directly,
 * for trying the console by hand: `npx tsx tests/browser/browser-gateway.ts [port]`).
 */
import type { Server } from 'node:http';
import { createTestGateway, type TestGateway, type TestGatewayOptions } from '../setup.ts';

/**
 * The backend the browser tests run on: embedded PGlite (with the demo users' picker), or the real
 * PostgreSQL server and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set (no picker there: the
 * demo users are an embedded-mode asset, so the tests sign in with tokens).
 */
export function browserBackend(): TestGatewayOptions {
  return { backend: process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite', redis: !!process.env.TEST_REDIS_URL };
}

export interface ListeningGateway {
  readonly gw: TestGateway;
  readonly url: string;
  close(): Promise<void>;
}

export async function listeningGateway(options: TestGatewayOptions = {}, port = 0): Promise<ListeningGateway> {
  const gw = await createTestGateway({ ...browserBackend(), ...options });
  const server: Server = await new Promise((resolve) => {
    const s = gw.gateway.app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    gw,
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gw.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await listeningGateway({ persons: 300 }, Number(process.argv[2] ?? 4710));
  process.stdout.write(`console at ${url}/console\n`);
}
