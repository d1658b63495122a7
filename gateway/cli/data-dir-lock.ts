/** The embedded PGlite directory is open in one process only: the gateway writes its pid here. */
import fs from 'node:fs';
import path from 'node:path';

/** The pid of a live gateway holding `dataDir`, if any. */
export function gatewayHolding(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'gateway.pid');
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
