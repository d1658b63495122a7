/**
 * `npm start`: the gateway. With no configuration: embedded PGlite under DATA_DIR holding the store
 * and the demo sources, seeded with synthetic data on first start, and printed demo tokens.
 */
import { runGateway } from './run-gateway.ts';

runGateway().catch((error) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
