/**
 * The audit trail at scale in the bench (`--only audit10m`): the one-filter searches, the subject
 * access report and `myDataAccess` over 10 million events (`bench/audit-10m.ts`), and the export of
 * 1 million events through `/audit/export` (`bench/audit-export-stream.ts`); with their targets and
 * their section of BENCHMARKS.md. Kept apart from `report.ts`, which only calls in here.
 */
import type { TargetVerdict } from './report.ts';
import { AUDIT10M_TARGET_P95_MS, DEFAULT_AUDIT10M_URL, runAudit10m, type Audit10mResult } from './audit-10m.ts';
import { runExportStream, type ExportStreamResult } from './audit-export-stream.ts';

export interface AuditScaleReport {
  queries?: Audit10mResult;
  queriesError?: string;
  exportJsonl?: ExportStreamResult;
  exportError?: string;
}

export const EXPORT_TARGET_EVENTS_PER_SECOND = 50_000;

/** Fills (once) and measures; failures are recorded, not thrown, like the bench's other parts. */
export async function runAuditScale(log: (line: string) => void): Promise<AuditScaleReport> {
  const url = process.env.BENCH_AUDIT10M_URL ?? DEFAULT_AUDIT10M_URL;
  const report: AuditScaleReport = {};
  try {
    report.queries = await runAudit10m(log, url);
  } catch (error) {
    report.queriesError = (error as Error).message;
    log(`  audit10m failed: ${report.queriesError}`);
    return report;
  }
  try {
    report.exportJsonl = await runExportStream(url, 1_000_000, 'jsonl');
    const e = report.exportJsonl;
    log(`  export: ${e.eventsPerSecond} events/s, RSS ${e.rssMb.before} → max ${e.rssMb.max} MB`);
  } catch (error) {
    report.exportError = (error as Error).message;
    log(`  export failed: ${report.exportError}`);
  }
  return report;
}

const int = (n: number) => Math.round(n).toLocaleString('en');

/** The issue's two scale targets; `notRun` makes the verdict of a part that did not run. */
export function auditScaleTargets(r: AuditScaleReport | undefined, notRun: (target: string, why?: string) => TargetVerdict): TargetVerdict[] {
  const target = `10 million events: auditEvents (one filter), subjectAccessReport, myDataAccess p95 ≤ ${AUDIT10M_TARGET_P95_MS} ms`;
  const exportTarget = `export of 1 million events ≥ ${int(EXPORT_TARGET_EVENTS_PER_SECOND)} events/s, flat memory`;
  if (!r) return [notRun(target, 'not run (--only audit10m)'), notRun(exportTarget, 'not run (--only audit10m)')];
  const verdicts: TargetVerdict[] = [];
  const q = r.queries;
  if (q) {
    const worst = [...q.cases].sort((a, b) => b.p95Ms - a.p95Ms)[0]!;
    const missed = q.cases.filter((c) => c.p95Ms > AUDIT10M_TARGET_P95_MS);
    verdicts.push({
      target,
      measured: `worst p95 ${worst.p95Ms} ms (${worst.name}); ${q.cases.length - missed.length} of ${q.cases.length} cases within`,
      met: missed.length === 0,
      gap: missed.length === 0 ? undefined : missed.map((c) => `${c.name} +${Math.round(c.p95Ms - AUDIT10M_TARGET_P95_MS)} ms`).join('; '),
    });
  } else verdicts.push(notRun(target, r.queriesError ? `failed: ${r.queriesError}` : undefined));
  const e = r.exportJsonl;
  if (e) {
    verdicts.push({
      target: exportTarget,
      measured: `${int(e.eventsPerSecond)} events/s, RSS ${e.rssMb.before} → max ${e.rssMb.max} MB`,
      met: e.eventsPerSecond >= EXPORT_TARGET_EVENTS_PER_SECOND && e.events >= 1_000_000,
      gap: e.eventsPerSecond >= EXPORT_TARGET_EVENTS_PER_SECOND ? undefined : `${int(EXPORT_TARGET_EVENTS_PER_SECOND - e.eventsPerSecond)} events/s short`,
    });
  } else verdicts.push(notRun(exportTarget, r.exportError ? `failed: ${r.exportError}` : undefined));
  return verdicts;
}

/** The section of BENCHMARKS.md (nothing when the part did not run). */
export function auditScaleMarkdown(r: AuditScaleReport | undefined): string[] {
  if (!r) return [];
  const parts = ['## Audit trail at 10 million events'];
  const q = r.queries;
  if (q) {
    parts.push(
      `A dedicated store (\`bench/audit-10m-fill.ts\`, ${int(q.store.events)} events, ${q.store.databaseSize}` +
        `${q.store.fillSeconds > 0 ? `, filled in this run in ${int(q.store.fillSeconds)} s` : ', filled by an earlier run and reused'}): one year of ` +
        'events in the monthly partitions, 20 streets × 40 clerks, five duties, 1 in 17 refused, 1 in 500 failed, a case reference on one ' +
        'event in three, 0–5 subjects per event out of 1 million persons (about 30 reads each) and five persons read 4,000 times each. ' +
        'Bulk-filled with SQL: the hashes are stand-ins, so this trail is **not** a verifiable chain (the ingest figures above are). ' +
        'Timed: the search functions the GraphQL resolvers call (`AuditReader.searchEvents`, `subjectAccessReport`, ' +
        '`ResidentDisclosure.page`) on the real store, without the HTTP and GraphQL layers (S5 measures those); ' +
        `${q.cases[0]?.rounds ?? 0} rounds per case after 3 warm-ups, rotating over several values; one call at a time. ` +
        `Load average ${q.load[0].toFixed(1)} at the start, ${q.load[1].toFixed(1)} at the end.`,
    );
    parts.push(
      ['| case | returns | p50 ms | p95 ms | max ms |', '|---|---|--:|--:|--:|', ...q.cases.map((c) => `| ${c.name} | ${c.returns} | ${c.p50Ms} | ${c.p95Ms} | ${c.maxMs} |`)].join('\n'),
    );
  } else if (r.queriesError) parts.push(`The 10M searches failed: ${r.queriesError}`);
  const e = r.exportJsonl;
  if (e) {
    parts.push(
      `Export: \`GET /audit/export?format=${e.format}\` of the store's ${int(e.events)} oldest events through the gateway's own route ` +
        '(`auditExportHandler`, an auditor, a real AuditLog recording the export) on an express server in the bench process, read over HTTP ' +
        `by a client that only counts lines: ${int(e.eventsPerSecond)} events/s (${(e.bytes / 1048576).toFixed(0)} MB in ${e.seconds} s); ` +
        `resident memory of that process ${e.rssMb.before} MB before, at most ${e.rssMb.max} MB during, ${e.rssMb.end} MB after (sampled every 100 ms). ` +
        `Load average ${e.load.toFixed(1)}.`,
    );
  } else if (r.exportError) parts.push(`The export failed: ${r.exportError}`);
  return parts;
}
