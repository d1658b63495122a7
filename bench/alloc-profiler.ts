/**
 * Bench-only preload (`node --import ./bench/alloc-profiler.ts ...`): an allocation profile
 * of the process, objects collected by GC included, so that it shows who allocates (what the
 * garbage collector then has to clean up), not only what is still alive. SIGUSR2 starts sampling;
 * the next SIGUSR2 stops it and writes `<ALLOC_PROFILE_DIR>/alloc-<pid>.heapprofile`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector';

const dir = process.env.ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      return;
    }
    sampling = false;
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error || !result) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
