/**
 * Sections of BENCHMARKS.md added for the performance issue (16): the gateway side by side with
 * the reference servers of ../shared/peers, the open-loop latency run, the admission workflow at
 * scale with the withdrawal on two instances, and what else ran on the machine beside the load.
 */
import { findRow, httpTable, table, type BenchReport, type HttpRow } from './report.ts';
import { peer } from './report-targets.ts';

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const int = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en'));
const perRequest = (cores: number | undefined, rps: number) => (cores === undefined || rps <= 0 ? Number.NaN : (cores / rps) * 1000);

export function peersSection(report: BenchReport): string[] {
  const run = report.peers;
  const own = (['S1P', 'S1'] as const).flatMap((id) =>
    (['safe', 'baseline'] as const).map((mode) => ({ id, mode, row: findRow(report, id, mode, id === 'S1P' ? 'peers' : 'scenarios') })),
  );
  if (!run && !own.some((o) => o.id === 'S1P' && o.row?.result)) return [];
  const parts: string[] = ['## Side by side with the peers'];
  const pgl = peer(report, 'postgraphile');
  parts.push(
    'The reference servers of `../shared/peers/` (not part of this project; see its README.md) run by their own `bench.sh` from their folder ' +
      '(results under `PEERS_OUT`, read back by `bench/peers.ts`), each server **alone**, one after another, after every gateway of the bench has stopped. ' +
      `Same load as the gateway's rows: ${report.load.connections} connections (autocannon, keep-alive, POST), ${report.load.warmupSeconds} s warm-up, ` +
      `${report.load.durationSeconds} s measured; the same request: 20 persons of street 310101002, 5 fields (idNumber name gender birthDate streetCode). ` +
      'The gateway runs its rows with autocannon inside the bench process (which also parses and checks every response); bench.sh runs the autocannon CLI ' +
      '(and checks every body during the warm-up). CPU per request is read from /proc the same way for all: the ticks of the server process over the measured ' +
      'run (from the end of the warm-up to the end of the run), divided by the requests it answered; "rest" is everything else the machine did meanwhile ' +
      '(load generator, Redis, other work).',
  );
  parts.push(
    [
      '- **Lianqiao S1, peers’ shape** (`S1P`): `people(first: 20)` with the peers’ 5 fields under `minimum-living-assistance`, whose grant reads all five in full ' +
        'with no row condition: only the street scopes the rows, nothing is masked, as with PostGraphile + RLS. Everything on: authentication (JWT), ' +
        'rate limits, operation limits, authorization, one audit event per request. This is the row the targets compare.',
      '- **Lianqiao baseline, peers’ shape**: the same request to `bench/baseline/baseline-main.ts` (authorization, masking, row conditions and audit off).',
      '- **Lianqiao S1 (issue shape)**: the benchmark’s own S1 — 5 other fields under `elderly-allowance`, with the grant’s row condition (aged 65+) and a masked field ' +
        '(`hukouAddress`); not the peers’ request, shown for reference.',
    ].join('\n'),
  );
  const rows: string[][] = [];
  for (const o of own) {
    const x = o.row?.result;
    if (!x) continue;
    const name = `Lianqiao ${o.id === 'S1P' ? 'S1, peers’ shape' : 'S1 (issue shape)'}, ${o.mode === 'safe' ? 'everything on' : 'baseline (safety off)'}`;
    rows.push([
      name,
      int(x.rps),
      fmt(x.p50),
      fmt(x.p99),
      `${x.transportErrors}/${x.non2xx}/${x.unexpected}`,
      fmt(perRequest(x.cpu?.gateway, x.rps), 2),
      fmt(perRequest(x.cpu?.postgres, x.rps), 2),
      fmt(perRequest(x.cpu ? x.cpu.redis + x.cpu.bench + x.cpu.other : undefined, x.rps), 2),
      pgl ? `${fmt(x.rps / pgl.rps, 2)}×` : '–',
    ]);
  }
  for (const p of run?.results ?? []) {
    rows.push([
      p.title,
      int(p.rps),
      fmt(p.p50),
      fmt(p.p99),
      `${p.transportErrors}/${p.non2xx}/${p.warmupMismatches ?? '?'} of ${int(p.warmupRequests)}`,
      fmt(p.cpuMsPerRequest?.server, 2) + (p.scriptCpu ? ` (${p.scriptCpu.serverCpuPct}% of a core)` : ''),
      fmt(p.cpuMsPerRequest?.postgres, 2),
      fmt(p.cpuMsPerRequest?.rest, 2) + (p.scriptCpu ? ` (load generator ${p.scriptCpu.loadgenCpuPct}%)` : ''),
      pgl ? `${fmt(p.rps / pgl.rps, 2)}×` : '–',
    ]);
  }
  parts.push(
    table(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'errors: transport / non-2xx / unexpected (peers: warm-up body mismatches)', 'server CPU ms/request', 'PostgreSQL CPU ms/request', 'rest ms/request', '/ PostGraphile (Node 20)'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  const notes: string[] = [];
  if (run?.header.length) notes.push(`bench.sh said: ${run.header.map((h) => `\`${h}\``).join('; ')}.`);
  if (report.peersBackgroundCpu !== undefined) notes.push(`Machine busy with other work just before the peers ran: ${Math.round(report.peersBackgroundCpu * 100)}%.`);
  if (run?.setupRan) notes.push('`setup.sh` ran first in this run (packages or the `peerbench` database were missing).');
  for (const s of run?.skipped ?? []) notes.push(`${s.server}: not run (${s.reason}).`);
  if (run?.error) notes.push(`Peers: ${run.error}.`);
  if (run?.resultsDir) notes.push(`bench.sh's own files of this run (autocannon JSON, checks, server logs): \`${run.resultsDir}\`.`);
  notes.push(
    'PostgreSQL CPU counts the backends of the database under test (`peerbench` for the peers, the bench’s own databases for Lianqiao) and the ' +
      'server’s background processes; another job’s queries on the same server count as rest.',
  );
  if (!run) notes.push('The peers did not run (`npm run bench -- --peers` runs them).');
  notes.push(
    'PostGraphile answers with 4 round trips per request (BEGIN, set_config, the query, COMMIT) on a pool of 10; the hand-written servers with one; ' +
      'Lianqiao with one source query, one policy-version check and the audit append (group commit). The peers read the street from an unauthenticated ' +
      '`x-street` header; Lianqiao verifies a JWT per request.',
  );
  parts.push(notes.map((n) => `- ${n}`).join('\n'));
  return parts;
}

export function openLoopSection(report: BenchReport): string[] {
  const rows = report.http.filter((r) => r.group === 'openloop');
  if (rows.length === 0) return [];
  const rate = rows[0]!.rate;
  return [
    '## Open loop: latency at a fixed rate',
    `S1, everything on, at a fixed ${rate ?? '–'} requests/s, so that latency is what a user meets at that load, not queueing made by the load ` +
      'generator itself (as in the closed-loop rows, where mean latency = clients / throughput). Same warm-up and duration as above. Two generators:',
    `- **paced** (the target’s row): request i leaves at start + i / rate, from the bench process over up to ${rows[0]!.result?.connections ?? report.load.connections} keep-alive ` +
      'connections; latency runs from the planned instant to the end of the answer, so a late send counts against the gateway.',
    '- **autocannon overallRate**: autocannon gives each connection a budget per second (`reqsMadeThisSecond`, reset once a second in its ' +
      '`lib/httpClient.js`), so every connection sends its share back to back at the start of each second: the load arrives as one burst a second, ' +
      'and its latencies are those of a closed loop during the burst. Shown for comparison with earlier figures.',
    table(
      ['generator', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors: transport / non-2xx / unexpected', 'CPU cores: gateway / PostgreSQL / Redis / load generator / other'],
      rows.map((r) => {
        const x = r.result;
        const c = x?.cpu;
        return [
          r.label ?? 'autocannon overallRate',
          x ? String(Math.round(x.rps)) : '–',
          x ? x.p50.toFixed(1) : '–',
          x ? x.p95.toFixed(1) : '–',
          x ? x.p99.toFixed(1) : '–',
          x ? x.max.toFixed(1) : '–',
          x ? `${x.transportErrors} / ${x.non2xx} / ${x.unexpected}` : '–',
          c ? [c.gateway, c.postgres, c.redis, c.bench, c.other].map((n) => n.toFixed(2)).join(' / ') : '–',
        ];
      }),
    ),
  ];
}

export function admissionSection(report: BenchReport): string[] {
  const a = report.admission;
  const rows = report.http.filter((r) => r.group === 'admission');
  if (!a && rows.length === 0 && !report.admissionError) return [];
  const parts = ['## Admission workflow at scale'];
  if (report.admissionError) parts.push(`Failed: ${report.admissionError}`);
  if (a) {
    const st = a.store;
    parts.push(
      `A second gateway store (\`<bench database>_admission\`), migrated and filled through the product's store: the demo policy files (${int(st.demoPolicyLines)} lines), ` +
        `10 synthetic duties with no standing streets, grants of them over synthetic streets through \`PolicyStore.createGrant\`, and one admitted ` +
        `delegation per (duty, street) written in bulk into the admission tables (\`duty_delegation\`, \`duty_delegation_street\`), in force for a year: ` +
        `${int(st.delegations)} delegations in force, ${int(st.delegationStreets)} admitted street answers, ${int(st.grants)} grants, ${int(st.policyLines)} grant lines in force ` +
        `(${st.prepared ? `prepared in this run, ${fmt(st.prepareSeconds)} s` : 'kept from an earlier run'}). S1 against it and against the demo's store side by side (A B B A slices), ` +
        'same sources; the demo store also holds the bench’s audit trail.',
    );
  }
  if (rows.length > 0) parts.push(admissionTable(rows));
  const w = a?.withdrawal;
  if (w?.length) {
    parts.push(
      'Withdrawal on two instances: two gateway processes (A and B) on that store and the same Redis. Each round creates a grant of duty ' +
        '`bench-withdrawal` for street 310101002 in the store, waits until B serves a read under it (and A serves one), then sends `withdrawGrant` to A as ' +
        'the dataset’s owner and, the moment A answers, the same read to B, then once more. Times are from the bench process (request sent → answer). ' +
        'A policy change bumps the store’s policy version; A reloads its policy set before it answers, and B’s next read finds the new version and ' +
        `reloads before it decides, so both times include a reload of the whole set (${int(a?.store.policyLines)} lines and the delegations), and every read ` +
        'arriving on B meanwhile waits for the same reload.',
    );
    parts.push(
      table(
        ['round', 'B served before', 'withdrawGrant on A ms', 'B’s next read ms', 'B refused it', 'B refused the one after'],
        w.map((r, i) => [String(i + 1), r.servedBefore ? 'yes' : 'NO', fmt(r.mutationMs), fmt(r.nextReadMs), r.refusedNext ? 'yes' : 'NO', r.refusedAfter ? 'yes' : 'NO']),
      ),
    );
  } else if (a?.withdrawalError) parts.push(`Withdrawal on two instances failed: ${a.withdrawalError}`);
  return parts;
}

function admissionTable(rows: HttpRow[]): string {
  return table(
    ['store', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'gateway CPU ms/request', 'PostgreSQL CPU ms/request'],
    rows.map((r) => {
      const x = r.result;
      return [
        r.label ?? '–',
        x ? int(x.rps) : '–',
        fmt(x?.p50),
        fmt(x?.p99),
        x ? `${x.transportErrors}/${x.non2xx}/${x.unexpected}` : '–',
        x ? fmt(perRequest(x.cpu?.gateway, x.rps), 2) : '–',
        x ? fmt(perRequest(x.cpu?.postgres, x.rps), 2) : '–',
      ];
    }),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

export function besideSection(report: BenchReport): string[] {
  if (!report.beside?.length) return [];
  const lines = report.beside.map((b) => {
    const list = b.processes.map((p) => `\`${p.command.replace(/`/g, "'")}\` ${fmt(p.cores * 100, 0)}%`).join('; ');
    return `- At the ${b.at}: ${list || 'nothing above 3% of a core'}.`;
  });
  return [
    '### What ran beside the load',
    'Processes other than the bench using at least 3% of a core over 2 s, sampled at the start and at the end of the run (share of one core):',
    lines.join('\n'),
  ];
}
