/**
 * `npm start`: the gateway. With no configuration: embedded PGlite under DATA_DIR holding the store
 * and the demo sources, seeded with synthetic data on first start, and printed demo tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createRuntime } from './runtime.ts';
import { createGateway } from './server.ts';
import { demoTokens } from './demo-tokens.ts';
import { createLogger } from './logger.ts';
import { gatewayHolding } from './cli/data-dir-lock.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (config.unsafeBenchBaseline) {
    logger.warn('LIANQIAO_UNSAFE_BENCH_BASELINE=1: authorization, masking and audit are OFF (benchmark baseline only)');
  }
  const pidFile = path.join(config.dataDir, 'gateway.pid');
  if (!config.databaseUrl || !config.sources.populationUrl) {
    // One process per embedded PGlite directory: refuse to open it twice.
    const holder = gatewayHolding(config.dataDir);
    if (holder) {
      process.stderr.write(`another gateway (pid ${holder}) is using ${config.dataDir}; stop it first\n`);
      process.exit(2);
    }
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(pidFile, String(process.pid));
  }

  const runtime = await createRuntime(config, {
    log: (level, message, detail) => logger[level]({ err: detail }, message),
  });
  const { app } = createGateway(runtime);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}/graphql`;
  process.stdout.write(`Lianqiao gateway listening on ${url}\n`);
  if (config.embedded && runtime.tokenSecret) {
    process.stdout.write('\nEmbedded demo mode. Demo tokens (valid 8 hours):\n');
    for (const demo of await demoTokens(runtime.tokenSecret)) {
      process.stdout.write(`\n  ${demo.label}\n  ${demo.token}\n`);
    }
    process.stdout.write(
      `\nTry:\n  curl -s ${url} -H "Authorization: Bearer <clerk token>" -H "X-Purpose: elderly-allowance" \\\n` +
        `    -H "content-type: application/json" -d '{"query":"{ people(first: 3) { totalCount edges { node { name age residenceAddress hukouAddress } } } }"}'\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping; finishing in-flight requests`);
    server.close();
    server.closeIdleConnections?.();
    const force = setTimeout(() => server.closeAllConnections?.(), 10_000);
    force.unref();
    await new Promise<void>((resolve) => server.once('close', () => resolve()));
    await runtime.close();
    if (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') === String(process.pid)) fs.rmSync(pidFile);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
