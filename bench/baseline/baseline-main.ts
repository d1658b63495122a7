/**
 * Bench-only: the "no safety" baseline gateway of `npm run bench`, run as its own program
 * (`node --import tsx bench/baseline/baseline-main.ts`, spawned by bench/gateway-process.ts). It is
 * the product's gateway process with two pipeline stages replaced through `createGateway`'s
 * `stages` seam: authorization by open access (every field in full, only the caller's street
 * scopes rows) and no audit. Everything else stays, so the ratio to the real gateway is their cost.
 * Nothing in the product imports this, and no setting of the product can do the same.
 */
import { runGateway } from '../../gateway/run-gateway.ts';
import { useOpenAccess } from './use-open-access.ts';

process.stderr.write('benchmark baseline: authorization, masking and audit are OFF in this process\n');
runGateway({ stages: { authorization: useOpenAccess(), audit: null } }).catch((error) => {
  process.stderr.write(`baseline gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
