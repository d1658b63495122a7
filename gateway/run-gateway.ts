/**
 * Runs one gateway process: configuration, runtime, the HTTP server, demo tokens in embedded mode,
 * and the graceful stop. `npm start` (gateway/main.ts) runs it as it is; the benchmark's baseline
 * (bench/baseline/baseline-main.ts) runs it with pipeline stages replaced.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createRuntime } from './runtime.ts';
import { createGateway, type GatewayOptions } from './server.ts';
import { demoTokens } from './cli/demo-tokens.ts';
import { createLogger } from './logger.ts';
import { gatewayHolding } from './cli/data-dir-lock.ts';
import { isGatewayWorker, runPrimary, useClusterMetrics } from './cluster.ts';
import { drainServer } from './graceful-stop.ts';

export async function runGateway(options: GatewayOptions = {}): Promise<void> {
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
  if (config.workers > 1 && !isGatewayWorker()) {
    // WORKERS=N: this process only supervises N workers (gateway/cluster.ts).
    runPrimary(config, logger, (line) => process.stdout.write(line));
    return;
  }
  // Signals that arrive while starting are honoured once the gateway is up (then it stops at once).
  let stopHandler: ((signal: string) => void) | undefined;
  let earlySignal: string | undefined;
  const onSignal = (signal: string) => (stopHandler ? stopHandler(signal) : (earlySignal ??= signal));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
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

  const runtime = await createRuntime(config, { logger });
  if (isGatewayWorker()) useClusterMetrics(runtime.metrics);
  const { app } = createGateway(runtime, options);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}/graphql`;
  // In a cluster the primary prints the URL once all workers listen.
  if (isGatewayWorker()) logger.info(`worker listening on ${url}`);
  else process.stdout.write(`Lianqiao gateway listening on ${url}\nConsole: http://${config.host}:${port}/console\n`);
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

  // Graceful stop: no new connections; in-flight operations finish (each waits for its audit
  // commit), requests already sent included; keep-alive connections end with their last answer
  // (gateway/graceful-stop.ts); then the audit log is flushed and checkpointed and the pools
  // closed. Exit 0 only if all of that went well.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping; finishing in-flight requests`);
    const drained = drainServer(server, {
      onListenerClosed: (stats) => logger.info(stats, 'no longer accepting connections'),
      onIdleClosed: (stats) => logger.info(stats, 'closing connections without a request'),
    });
    let code = 0;
    try {
      await drained;
      await runtime.close();
      const audit = runtime.audit.stats();
      logger.info({ auditCommitted: audit.committed, auditFailed: audit.failed, auditHeadSeq: audit.headSeq }, 'stopped');
    } catch (error) {
      logger.error({ err: error }, 'stopping failed');
      code = 1;
    }
    if (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') === String(process.pid)) fs.rmSync(pidFile);
    process.exit(code);
  };
  stopHandler = (signal) => void stop(signal);
  // A worker whose primary is gone stops too.
  if (isGatewayWorker()) process.on('disconnect', () => void stop('primary gone'));
  if (earlySignal) void stop(earlySignal);
}
